package trnsim.core.hw;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.Targets;
import trnsim.core.stats.StatsSnapshot;
import trnsim.isa.DType;
import trnsim.isa.Program;
import trnsim.isa.lower.AttentionBackward;
import trnsim.isa.lower.AttentionLowering;
import trnsim.isa.lower.AttentionSpec;
import trnsim.isa.lower.DecodeAttention;
import trnsim.isa.lower.LayerLowering;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.lower.NormLowering;
import trnsim.isa.lower.Step;
import trnsim.isa.target.TargetSpec;

/**
 * The attention, softmax/norm and decoder-layer lowerings simulated on the shipped Trainium2
 * config: roofline sanity (never above the tensor peak or the HBM ceiling; memory-bound kernels
 * near it) and the invariants of {@link ChipModelTest#checkInvariants}. Shapes are kept small.
 */
class KernelLoweringSimTest {
  static final HardwareSpec TRN2 = ChipModelTest.hw("trn2");
  static final TargetSpec T = Targets.of(TRN2);

  static double seconds(Program p) {
    StatsSnapshot s = ChipModelTest.stats(TRN2, p);
    return s.get("sim.end_ps") * 1e-12;
  }

  static double chipPeak(DType d) {
    return T.peakFlopsPerCore(d) * T.cores();
  }

  /** max(flops / peak, bytes / sustained bandwidth): no schedule can beat it. */
  static double lowerBound(Program p, DType d) {
    return Math.max(p.flops() / chipPeak(d), p.hbmBytesMin() / T.hbmBytesPerSecond());
  }

  @Test
  void attentionForwardStaysUnderTheTensorPeak() {
    for (boolean causal : new boolean[] {false, true}) {
      AttentionSpec a = new AttentionSpec(1, 8, 2048, 2048, 128, 2, causal, DType.BF16);
      Program p = AttentionLowering.forward(T, a, 8);
      double sec = seconds(p);
      double achieved = p.flops() / sec;
      System.out.printf("attention fwd causal=%s: %.1f us, %.1f TFLOP/s (%.0f%% of %.0f)%n", causal, sec * 1e6, achieved / 1e12,
          100 * achieved / chipPeak(DType.BF16), chipPeak(DType.BF16) / 1e12);
      assertThat(achieved).isLessThanOrEqualTo(chipPeak(DType.BF16));
      assertThat(achieved).isGreaterThan(0.15 * chipPeak(DType.BF16));
    }
  }

  @Test
  void attentionHeadDim256AndBackward() {
    AttentionSpec a = new AttentionSpec(1, 4, 1024, 1024, 256, 4, true, DType.BF16);
    Program f = AttentionLowering.forward(T, a, 8);
    double fs = seconds(f);
    assertThat(f.flops() / fs).isLessThanOrEqualTo(chipPeak(DType.BF16));
    Program b = AttentionBackward.lower(T, new AttentionSpec(1, 8, 2048, 2048, 128, 2, true, DType.BF16), 8);
    double bs = seconds(b);
    System.out.printf("attention d=256 fwd: %.1f TFLOP/s; bwd d=128: %.1f us, %.1f TFLOP/s%n", f.flops() / fs / 1e12, bs * 1e6,
        b.flops() / bs / 1e12);
    assertThat(b.flops() / bs).isLessThanOrEqualTo(chipPeak(DType.BF16));
    assertThat(bs).isGreaterThanOrEqualTo(lowerBound(b, DType.BF16));
  }

  @Test
  void decodeAttentionLandsNearButNeverAboveTheHbmCeiling() {
    AttentionSpec a = new AttentionSpec(4, 32, 1, 16384, 128, 8, false, DType.BF16);
    Program p = DecodeAttention.lower(T, a, 8);
    double sec = seconds(p);
    double bw = p.hbmBytesMin() / sec;
    System.out.printf("decode ctx=16384: %.1f us, %.0f GB/s of %.0f sustained (%.0f%%)%n", sec * 1e6, bw / 1e9,
        T.hbmBytesPerSecond() / 1e9, 100 * bw / T.hbmBytesPerSecond());
    assertThat(bw).isLessThanOrEqualTo(T.hbmBytesPerSecond());
    assertThat(bw).isGreaterThanOrEqualTo(0.5 * T.hbmBytesPerSecond());
    // regression guard: the lowering reached 90% here (the O stores and q loads never block a prefetch)
    assertThat(bw).isGreaterThanOrEqualTo(0.75 * T.hbmBytesPerSecond());
  }

