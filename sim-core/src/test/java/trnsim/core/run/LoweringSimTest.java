package trnsim.core.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.isa.lower.Workloads;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/** Lowered kernels simulated on the shipped configs, checked against rooflines and closed forms. */
class LoweringSimTest {
  static final HardwareLoader LOADER = new HardwareLoader(Path.of("..", "configs").toAbsolutePath().normalize());

  static HardwareSpec hw(String name) {
    return LOADER.load(name, List.of()).spec();
  }

  static WorkloadResult run(HardwareSpec hw, String w) {
    return WorkloadRunner.run(hw, Workloads.lower(Targets.of(hw), WorkloadSpec.parse(w, "test"), null), RunOptions.defaults());
  }

  /** Time is never below either roofline bound, so throughput is never above either ceiling. */
  static void checkRoofline(WorkloadResult r) {
    assertThat(r.achievedFlopsPerSecond()).isLessThanOrEqualTo(r.peakFlopsPerSecond() * (1 + 1e-9));
    assertThat(r.achievedHbmBytesPerSecond()).isLessThanOrEqualTo(r.hbmBytesPerSecondPeak() * (1 + 1e-9));
  }

  @Test
  void gemmsNeverBeatThePeak() {
    for (String hwName : new String[] {"trn1", "trn2", "trn3"}) {
      HardwareSpec h = hw(hwName);
      for (String w : new String[] {"gemm:m=4096,k=4096,n=4096", "gemm:m=1000,k=3000,n=700", "gemm:m=128,k=128,n=128",
          "gemm:m=2048,k=2048,n=2048,dtype=fp32", "gemm:m=64,k=8192,n=8192"}) {
        WorkloadResult r = run(h, w);
        checkRoofline(r);
        assertThat(r.flops()).isEqualTo(r.steps().get(0).result().flops());
      }
    }
  }

