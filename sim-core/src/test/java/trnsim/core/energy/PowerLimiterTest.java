package trnsim.core.energy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static trnsim.core.energy.EnergyFixtures.hw;

import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareSpec;
import trnsim.isa.DType;
import trnsim.isa.Program;

class PowerLimiterTest {
  static EnergyModel model(HardwareSpec hw) {
    return EnergyModel.forHardware(hw, EnergyFixtures.CONFIGS);
  }

  @Test
  void clockScalingChangesOnlyTheFourComputeClocks() {
    HardwareSpec trn2 = hw("trn2");
    HardwareSpec half = ClockScaling.scaleEngineClocks(trn2, 0.5);
    var c = half.chip().core();
    assertThat(c.tensor().clock().hertz()).isEqualTo(1_200_000_000L);
    assertThat(c.vector().clock().hertz()).isEqualTo(480_000_000L);
    assertThat(c.scalar().clock().hertz()).isEqualTo(600_000_000L);
    assertThat(c.gpsimd().clock().hertz()).isEqualTo(600_000_000L);
    assertThat(c.dma()).isEqualTo(trn2.chip().core().dma());
    assertThat(half.chip().hbm()).isEqualTo(trn2.chip().hbm());
    assertThat(half.chip().power()).isEqualTo(trn2.chip().power());
    assertThat(half.system()).isEqualTo(trn2.system());
    assertThat(ClockScaling.scaleEngineClocks(trn2, 1.0)).isSameAs(trn2);
  }

  /** The H100 under its 700 W limit: dense bf16 matmuls are throttled, as the calibration board was (1380 MHz). */
  @Test
  void computeBoundOverTheLimitIsThrottledToWithinOnePercent() {
    HardwareSpec h100 = hw("h100");
    Program p = EnergyFixtures.matmulChains(h100, DType.BF16, 64);
    PowerLimiter limiter = PowerLimiter.forHardware(h100, EnergyFixtures.CONFIGS);
    PowerLimiter.Result r = limiter.run(h100, EnergyFixtures.simulator(p, DType.BF16));
    assertThat(r.throttled()).isTrue();
    assertThat(r.limitMet()).isTrue();
    assertThat(r.averagePowerW()).isLessThanOrEqualTo(700.0).isGreaterThanOrEqualTo(700.0 * 0.99);
    assertThat(r.maxTensorClockGhz()).isEqualTo(1.98);
    // Measured: 1380 MHz median during the 8192^3 bf16 loop. The fixed-voltage law lands near it.
    assertThat(r.tensorClockGhz()).as("throttled clock").isBetween(1.25, 1.55);
    assertThat(r.clockFraction()).isCloseTo(r.tensorClockGhz() / 1.98, within(1e-6));
    // Compute-bound (one engine's chain is the whole run, T = W u): the busy-proven step is the highest step that
    // fits, and its own chain line proves no higher step does, so the second simulation is the answer.
    assertThat(r.simulations()).isEqualTo(2);
    PowerLimiter.Result exact = limiter.withSearch(PowerLimiter.Search.EXACT).run(h100, EnergyFixtures.simulator(p, DType.BF16));
    assertThat(exact.clockFraction()).isEqualTo(r.clockFraction());
    assertThat(exact.simulations()).isEqualTo(3); // and the exact search's neighbour run shows it
    // Throughput follows the clock for a compute-bound kernel.
    double fullSeconds = EnergyFixtures.run(h100, p, DType.BF16).timeSeconds();
    assertThat(fullSeconds / r.seconds()).isCloseTo(r.clockFraction(), within(0.01));
    assertThat(r.flopsPerSecondPerWatt(p.cores().size() > 0 ? EnergyFixtures.run(h100, p, DType.BF16).flops() : 0))
        .isPositive();
  }

  @Test
  void memoryBoundUnderTheLimitIsNotThrottled() {
    HardwareSpec h100 = hw("h100");
    PowerLimiter.Result r = PowerLimiter.forHardware(h100, EnergyFixtures.CONFIGS)
        .run(h100, EnergyFixtures.simulator(EnergyFixtures.copy(h100, 256L << 20), DType.BF16));
    // Measured: the copy loop kept 1980 MHz at 540 W.
    assertThat(r.throttled()).isFalse();
    assertThat(r.simulations()).isEqualTo(1);
    assertThat(r.clockFraction()).isEqualTo(1.0);
    assertThat(r.tensorClockGhz()).isEqualTo(1.98);
    assertThat(r.averagePowerW()).isLessThan(700.0);
  }