  @Test
  void rowKernelsAreMemoryBoundUnderTheCeiling() {
    for (String kind : new String[] {"softmax", "rmsnorm", "layernorm"}) {
      Program p = NormLowering.lower(T, kind, 8192, 4096, DType.BF16, 8);
      double sec = seconds(p);
      double bw = p.hbmBytesMin() / sec;
      System.out.printf("%s 8192x4096: %.1f us, %.0f GB/s (%.0f%% of sustained)%n", kind, sec * 1e6, bw / 1e9,
          100 * bw / T.hbmBytesPerSecond());
      assertThat(bw).isLessThanOrEqualTo(T.hbmBytesPerSecond());
      assertThat(bw).isGreaterThan(0.3 * T.hbmBytesPerSecond());
    }
  }

  @Test
  void decoderLayerIsNoFasterThanTheSumOfItsPartsLowerBounds() {
    // A small Llama-like shape keeps the run short; the structure is the same as llama3-8b.
    ModelShape m = new ModelShape("mini", 2, 1024, 8, 2, 128, 3584, 32000);
    for (String phase : new String[] {"prefill", "decode"}) {
      var steps = LayerLowering.steps(T, m, phase, phase.equals("decode") ? 8 : 1, phase.equals("decode") ? 1 : 512, 2048,
          DType.BF16);
      double total = 0;
      double bound = 0;
      for (Step s : steps) {
        double sec = seconds(s.program()) * s.repeat();
        total += sec;
        bound += lowerBound(s.program(), s.dtype()) * s.repeat();
      }
      System.out.printf("layer %s: %.1f us, lower bound %.1f us%n", phase, total * 1e6, bound * 1e6);
      assertThat(total).isGreaterThanOrEqualTo(bound);
    }
  }

  @Test
  void oddShapesLowerToValidProgramsThatRespectTheRoofline() {
    AttentionSpec[] shapes = {
      new AttentionSpec(1, 2, 200, 200, 64, 1, true, DType.BF16),     // partial Q and key tiles
      new AttentionSpec(2, 3, 130, 700, 96, 3, false, DType.BF16),    // cross lengths, odd head dim
      new AttentionSpec(1, 2, 256, 256, 192, 2, true, DType.BF16),    // two D chunks, the second partial
    };
    for (AttentionSpec a : shapes) {
      for (Program p : new Program[] {AttentionLowering.forward(T, a, 8), AttentionBackward.lower(T, a, 8)}) {
        double sec = seconds(p);
        assertThat(sec).as(p.name()).isGreaterThanOrEqualTo(lowerBound(p, DType.BF16));
      }
    }
    // dQ of 64 Q tiles x 4 heads x D=256 does not fit SBUF: the read-modify-write path in HBM
    Program rmw = AttentionBackward.lower(T, new AttentionSpec(1, 4, 8192, 8192, 256, 1, true, DType.BF16), 8);
    assertThat(rmw.notes()).anyMatch(n -> n.contains("read-modify-write"));
    double rs = seconds(rmw);
    assertThat(rs).isGreaterThanOrEqualTo(lowerBound(rmw, DType.BF16));
    assertThat(rmw.flops() / rs).isLessThanOrEqualTo(chipPeak(DType.BF16));
    AttentionSpec[] decode = {
      new AttentionSpec(1, 64, 1, 3000, 256, 1, false, DType.BF16),   // 64 heads on one kv head, D=256
      new AttentionSpec(3, 4, 1, 100, 64, 4, false, DType.BF16),      // multi-head, tiny cache
    };
    for (AttentionSpec a : decode) {
      Program p = DecodeAttention.lower(T, a, 8);
      assertThat(seconds(p)).as(p.name()).isGreaterThanOrEqualTo(lowerBound(p, DType.BF16));
    }
    for (String kind : new String[] {"softmax", "rmsnorm", "layernorm"}) {
      Program p = NormLowering.lower(T, kind, 300, 100, DType.FP32, 8);
      assertThat(seconds(p)).as(p.name()).isGreaterThanOrEqualTo(lowerBound(p, DType.BF16));
    }
  }

  @Test
  void trainingLayerRunsForwardThenBackward() {
    ModelShape m = new ModelShape("mini", 2, 512, 4, 2, 128, 1536, 32000);
    double total = 0;
    double bound = 0;
    for (Step s : LayerLowering.steps(T, m, "train", 1, 256, 0, DType.BF16)) {
      total += seconds(s.program()) * s.repeat();
      bound += lowerBound(s.program(), s.dtype()) * s.repeat();
    }
    assertThat(total).isGreaterThanOrEqualTo(bound);
  }
}