  @Test
  void fp8DoublesThroughputOnTrn2AndMxIsRejectedThere() {
    HardwareSpec trn2 = hw("trn2");
    WorkloadResult bf16 = run(trn2, "gemm:m=8192,k=8192,n=8192");
    WorkloadResult fp8 = run(trn2, "gemm:m=8192,k=8192,n=8192,dtype=fp8");
    assertThat(bf16.timeSeconds() / fp8.timeSeconds()).isBetween(1.6, 2.05);
    checkRoofline(fp8);
    assertThatThrownBy(() -> run(trn2, "gemm:m=512,k=512,n=512,dtype=mxfp8"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("dtype = 'mxfp8'");
    WorkloadResult mx = run(hw("trn3"), "gemm:m=8192,k=8192,n=8192,dtype=mxfp8");
    checkRoofline(mx);
  }

  @Test
  void largeBlockedGemmIsComputeBound() {
    WorkloadResult r = run(hw("trn2"), "gemm:m=8192,k=8192,n=8192");
    assertThat(r.utilization()).isGreaterThan(0.9);
    assertThat(r.bottleneck()).startsWith("tensor engine");
  }

  @Test
  void naiveTilingIsSeveralTimesSlowerThanBlocked() {
    HardwareSpec trn2 = hw("trn2");
    WorkloadResult blocked = run(trn2, "gemm:m=2048,k=2048,n=2048");
    WorkloadResult naive = run(trn2, "gemm:m=2048,k=2048,n=2048,strategy=naive");
    assertThat(naive.timeSeconds() / blocked.timeSeconds()).isGreaterThan(3.0);
    // The naive kernel reloads operands: more traffic than the compulsory minimum.
    assertThat(naive.hbmBytes()).isGreaterThan(2 * blocked.hbmBytes());
  }

  @Test
  void doublingKOfAComputeBoundGemmDoublesTime() {
    HardwareSpec trn2 = hw("trn2");
    double t1 = run(trn2, "gemm:m=4096,k=8192,n=4096").timeSeconds();
    double t2 = run(trn2, "gemm:m=4096,k=16384,n=4096").timeSeconds();
    // Twice the work cannot take much less than twice the time. Not much more either, but k=16384
    // moves 252 FLOP per HBM byte, at trn2's ridge (241): it is only just compute-bound, so it
    // reaches ~86% of peak where k=8192 (328 FLOP/byte) reaches ~95%: up to 2 x 95/86 = 2.2.
    assertThat(t2 / t1).isBetween(1.9, 2.3);
  }

  @Test
  void tileQuantizationStepsAtMultiplesOfTheTile() {
    HardwareSpec trn2 = hw("trn2");
    double below = run(trn2, "gemm:m=1000,k=4096,n=2048,cores=1").timeSeconds();
    double at = run(trn2, "gemm:m=1024,k=4096,n=2048,cores=1").timeSeconds();
    double above = run(trn2, "gemm:m=1025,k=4096,n=2048,cores=1").timeSeconds();
    // 1000 and 1024 rows need the same 8 stationary tiles; 1025 needs a ninth, costing a full tile.
    assertThat(below / at).isCloseTo(1.0, within(0.03));
    assertThat(above / at).isBetween(1.08, 1.3);
  }

  @Test
  void memoryBoundKernelsLandNearButNeverAboveTheBandwidthCeiling() {
    HardwareSpec trn2 = hw("trn2");
    for (String w : new String[] {"copy:bytes=1GiB", "elementwise:op=gelu,numel=268435456", "elementwise:op=add,numel=268435456"}) {
      WorkloadResult r = run(trn2, w);
      checkRoofline(r);
      assertThat(r.achievedHbmBytesPerSecond() / r.hbmBytesPerSecondPeak()).as(w).isGreaterThan(0.7);
      assertThat(r.bottleneck()).as(w).contains("HBM");
    }
    // Bytes are conserved: a copy reads and writes each byte once.
    assertThat(run(trn2, "copy:bytes=64MiB").hbmBytes()).isEqualTo(2.0 * 64 * 1024 * 1024);
  }

  @Test
  void badWorkloadsNameKeyAndValue() {
    HardwareSpec trn2 = hw("trn2");
    assertThatThrownBy(() -> run(trn2, "gemm:m=4096,k=4096,n=4096,nn=3")).isInstanceOf(WorkloadException.class)
        .hasMessageContaining("gemm.nn = '3'").hasMessageContaining("unknown key");
    assertThatThrownBy(() -> run(trn2, "gemm:m=-5,k=4096,n=4096")).hasMessageContaining("gemm.m = '-5'");
    assertThatThrownBy(() -> run(trn2, "gemm:m=4096,k=4096")).hasMessageContaining("gemm.n").hasMessageContaining("missing");
    assertThatThrownBy(() -> run(trn2, "gemm:m=4096,k=4096,n=4096,cores=9")).hasMessageContaining("cores = '9'");
    assertThatThrownBy(() -> run(trn2, "warp:x=1")).hasMessageContaining("unknown workload kind");
    assertThatThrownBy(() -> run(trn2, "copy:bytes=-1GiB")).hasMessageContaining("copy.bytes");
  }

  @Test
  void systolicDataflowsAreSelectable() {
    HardwareSpec ws = LOADER.load("trn2", List.of("chip.core.tensor.type=systolic")).spec();
    HardwareSpec os = LOADER.load("trn2", List.of("chip.core.tensor.type=systolic", "chip.core.tensor.dataflow=output_stationary")).spec();
    WorkloadResult a = run(ws, "gemm:m=2048,k=2048,n=2048");
    WorkloadResult b = run(os, "gemm:m=2048,k=2048,n=2048");
    WorkloadResult trn = run(hw("trn2"), "gemm:m=2048,k=2048,n=2048");
    checkRoofline(a);
    checkRoofline(b);
    // Fill and drain on every fold make the classic array slower than the pipelined Trainium engine.
    assertThat(a.timeSeconds()).isGreaterThan(trn.timeSeconds());
    assertThat(a.timeSeconds()).isNotEqualTo(b.timeSeconds());
  }
}
