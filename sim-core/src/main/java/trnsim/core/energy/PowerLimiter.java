package trnsim.core.energy;

import java.nio.file.Path;
import trnsim.core.config.ConfigException;
import trnsim.core.config.HardwareSpec;
import trnsim.core.stats.StatsSnapshot;

/**
 * Runs a workload under the chip's power limit (TDP): when its average power per chip at full clock
 * exceeds the limit, the compute clocks (tensor, vector, scalar, gpsimd) are lowered until it fits,
 * re-simulating at each candidate clock.
 *
 * <h2>The law</h2>
 * Dynamic power is proportional to frequency at fixed voltage ({@code P = a C V^2 f}). In an
 * action-count model the energy of the work is fixed, so what a lower clock changes is time: a
 * compute-bound kernel takes {@code 1/s} as long at clock fraction {@code s}, and its dynamic power
 * falls by {@code s}. A memory-bound kernel's time is set by HBM, not by the core clock, so its
 * power hardly falls; throttling it would cost time and save little. Since the energy of the work
 * does not change with the clock, the limit fixes the run time it needs ({@code E_dyn / (limit -
 * static)}), and the limiter only has to find the clock that gives that time: at most three
 * simulations for a kernel whose clock-bound and clock-independent parts keep their proportions
 * (see {@link #run}). Static power does not scale with the clock. If even the lowest allowed clock is
 * over the limit, the result says so ({@link Result#limitMet()} false) rather than looping.
 *
 * <p>Real chips lower voltage with frequency (DVFS), which makes each operation cheaper; the
 * fixed-voltage law ignores this and so lands at a somewhat lower clock than silicon would.
 *
 * <p>Stateless apart from its settings; deterministic.
 */
public final class PowerLimiter {
  /** Simulates the workload on a (clock-scaled) hardware spec. */
  @FunctionalInterface
  public interface Simulator {
    Sample run(HardwareSpec hw);
  }

  /** What one simulation produced: simulated seconds and statistics. */
  public record Sample(double seconds, StatsSnapshot stats) {}

  /**
   * The outcome.
   *
   * @param hardware the spec the reported run used (clocks scaled)
   * @param clockFraction clock as a fraction of the config's (maximum) clock
   * @param tensorClockGhz tensor engine clock actually run
   * @param maxTensorClockGhz the config's tensor engine clock
   * @param powerLimitW the limit per chip
   * @param throttled whether the clock was lowered
   * @param limitMet whether average power per chip is at or below the limit (false only when even
   *     the lowest allowed clock cannot get there, e.g. static power alone exceeds it)
   * @param simulations how many simulations were run
   * @param sample the run at the chosen clock
   * @param energy its energy report
   */
  public record Result(
      HardwareSpec hardware,
      double clockFraction,
      double tensorClockGhz,
      double maxTensorClockGhz,
      double powerLimitW,
      boolean throttled,
      boolean limitMet,
      int simulations,
      Sample sample,
      EnergyReport energy) {

    public double seconds() {
      return sample.seconds();
    }

    /** Average power per chip. */
    public double averagePowerW() {
      return energy.averagePowerPerChipW();
    }

    public double energyJ() {
      return energy.totalEnergyJ();
    }

    /** Performance per watt: FLOP/s per W, which equals FLOP per joule. */
    public double flopsPerSecondPerWatt(double flops) {
      return energy.flopsPerJoule(flops);
    }
  }

  private final EnergyModel model;
  private final double limitW;
  private final double tolerance;
  private final int maxSimulations;
  private final double minClockFraction;

  /**
   * @param model the energy model
   * @param limitW power limit per chip
   * @param tolerance accepted band below the limit, as a fraction (0.01 = within 1%)
   * @param maxSimulations simulation budget, including the first at full clock
   * @param minClockFraction the lowest clock the limiter may choose, as a fraction of the maximum
   */
  public PowerLimiter(EnergyModel model, double limitW, double tolerance, int maxSimulations, double minClockFraction) {
    if (model == null) {
      throw new IllegalArgumentException("energy model required");
    }
    if (!(limitW > 0) || Double.isInfinite(limitW)) {
      throw new IllegalArgumentException("power limit must be positive: " + limitW);
    }
    if (!(tolerance > 0 && tolerance < 0.5)) {
      throw new IllegalArgumentException("tolerance must be in (0, 0.5): " + tolerance);
    }
    if (maxSimulations < 2) {
      throw new IllegalArgumentException("need at least 2 simulations");
    }
    if (!(minClockFraction > 0 && minClockFraction <= 1)) {
      throw new IllegalArgumentException("minimum clock fraction must be in (0, 1]: " + minClockFraction);
    }
    this.model = model;
    this.limitW = limitW;
    this.tolerance = tolerance;
    this.maxSimulations = maxSimulations;
    this.minClockFraction = minClockFraction;
  }

