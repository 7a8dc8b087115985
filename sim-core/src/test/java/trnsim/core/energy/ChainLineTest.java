package trnsim.core.energy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static trnsim.core.energy.EnergyFixtures.hw;

import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.RunResult;
import trnsim.isa.DType;
import trnsim.isa.Program;

/**
 * The last chain's clock share ({@code sim.end_clock_ps}) on real kernels, against what it must be:
 * the whole run for an engine-only chain, nothing for a pure transfer, a lower bound on the run time
 * re-timed at every higher clock, and the slope of the time law where the kernel is clock-bound
 * (GemmSteadyStateTest checks it under extrapolation).
 */
class ChainLineTest {
  private static double share(RunResult r) {
    return r.stats().get("sim.end_clock_ps");
  }

  @Test
  void anEngineOnlyChainIsAllClockAndATransferNone() {
    HardwareSpec trn2 = hw("trn2");
    RunResult chains = EnergyFixtures.run(trn2, EnergyFixtures.matmulChains(trn2, DType.BF16, 16), DType.BF16);
    assertThat(share(chains)).isEqualTo(chains.stats().get("sim.end_ps"));
    RunResult copy = EnergyFixtures.run(trn2, EnergyFixtures.copy(trn2, 16L << 20), DType.BF16);
    assertThat(share(copy)).isZero();
  }

  /**
   * A trn2 1024^3 GEMM (transfers and engines both on its chains) re-timed from half clock: at every
   * higher clock tried the simulated time is at least the recorded chain's line
   * {@code T_2 - c_2 (1 - s_2 / s)}, and below half clock (where the chain stays the same) the
   * time law's slope from two runs matches the share's.
   */
  @Test
  void theLastChainRetimedIsALowerBoundAtHigherClocks() {
    HardwareSpec trn2 = hw("trn2");
    Program p = EnergyFixtures.gemm(trn2, 1024, DType.BF16);
    PowerLimiter.Simulator sim = EnergyFixtures.simulator(p, DType.BF16);
    double s2 = 0.5;
    PowerLimiter.Sample at2 = sim.run(ClockScaling.scaleEngineClocks(trn2, s2));
    double t2 = at2.seconds();
    double c2 = at2.stats().get("sim.end_clock_ps") / 1e12;
    assertThat(c2).isPositive().isLessThan(t2);
    for (double s : new double[] {0.52, 0.6, 0.75, 0.9, 1.0}) {
      double t = sim.run(ClockScaling.scaleEngineClocks(trn2, s)).seconds();
      // Up to rounding: every instruction starts on its engine's clock edge and ticks are whole picoseconds.
      assertThat(t).as("clock %s", s).isGreaterThanOrEqualTo((t2 - c2 * (1 - s2 / s)) * (1 - 1e-4));
    }
    double s3 = 0.45;
    double t3 = sim.run(ClockScaling.scaleEngineClocks(trn2, s3)).seconds();
    double slope = (t3 - t2) / (1 / s3 - 1 / s2); // seconds per unit of clock period
    assertThat(c2 * s2).as("share / period").isCloseTo(slope, within(0.05 * slope));
  }
}