  @Test
  void memoryBoundOverALowLimitLosesLittlePowerPerClockStep() {
    // A copy's power barely depends on the core clock, so a limit below it cannot be met by throttling:
    // the limiter reports that instead of looping.
    HardwareSpec h100 = hw("h100");
    PowerLimiter limiter = new PowerLimiter(model(h100), 300.0);
    PowerLimiter.Result r = limiter.run(h100, EnergyFixtures.simulator(EnergyFixtures.copy(h100, 64L << 20), DType.BF16));
    assertThat(r.throttled()).isTrue();
    assertThat(r.limitMet()).isFalse();
    assertThat(r.averagePowerW()).isGreaterThan(300.0);
  }

  @Test
  void mixedKernelsConvergeIntoTheBandWithinTheBudget() {
    // A blocked GEMM mixes DMA/HBM energy (clock-independent) with MACs: power is not proportional to
    // the clock, so the limiter has to search. It must still land within 1% below the limit.
    HardwareSpec trn2 = hw("trn2");
    EnergyModel m = model(trn2);
    PowerLimiter.Simulator sim = EnergyFixtures.simulator(EnergyFixtures.gemm(trn2, 1024, DType.BF16), DType.BF16);
    double full = new PowerLimiter(m, 10_000).run(trn2, sim).averagePowerW();
    PowerLimiter.Result floor = new PowerLimiter(m, 86).run(trn2, sim);
    assertThat(floor.limitMet()).as("static 85 W + HBM energy: 86 W cannot be met").isFalse();
    assertThat(floor.clockFraction()).isEqualTo(0.1);
    double lowest = floor.averagePowerW();
    for (double f : new double[] {0.8, 0.5, 0.2}) {
      double limit = lowest + f * (full - lowest);
      PowerLimiter.Result r = new PowerLimiter(m, limit).run(trn2, sim);
      assertThat(r.limitMet()).as("limit " + limit).isTrue();
      assertThat(r.averagePowerW()).as("limit " + limit).isBetween(0.99 * limit, limit);
      // Full clock, the busy-proven step, then the step its last chain proves fits.
      assertThat(r.simulations()).isLessThanOrEqualTo(3);
    }
  }

  /**
   * A kernel latency-bound at full clock (its time flat until the clock-bound part catches up, as an
   * h100 GEMM whose DMA waits hide the tensor time) then clock-bound: the time law is max(A / s, B),
   * not A / s + B, so the third run misses. The same compute-bound matmul chains with their time held
   * at least at B; energy is unchanged, so power = static + E_dyn / T and the clock that meets the
   * limit is known in closed form: s = A / T*, with T* = E_dyn / (limit - static).
   */
  @Test
  void aKernelFlatAtFullClockThenClockBoundLandsInTheBandInSixRuns() {
    HardwareSpec h100 = hw("h100");
    Program p = EnergyFixtures.matmulChains(h100, DType.BF16, 64);
    PowerLimiter.Simulator compute = EnergyFixtures.simulator(p, DType.BF16);
    double fullSeconds = compute.run(h100).seconds();
    double floorSeconds = 1.3 * fullSeconds; // flat down to s = 1 / 1.3
    PowerLimiter.Simulator kinked = h -> {
      PowerLimiter.Sample c = compute.run(h);
      return new PowerLimiter.Sample(Math.max(c.seconds(), floorSeconds), c.stats());
    };
    PowerLimiter limiter = PowerLimiter.forHardware(h100, EnergyFixtures.CONFIGS);
    PowerLimiter.Result r = limiter.run(h100, kinked);
    assertThat(r.limitMet()).isTrue();
    assertThat(r.averagePowerW()).isBetween(700.0 * 0.99, 700.0);
    // The run lands in the clock-bound part (below the kink), where time is the compute time.
    assertThat(1 / r.clockFraction()).isGreaterThan(1.3);
    assertThat(r.seconds()).isCloseTo(fullSeconds / r.clockFraction(), within(0.01 * r.seconds()));
    // Full clock, the proportional run (still flat), the A / s + B fit (far too low: the flat part reads
    // as clock-independent time), then the time-law step from the bracket's clock-bound end (the
    // secant of power against the clock, used before, needed eight: the power curve is flat, then falls), and the
    // steps closing the bracket to neighbours.
    assertThat(r.simulations()).isLessThanOrEqualTo(6);
  }

