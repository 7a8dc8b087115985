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
      new Case("trn2", 16384, 4096, 4096, DType.BF16),
      // Ragged grids: the busiest core has one more tile than another (M = 129 tiles over 2 cores; N = 17
      // tiles over 4), each core keeps its remainder while whole blocks are removed.
      new Case("trn2", 16384 + 128, 16384, 16384, DType.BF16),
      new Case("trn2", 16384, 4096, 16384 + 512, DType.BF16),
      // h100, K-blocked (64-deep blocks): extrapolated along K over a ragged grid of 132 SMs (256 M tiles
      // dealt 2 per core: 128 used, 4 idle), with its L2 filter; the split pieces of an h100 16384^3 GEMM
      // have this shape.
      new Case("h100", 16384, 4096, 256, DType.BF16),
      new Case("h100", 16384 + 64, 2048, 512, DType.BF16));

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
      // The last chain's clock share (the power limiter's slope) extrapolates as the end time does.
      double share = full.stats().get("sim.end_clock_ps");
      assertThat(fast.stats().get("sim.end_clock_ps")).as(what).isPositive().isCloseTo(share, within(share * 1e-3));
      // Exact; on a chip with an L2 the filter counts fractional bytes (hit fraction x bytes), summed in a
      // different order, so there to floating-point rounding.
      double rounding = hw.chip().l2() == null ? 0 : 1e-9;
      assertThat(fast.hbmBytes()).as(what).isCloseTo(full.hbmBytes(), within(rounding * full.hbmBytes()));
      assertThat(fast.instructions()).as(what).isEqualTo(full.instructions());
      for (var e : full.stats().values().entrySet()) {
        String k = e.getKey();
        if (k.endsWith("_bytes") && !k.contains("peak") || k.contains("macs_") || k.endsWith("element_ops")
            || k.endsWith(".instructions")) {
          assertThat(fast.stats().getOrZero(k)).as(what + " " + k).isCloseTo(e.getValue(), within(rounding * Math.abs(e.getValue())));
        }
      }
      for (int i = 0; i < full.engines().size(); i++) {
        assertThat(fast.engines().get(i).busyFraction()).as(what + " " + full.engines().get(i).name())
            .isCloseTo(full.engines().get(i).busyFraction(), within(1e-3));
      }
    }
    assertThat(accelerated).as("golden kernels the accelerator took").isGreaterThanOrEqualTo(6);
  }

  @Test
  void raggedOrShortKernelsAreSimulatedInFull() {
    HardwareSpec trn2 = LOADER.load("trn2", List.of()).spec();
    // 4096^3 is 4 blocks per core: too few to gain; so is M = 16384 + 128 (16 whole blocks per core, its
    // ragged remainder kept: the golden set extrapolates it with the cost gate off).
    assertThat(GemmSteadyState.run(trn2, new GemmSpec(4096, 4096, 4096, DType.BF16, false, false), 8, RunOptions.defaults())).isNull();
    assertThat(GemmSteadyState.run(trn2, new GemmSpec(16384 + 128, 16384, 16384, DType.BF16, false, false), 8, RunOptions.defaults())).isNull();
    String big = "gemm:m=32768,k=32768,n=32768";
    assertThat(GemmSteadyState.tryRun(trn2, big, RunOptions.defaults().withSteadyState(false))).isNull();
    assertThat(GemmSteadyState.tryRun(trn2, big + ",strategy=naive", RunOptions.defaults())).isNull();
    assertThat(GemmSteadyState.tryRun(trn2, big, RunOptions.defaults())).isNotNull();
  }

  /** The lowering deals ceil(tiles / grid) tiles to each core in turn (GemmLowering's slabs). */
  @Test
  void coreTilesDealsTheCeilingInTurn() {
    long[] h100m = GemmSteadyState.coreTiles(128, 12); // h100 8192^3: 128 M tiles over 12 cores
    for (int c = 0; c < 11; c++) {
      assertThat(h100m[c]).isEqualTo(11);
    }
    assertThat(h100m[11]).isEqualTo(7);
    long[] piece = GemmSteadyState.coreTiles(256, 132); // 2 each: 128 cores used, 4 idle
    assertThat(piece[127]).isEqualTo(2);
    assertThat(piece[128]).isZero();
  }

  /**
   * Removing a whole block from every core is a smaller GEMM only when the lowering deals the smaller
   * extent out the same way. 25 tiles over 12 cores: 3 each to cores 0-7, 1 to core 8, none to 9-11;
   * 12 tiles fewer (one 1-tile block per core) would have to be 2 each to 0-7, and 0 to core 8, but the
   * lowering deals 13 tiles as 2 each to cores 0-5 and 1 to core 6: refused.
   */
  @Test
  void aRemainderThatMovesBetweenCoresIsRefused() {
    long[] full = GemmSteadyState.coreTiles(25, 12);
    assertThat(full).containsExactly(3, 3, 3, 3, 3, 3, 3, 3, 1, 0, 0, 0);
    assertThat(GemmSteadyState.Plan.shiftsUniformly(full, 12, 1, 3, 2)).isFalse();
    // 12 cores, 11 of them with 11 tiles and the last with 7 (h100 8192 M, 2-tile blocks): removing one
    // block from each leaves 9 x 11 + 5 = 104 = 128 - 24 tiles, dealt 9 each and 5 to the last.
    long[] h100m = GemmSteadyState.coreTiles(128, 12);
    assertThat(GemmSteadyState.Plan.shiftsUniformly(h100m, 12, 2, 5, 4)).isTrue();
    assertThat(GemmSteadyState.coreTiles(104, 12)).containsExactly(9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 5);
    // Removing four blocks each would leave the last core with -1 tiles: refused.
    assertThat(GemmSteadyState.Plan.shiftsUniformly(h100m, 12, 2, 5, 1)).isFalse();
  }
}
