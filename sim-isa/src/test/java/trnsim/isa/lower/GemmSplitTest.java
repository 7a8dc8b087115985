package trnsim.isa.lower;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.isa.DType;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;

/**
 * GEMMs above the resource guard run as sub-GEMMs ({@link GemmLowering#steps}): the pieces tile the
 * output exactly, so their FLOPs are the closed form 2MKN and their compulsory bytes the unsplit
 * GEMM's (A + B read once, C written once); every piece fits the guard; GEMMs that fit are left
 * whole; the instruction count the split decision uses is the count the lowering really emits.
 */
class GemmSplitTest {
  static final TargetSpec H = SmallSbufLoweringTest.H;
  static final TargetSpec T = KernelLoweringTest.T;

  static long closedFormBytes(GemmSpec g) {
    return 2 * (g.m() * g.k() + g.k() * g.n()) + 2 * g.m() * g.n();
  }

  @Test
  void theLayersGateUpProjectionSplitsIntoPiecesThatTileItExactly() {
    // Llama-3 70B gate+up projection at 2048 tokens: 2048 x 8192 x 57344 (> 8 M instructions on the H100 template)
    GemmSpec g = new GemmSpec(2048, 8192, 57344, DType.BF16, false, false);
    assertThat(GemmLowering.instructions(H, g, 132)).isGreaterThan(ProgramBuilder.MAX_INSTRUCTIONS);
    List<GemmLowering.Piece> pieces = GemmLowering.split(H, g, 132, ProgramBuilder.MAX_INSTRUCTIONS);
    assertThat(pieces.size() + pieces.get(0).copies()).isGreaterThan(2);
    long flops = 0;
    long outputs = 0;
    for (GemmLowering.Piece p : pieces) {
      assertThat(p.gemm().k()).isEqualTo(g.k());
      assertThat(GemmLowering.instructions(H, p.gemm(), 132)).isLessThanOrEqualTo(ProgramBuilder.MAX_INSTRUCTIONS);
      flops += p.copies() * p.gemm().flops();
      outputs += p.copies() * p.gemm().m() * p.gemm().n();
    }
    assertThat(flops).isEqualTo(2L * 2048 * 8192 * 57344);
    assertThat(outputs).isEqualTo(2048L * 57344);
  }

  @Test
  void splitStepsCarryTheClosedFormFlopsAndBytes() {
    // small enough to lower here; split by a low instruction limit into pieces with a remainder
    GemmSpec g = new GemmSpec(2048, 4096, 4096, DType.BF16, false, false);
    long limit = 200_000;
    List<Step> steps = GemmLowering.steps(H, "proj", g, 132, 3, limit);
    assertThat(steps).hasSizeGreaterThan(1);
    long flops = 0;
    long bytes = 0;
    for (Step s : steps) {
      assertThat(s.label()).isEqualTo("proj");
      assertThat(s.program().instructionCount()).isLessThanOrEqualTo(limit);
      assertThat(s.program().notes().get(0)).startsWith("split:");
      flops += s.program().flops() * s.repeat();
      bytes += s.program().hbmBytesMin() * s.repeat();
    }
    assertThat(flops).isEqualTo(3 * g.flops());
    // each piece's share is rounded to a whole byte
    assertThat((double) bytes).isCloseTo(3.0 * closedFormBytes(g), org.assertj.core.api.Assertions.within(3.0 * steps.size()));
  }

  @Test
  void aGemmThatFitsStaysOneKernel() {
    for (TargetSpec t : new TargetSpec[] {H, T}) {
      GemmSpec g = new GemmSpec(4096, 4096, 4096, DType.BF16, false, false);
      List<Step> steps = GemmLowering.steps(t, "g", g, t.cores(), 1);
      assertThat(steps).hasSize(1);
      assertThat(steps.get(0).program().hbmBytesMin()).isEqualTo(closedFormBytes(g));
      assertThat(steps.get(0).program().notes()).noneMatch(n -> n.startsWith("split:"));
    }
  }

  @Test
  void theCountUsedToDecideIsTheCountTheLoweringEmits() {
    for (long[] s : new long[][] {{2048, 4096, 4096}, {1000, 3000, 5000}, {4096, 8192, 1024}}) {
      GemmSpec g = new GemmSpec(s[0], s[1], s[2], DType.BF16, false, false);
      long real = GemmLowering.lower(H, g, 132).instructionCount();
      assertThat(GemmLowering.exactInstructions(H, g, 132)).as(g.toString()).isEqualTo(real);
      assertThat(GemmLowering.instructions(H, g, 132)).as(g.toString()).isGreaterThanOrEqualTo(real);
    }
  }

  @Test
  void aSingleOutputTileTooDeepToSimulateIsRejectedByTheGuard() {
    GemmSpec g = new GemmSpec(64, 1L << 32, 256, DType.BF16, false, false);
    assertThatThrownBy(() -> GemmLowering.steps(H, "deep", g, 132, 1))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("resource guard");
  }

  @Test
  void aGemmFarBeyondAnyModelIsRefusedQuicklyAndOneWellBelowTheLimitSplitsIntoFewPieces() {
    // 1.2e11 rows x 512 x 512 on the Trainium template: 9.6e8 row tiles x 1 x 4 = 3.9e9 matmuls, beyond 64 guards
    GemmSpec huge = new GemmSpec(123_456_789_012L, 512, 512, DType.BF16, false, false);
    assertThatThrownBy(() -> GemmLowering.split(T, huge, 8, ProgramBuilder.MAX_INSTRUCTIONS))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("resource guard").hasMessageContaining("smaller problem");
    // 2^24 rows: 131072 x 1 x 4 = 524288 matmuls, far below the limit; the galloping search still
    // finds pieces that fit and tile the rows exactly
    GemmSpec tall = new GemmSpec(1L << 24, 512, 512, DType.BF16, false, false);
    long limit = 100_000;
    long rows = 0;
    for (GemmLowering.Piece p : GemmLowering.split(T, tall, 8, limit)) {
      assertThat(GemmLowering.instructions(T, p.gemm(), 8, limit)).isLessThanOrEqualTo(limit);
      rows += p.copies() * p.gemm().m();
    }
    assertThat(rows).isEqualTo(1L << 24);
  }
}