  /**
   * A chain share that under-states the clock-bound work (here half of an engine-only chain's) draws
   * a line above the real time, so the run it predicts to fit is over the limit: the bounded search
   * then searches the bracket (here already closed) and still lands on the highest step that fits, as
   * the exact one does, rather than on the run it predicted.
   */
  @Test
  void aChainThatUnderstatesTheClockWorkFallsBackToTheBracketSearch() {
    HardwareSpec h100 = hw("h100");
    PowerLimiter.Simulator compute = EnergyFixtures.simulator(EnergyFixtures.matmulChains(h100, DType.BF16, 64), DType.BF16);
    PowerLimiter.Simulator halfShare = h -> {
      PowerLimiter.Sample c = compute.run(h);
      var b = trnsim.core.stats.StatsSnapshot.builder();
      c.stats().values().forEach((k, v) -> b.put(k, k.equals("sim.end_clock_ps") ? v / 2 : v));
      return new PowerLimiter.Sample(c.seconds(), b.build());
    };
    PowerLimiter limiter = PowerLimiter.forHardware(h100, EnergyFixtures.CONFIGS);
    PowerLimiter.Result r = limiter.run(h100, halfShare);
    PowerLimiter.Result exact = limiter.withSearch(PowerLimiter.Search.EXACT).run(h100, compute);
    assertThat(r.limitMet()).isTrue();
    assertThat(r.averagePowerW()).isLessThanOrEqualTo(700.0);
    assertThat(r.clockFraction()).isEqualTo(exact.clockFraction());
    // Full clock, the busy-proven step (this kernel's answer), and the over-predicted step, which closes the bracket.
    assertThat(r.simulations()).isEqualTo(3);
  }

  @Test
  void halvingThePowerLimitNeverRaisesThroughput() {
    HardwareSpec trn2 = hw("trn2");
    EnergyModel m = model(trn2);
    Program[] programs = {
        EnergyFixtures.matmulChains(trn2, DType.FP8_E4M3, 32),
        EnergyFixtures.gemm(trn2, 1024, DType.BF16),
        EnergyFixtures.copy(trn2, 64L << 20)};
    DType[] dtypes = {DType.FP8_E4M3, DType.BF16, DType.BF16};
    for (int i = 0; i < programs.length; i++) {
      PowerLimiter.Simulator sim = EnergyFixtures.simulator(programs[i], dtypes[i]);
      double previousThroughput = Double.POSITIVE_INFINITY;
      for (double limit : new double[] {800, 400, 200, 100}) {
        PowerLimiter.Result r = new PowerLimiter(m, limit).run(trn2, sim);
        double throughput = 1.0 / r.seconds();
        assertThat(throughput).as("program " + i + " at " + limit + " W").isLessThanOrEqualTo(previousThroughput * (1 + 1e-9));
        if (r.limitMet()) {
          assertThat(r.averagePowerW()).isLessThanOrEqualTo(limit);
        }
        previousThroughput = throughput;
      }
    }
  }

  @Test
  void trainiumDesignPointDenseFp8SitsAtTheLimit() {
    // By construction of trn2.energy.yaml: dense fp8 matmuls at 2.4 GHz on all 8 cores draw about the 500 W limit
    // (a pure matmul chain has no HBM traffic, so it lands a little below).
    HardwareSpec trn2 = hw("trn2");
    PowerLimiter.Result r = PowerLimiter.forHardware(trn2, EnergyFixtures.CONFIGS)
        .run(trn2, EnergyFixtures.simulator(EnergyFixtures.matmulChains(trn2, DType.FP8_E4M3, 64), DType.FP8_E4M3));
    assertThat(r.throttled()).isFalse();
    assertThat(r.averagePowerW()).isBetween(400.0, 500.0);
  }

