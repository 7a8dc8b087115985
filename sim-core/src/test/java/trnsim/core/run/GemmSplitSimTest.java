package trnsim.core.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.ModelLoader;
import trnsim.isa.DType;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.lower.GemmLowering;
import trnsim.isa.lower.GemmSpec;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.Step;
import trnsim.isa.lower.Workloads;
import trnsim.isa.workload.WorkloadSpec;

/**
 * A GEMM run as sub-GEMMs on the shipped H100 config: never faster than either roofline bound of
 * the whole GEMM, and close to the same GEMM simulated whole (the cut adds one ramp-up and drain per
 * piece and the shared operand's re-reads, nothing else); the Llama-3 70B prefill layer, which
 * exceeded the resource guard before, lowers with every kernel inside it and the closed-form GEMM
 * FLOPs.
 */
class GemmSplitSimTest {
  static final HardwareSpec H100 = LoweringSimTest.hw("h100");

  @Test
  void splitGemmRespectsTheRooflineAndStaysNearTheWholeGemm() {
    var t = Targets.of(H100);
    // ~0.92 M instructions whole; a 400 k limit cuts it into four n = 2048 pieces
    GemmSpec g = new GemmSpec(2048, 4096, 8192, DType.BF16, false, false);
    List<Step> split = GemmLowering.steps(t, "gemm", g, t.cores(), 1, 400_000);
    assertThat(split.size() + split.get(0).repeat()).isGreaterThan(2);
    WorkloadResult pieces = WorkloadRunner.run(H100, new LoweredWorkload("split", split, 0), RunOptions.defaults());
    WorkloadResult whole = WorkloadRunner.run(H100,
        new LoweredWorkload("whole", GemmLowering.steps(t, "gemm", g, t.cores(), 1), 0), RunOptions.defaults());
    double computeBound = g.flops() / pieces.peakFlopsPerSecond();
    double memoryBound = (2.0 * (g.m() * g.k() + g.k() * g.n() + g.m() * g.n())) / pieces.hbmBytesPerSecondPeak();
    assertThat(pieces.flops()).isEqualTo(g.flops());
    assertThat(pieces.timeSeconds()).isGreaterThanOrEqualTo(Math.max(computeBound, memoryBound));
    assertThat(pieces.timeSeconds() / whole.timeSeconds()).isBetween(0.97, 1.10);
  }

  @Test
  void llama70bPrefillLayerLowersOnTheH100() {
    var models = new ModelLoader(Path.of("..", "configs").toAbsolutePath().normalize());
    var t = Targets.of(H100);
    LoweredWorkload w = Workloads.lower(t, WorkloadSpec.parse("layer:model=llama3-70b,phase=prefill,batch=1,seq=2048", "test"),
        models::model);
    long gemmFlops = 0;
    for (Step s : w.steps()) {
      assertThat(s.program().instructionCount()).as(s.label()).isLessThanOrEqualTo(ProgramBuilder.MAX_INSTRUCTIONS);
      if (s.label().endsWith("_proj")) {
        gemmFlops += s.program().flops() * s.repeat();
      }
    }
    long tokens = 2048;
    long hidden = 8192;
    long qkvN = (64 + 2 * 8) * 128L;
    long ffn = 28672;
    assertThat(gemmFlops).isEqualTo(2 * tokens * (hidden * qkvN + 64 * 128L * hidden + hidden * 2 * ffn + ffn * hidden));
  }
}