  /** 1% tolerance, up to 12 simulations, clock no lower than 10% of maximum. */
  public PowerLimiter(EnergyModel model, double limitW) {
    this(model, limitW, 0.01, 12, 0.1);
  }

  /** The limiter for a hardware config: its energy model and {@code chip.power.limit}. */
  public static PowerLimiter forHardware(HardwareSpec hw, Path configsRoot) {
    if (hw.chip().power() == null) {
      throw new ConfigException(hw.name(), "chip.power", null, "no power block (limit, energy_table) configured");
    }
    return new PowerLimiter(EnergyModel.forHardware(hw, configsRoot), hw.chip().power().limit().watts());
  }

  public double limitW() {
    return limitW;
  }

  public EnergyModel model() {
    return model;
  }

  private record Point(double s, HardwareSpec hw, Sample sample, EnergyReport energy) {
    double powerW() {
      return energy.averagePowerPerChipW();
    }

    double seconds() {
      return sample.seconds();
    }
  }

  /**
   * Runs {@code sim} at full clock and, if the power is over the limit, at lower clocks until it fits.
   *
   * <p>Energy per action does not depend on the clock, so the power at clock fraction {@code s} is
   * {@code static + E_dyn / T(s)}: the limit is met exactly when the run takes
   * {@code T* = E_dyn / (limit - static)}. Only {@code T(s)} needs simulating. The second run assumes
   * it is all clock-bound ({@code T(s) = T(1) / s}); the third fits {@code T(s) = A / s + B} through the
   * two runs (B the part that HBM and links set, which no clock changes) and solves {@code T(s) = T*}.
   * That is exact when the kernel's clock-bound and clock-independent parts keep their proportions,
   * so three simulations suffice; a kernel whose bottleneck changes between the clocks falls back to
   * bracketing (secant, then bisection) within the simulation budget.
   */
  public Result run(HardwareSpec hw, Simulator sim) {
    double maxGhz = ClockScaling.tensorClockGhz(hw);
    Point full = simulate(hw, 1.0, sim);
    if (full.powerW() <= limitW) {
      return result(full, maxGhz, false, true, 1);
    }
    java.util.List<Point> tried = new java.util.ArrayList<>(java.util.List.of(full));
    Point second = simulate(hw, clamp(full.s() * full.seconds() / secondsNeeded(full)), sim);
    tried.add(second);
    if (inBand(second) || second.s() <= minClockFraction && second.powerW() > limitW) {
      return result(second, maxGhz, true, second.powerW() <= limitW, 2);
    }
    double a = (second.seconds() - full.seconds()) / (1 / second.s() - 1 / full.s());
    double b = full.seconds() - a / full.s();
    double need = secondsNeeded(second);
    double s3 = a > 0 && need > b ? a / (need - b) : minClockFraction;
    if (Math.abs(clamp(s3) - second.s()) > 1e-9) {
      Point third = simulate(hw, clamp(s3), sim);
      tried.add(third);
      if (inBand(third) || third.s() <= minClockFraction && third.powerW() > limitW) {
        return result(third, maxGhz, true, third.powerW() <= limitW, 3);
      }
    }
    return search(hw, sim, tried, maxGhz);
  }

  /** Simulated seconds at which a run with {@code p}'s dynamic energy draws the target power. */
  private double secondsNeeded(Point p) {
    double target = limitW * (1 - tolerance / 2);
    double staticW = model.staticPowerW();
    if (target <= staticW) {
      return Double.POSITIVE_INFINITY;
    }
    return p.energy().dynamicTotalJ() / (p.energy().chips() * (target - staticW));
  }

  private boolean inBand(Point p) {
    return p.powerW() <= limitW && p.powerW() >= limitW * (1 - tolerance);
  }

  private double clamp(double s) {
    return Double.isFinite(s) ? Math.max(minClockFraction, Math.min(1.0, s)) : minClockFraction;
  }