  /**
   * The chosen clock is the highest step whose run fits, found independently: the run one step above
   * it is over the limit. So the clock is a function of the limit alone and never falls as the limit
   * rises, and time (more clock never slower) never rises. Seeded: 25 random limits over the range
   * where a trn2 1024^3 bf16 GEMM is throttled (its power at the lowest step up to full clock), plus the limits just above and just below the power of
   * a few steps (each step's power measured by simulating it).
   */
  @Test
  void theClockIsTheHighestStepThatFitsSoItIsMonotoneInTheLimit() {
    HardwareSpec trn2 = hw("trn2");
    EnergyModel m = model(trn2);
    PowerLimiter.Simulator sim = EnergyFixtures.simulator(EnergyFixtures.gemm(trn2, 1024, DType.BF16), DType.BF16);
    double full = new PowerLimiter(m, 10_000).run(trn2, sim).averagePowerW();
    double lowest = power(m, trn2, sim, PowerLimiter.CLOCK_STEPS / 10);
    java.util.TreeSet<Double> limits = new java.util.TreeSet<>();
    java.util.Random rnd = new java.util.Random(16);
    for (int i = 0; i < 25; i++) {
      limits.add(Math.ceil(lowest) + Math.floor(rnd.nextDouble() * (full - lowest)));
    }
    for (int step : new int[] {40, 125, 200, 249}) {
      double p = power(m, trn2, sim, step);
      limits.add(p - 0.01);
      limits.add(p + 0.01);
    }
    double previousS = 0;
    double previousT = Double.POSITIVE_INFINITY;
    for (double limit : limits) {
      PowerLimiter.Result r = new PowerLimiter(m, limit).run(trn2, sim);
      PowerLimiter.Result exact = new PowerLimiter(m, limit).withSearch(PowerLimiter.Search.EXACT).run(trn2, sim);
      // The bounded search's chain lines are exact on this kernel's clock-bound part: it lands where the exact one does.
      assertThat(r.clockFraction()).as("%s W", limit).isEqualTo(exact.clockFraction());
      assertThat(r.simulations()).as("%s W", limit).isLessThanOrEqualTo(3);
      assertThat(r.limitMet()).as("%s W", limit).isTrue();
      int step = (int) Math.round(r.clockFraction() * PowerLimiter.CLOCK_STEPS);
      assertThat(r.clockFraction()).isEqualTo((double) step / PowerLimiter.CLOCK_STEPS);
      if (step < PowerLimiter.CLOCK_STEPS) {
        assertThat(power(m, trn2, sim, step + 1)).as("one step above the choice at %s W", limit).isGreaterThan(limit);
      }
      assertThat(r.clockFraction()).as("%s W", limit).isGreaterThanOrEqualTo(previousS);
      assertThat(r.seconds()).as("%s W", limit).isLessThanOrEqualTo(previousT);
      previousS = r.clockFraction();
      previousT = r.seconds();
    }
  }

  private static double power(EnergyModel m, HardwareSpec hw, PowerLimiter.Simulator sim, int step) {
    HardwareSpec scaled = ClockScaling.scaleEngineClocks(hw, (double) step / PowerLimiter.CLOCK_STEPS);
    PowerLimiter.Sample s = sim.run(scaled);
    return m.report(s.stats(), s.seconds()).averagePowerPerChipW();
  }

  @Test
  void deterministic() {
    HardwareSpec h100 = hw("h100");
    Program p = EnergyFixtures.matmulChains(h100, DType.FP8_E4M3, 16);
    PowerLimiter limiter = PowerLimiter.forHardware(h100, EnergyFixtures.CONFIGS);
    PowerLimiter.Result a = limiter.run(h100, EnergyFixtures.simulator(p, DType.FP8_E4M3));
    PowerLimiter.Result b = limiter.run(h100, EnergyFixtures.simulator(p, DType.FP8_E4M3));
    assertThat(a.clockFraction()).isEqualTo(b.clockFraction());
    assertThat(a.energyJ()).isEqualTo(b.energyJ());
  }
}
