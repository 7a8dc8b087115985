package trnsim.core.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.isa.DType;
import trnsim.isa.lower.GemmLowering;
import trnsim.isa.lower.GemmSpec;

/**
 * The golden set: steady-state extrapolation against the full event-by-event simulation of the same
 * kernel. Times within 0.1%, counts (FLOPs, HBM bytes, instructions, and every counter the energy
 * model reads) exact.
 */
class GemmSteadyStateTest {
  static final HardwareLoader LOADER = new HardwareLoader(Path.of(System.getProperty("trnsim.home", "..")).resolve("configs"));

  record Case(String hw, long m, long k, long n, DType dtype) {}

  static final List<Case> GOLDEN = List.of(
      new Case("trn2", 16384, 16384, 16384, DType.BF16),
      new Case("trn2", 16384, 16384, 8192, DType.FP8_E4M3),
      new Case("trn3", 16384, 16384, 16384, DType.BF16),
      new Case("trn2", 32768, 4096, 32768, DType.BF16),
      new Case("trn2", 16384, 4096, 4096, DType.BF16));

  @Test
  void acceleratedEqualsFullSimulation() {
    int accelerated = 0;
    for (Case c : GOLDEN) {
      HardwareSpec hw = LOADER.load(c.hw(), List.of()).spec();
      int cores = Targets.of(hw).cores();
      GemmSpec g = new GemmSpec(c.m(), c.k(), c.n(), c.dtype(), false, false);
      // Without the cost gate, so that kernels small enough to simulate in full here are extrapolated too.
      RunResult fast = GemmSteadyState.run(hw, g, cores, RunOptions.defaults(), false);
      System.out.println("golden " + c + (fast == null ? ": simulated in full" : ": " + fast.notes()));
      if (fast == null) {
        continue;
      }
      accelerated++;
      RunResult full = KernelSimulator.run(hw, GemmLowering.lower(Targets.of(hw), g, cores), c.dtype(), RunOptions.defaults());
      String what = c.toString();
      assertThat(fast.timeSeconds()).as(what).isCloseTo(full.timeSeconds(), within(full.timeSeconds() * 1e-3));
      assertThat(fast.flops()).as(what).isEqualTo(full.flops()).isEqualTo(g.flops());
      assertThat(fast.hbmBytes()).as(what).isEqualTo(full.hbmBytes());
      assertThat(fast.instructions()).as(what).isEqualTo(full.instructions());
      for (var e : full.stats().values().entrySet()) {
        String k = e.getKey();
        if (k.endsWith("_bytes") && !k.contains("peak") || k.contains("macs_") || k.endsWith("element_ops")
            || k.endsWith(".instructions")) {
          assertThat(fast.stats().getOrZero(k)).as(what + " " + k).isEqualTo(e.getValue());
        }
      }
      for (int i = 0; i < full.engines().size(); i++) {
        assertThat(fast.engines().get(i).busyFraction()).as(what + " " + full.engines().get(i).name())
            .isCloseTo(full.engines().get(i).busyFraction(), within(1e-3));
      }
    }
    assertThat(accelerated).as("golden kernels the accelerator took").isGreaterThanOrEqualTo(3);
  }

  @Test
  void raggedOrShortKernelsAreSimulatedInFull() {
    HardwareSpec trn2 = LOADER.load("trn2", List.of()).spec();
    // 4096^3 is 4 blocks per core: too few to gain. M = 16384 + 128 leaves a ragged core.
    assertThat(GemmSteadyState.run(trn2, new GemmSpec(4096, 4096, 4096, DType.BF16, false, false), 8, RunOptions.defaults())).isNull();
    assertThat(GemmSteadyState.run(trn2, new GemmSpec(16384 + 128, 16384, 16384, DType.BF16, false, false), 8, RunOptions.defaults())).isNull();
    String big = "gemm:m=32768,k=32768,n=32768";
    assertThat(GemmSteadyState.tryRun(trn2, big, RunOptions.defaults().withSteadyState(false))).isNull();
    assertThat(GemmSteadyState.tryRun(trn2, big + ",strategy=naive", RunOptions.defaults())).isNull();
    assertThat(GemmSteadyState.tryRun(trn2, big, RunOptions.defaults())).isNotNull();
  }
}