  /**
   * The fallback when the two-term time law misses: brackets the clock between the closest run over
   * the limit and the closest run under it (secant, or bisection when the secant keeps moving the
   * same end), within the simulation budget.
   */
  private Result search(HardwareSpec hw, Simulator sim, java.util.List<Point> tried, double maxGhz) {
    int runs = tried.size();
    double target = limitW * (1 - tolerance / 2);
    Point over = null;
    Point previousOver = null;
    Point fits = null;
    Point previousFits = null;
    for (Point p : tried) {
      if (p.powerW() > limitW) {
        if (over == null || p.s() < over.s()) {
          previousOver = over;
          over = p;
        } else if (previousOver == null || p.s() < previousOver.s()) {
          previousOver = p;
        }
      } else if (fits == null || p.s() > fits.s()) {
        previousFits = fits;
        fits = p;
      } else if (previousFits == null || p.s() > previousFits.s()) {
        previousFits = p;
      }
    }
    while (runs < maxSimulations) {
      double s;
      if (fits == null) {
        // Still over: the power falls less than proportionally (memory-bound work). Extrapolate along the
        // measured slope of power against clock; a flat slope means the clock cannot fix it.
        double slope = previousOver == null ? 0 : (previousOver.powerW() - over.powerW()) / (previousOver.s() - over.s());
        s = slope > 1e-9 ? over.s() - (over.powerW() - target) / slope : minClockFraction;
      } else {
        // Inside the bracket, aim at the time the limit needs (see timeLawStep); bisection when that
        // estimate is not strictly inside the bracket (a time law the estimate does not hold for).
        s = timeLawStep(over, fits, previousFits);
        if (!(s > fits.s() && s < over.s())) {
          s = (fits.s() + over.s()) / 2;
        }
      }
      s = Math.max(minClockFraction, Math.min(s, over.s()));
      if (s >= over.s() || (fits != null && s <= fits.s())) {
        break; // at the minimum clock and still over, or the bracket has closed
      }
      Point p = simulate(hw, s, sim);
      runs++;
      if (p.powerW() <= limitW) {
        previousFits = fits;
        fits = p;
        if (p.powerW() >= limitW * (1 - tolerance)) {
          break;
        }
      } else {
        previousOver = over;
        over = p;
      }
      if (fits != null && over.s() - fits.s() < 1e-4) {
        break;
      }
    }
    if (fits == null) {
      // Not even the lowest clock tried fits: report the lowest clock tried.
      Point lowest = over.s() <= minClockFraction || runs >= maxSimulations ? over : simulate(hw, minClockFraction, sim);
      if (lowest != over) {
        runs++;
      }
      return result(lowest, maxGhz, true, lowest.powerW() <= limitW, runs);
    }
    return result(fits, maxGhz, true, true, runs);
  }

  /**
   * The next clock inside a bracket, from the time law rather than the power curve. Write the run
   * time as {@code T(u)} of the clock period {@code u = 1/s}: it grows at most in proportion to
   * {@code u} (only the clock-bound part stretches), so {@code T(u)/u} does not rise with {@code u}.
   * Then the run under the limit bounds the period the limit needs from above: its proportional
   * step {@code u_f Tn / T_f} (with {@code Tn} the time that meets the limit) is exact where the
   * kernel is clock-bound and otherwise stops at or beyond the root. The run over the limit bounds it
   * from below the same way ({@code u_o Tn / T_o}), and so does the chord between the two when
   * {@code T(u)} is convex (flat while memory- or latency-bound, rising once clock-bound); by
   * convexity the line through two runs under the limit, extended towards the root, is a second
   * upper bound, exact for {@code T = A u + B}. The tighter upper estimate is taken: the low-clock
   * end of the bracket is usually clock-bound, so it is nearly exact and lands just under the limit;
   * the midpoint of the bounds if they contradict each other. (The
   * secant of the power curve, used before, is thrown off by the flat part: an h100 4096^3 GEMM,
   * latency-bound at full clock, needed seven simulations with it.)
   */
  private double timeLawStep(Point over, Point fits, Point previousFits) {
    double needOver = secondsNeeded(over);
    double needFits = secondsNeeded(fits);
    if (!Double.isFinite(needOver) || !Double.isFinite(needFits)) {
      return Double.NaN;
    }
    double uo = 1 / over.s();
    double uf = 1 / fits.s();
    double lower = uo * needOver / over.seconds();
    double rise = fits.seconds() - over.seconds();
    if (rise > 0) {
      lower = Math.max(lower, uo + (needOver - over.seconds()) * (uf - uo) / rise);
    }
    double upper = uf * needFits / fits.seconds();
    if (previousFits != null) {
      double slope = (previousFits.seconds() - fits.seconds()) / (1 / previousFits.s() - uf);
      if (slope > 0) {
        upper = Math.min(upper, uf - (fits.seconds() - needFits) / slope);
      }
    }
    return 1 / (upper >= lower ? upper : (lower + upper) / 2);
  }

  private Point simulate(HardwareSpec hw, double s, Simulator sim) {
    HardwareSpec scaled = ClockScaling.scaleEngineClocks(hw, s);
    Sample sample = sim.run(scaled);
    return new Point(s, scaled, sample, model.report(sample.stats(), sample.seconds()));
  }

  private Result result(Point p, double maxGhz, boolean throttled, boolean met, int runs) {
    return new Result(p.hw(), p.s(), ClockScaling.tensorClockGhz(p.hw()), maxGhz, limitW, throttled, met, runs,
        p.sample(), p.energy());
  }
}
