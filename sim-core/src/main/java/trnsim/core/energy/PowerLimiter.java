package trnsim.core.energy;

import java.nio.file.Path;
import trnsim.core.config.ConfigException;
import trnsim.core.config.HardwareSpec;
import trnsim.core.stats.StatsSnapshot;

/**
 * Runs a workload under the chip's power limit (TDP): when its average power per chip at full clock
 * exceeds the limit, the compute clocks (tensor, vector, scalar, gpsimd) are lowered until it fits.
 *
 * <h2>The law</h2>
 * Dynamic power is proportional to frequency at fixed voltage ({@code P = a C V^2 f}). In an
 * action-count model the energy of the work is fixed, so what a lower clock changes is time: a
 * compute-bound kernel takes {@code 1/s} as long at clock fraction {@code s}, and its dynamic power
 * falls by {@code s}. A memory-bound kernel's time is set by HBM, not by the core clock, so its
 * power hardly falls; throttling it would cost time and save little. Since the energy of the work
 * does not change with the clock, the limit fixes the run time it needs ({@code T* = E_dyn / (limit -
 * static)}), and the limiter only has to find a clock that gives at least that time. The clocks it
 * chooses from are equal steps of the maximum (a DVFS table). Static power does not scale with the
 * clock. If even the lowest allowed clock is over the limit, the result says so
 * ({@link Result#limitMet()} false) rather than looping.
 *
 * <h2>Re-timing the recorded run instead of searching</h2>
 * A run's time, as a function of the clock period {@code u = 1/s}, is the longest of its causal
 * chains, each {@code a u + b}: {@code a u} the chain's clock-scaled work (engine cycles), {@code b}
 * what no core clock changes (transfers, link time). Every simulation records the clock share of the
 * chain that finished last ({@code sim.end_clock_ps}, see trnsim.core.engine.Simulation); that
 * chain's line, re-timed at a higher clock, is a lower bound on the run time there, so it proves
 * which steps fit without simulating them. The limiter therefore needs three simulations
 * ({@link Search#BOUNDED}, the default): full clock; the highest step the busiest engine's busy
 * cycles alone prove fits ({@link #busyProvenStep}); and the highest step that second run's chain
 * proves fits, which is the answer. A kernel whose last chain stays the same near the limit (its
 * clock-bound part) lands on the highest step that fits; where the chains change between the steps
 * the line is a bound, not the curve, and the answer may be a few steps lower (measured in
 * docs/performance.md). {@link Search#EXACT} continues to the highest step that fits, proven by its
 * neighbour's run over the limit, for checking.
 *
 * <p>Real chips lower voltage with frequency (DVFS), which makes each operation cheaper; the
 * fixed-voltage law ignores this and so lands at a somewhat lower clock than silicon would.
 *
 * <p>Stateless apart from its settings; deterministic.
 */
public final class PowerLimiter {
  /**
   * How far the limiter searches: {@link #BOUNDED} stops at the highest step its runs' chain lines
   * prove fits (three simulations), {@link #EXACT} at the highest step that fits (its neighbour
   * simulated over the limit), usually two or three more.
   */
  public enum Search { BOUNDED, EXACT }

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
  private final int clockSteps;
  private final int maxSimulations;
  private final int minStep;
  private final Search search;

  /** Clock steps of the default limiter: the clocks it may choose are k / 250 of the maximum. */
  public static final int CLOCK_STEPS = 250;

  /**
   * @param model the energy model
   * @param limitW power limit per chip
   * @param clockSteps the clocks the limiter may choose are {@code k / clockSteps} of the maximum
   *     (a DVFS table of equal steps; 250 steps are 9.6 MHz at 2.4 GHz)
   * @param maxSimulations simulation budget, including the first at full clock
   * @param minClockFraction the lowest clock the limiter may choose, as a fraction of the maximum
   *     (rounded up to a step)
   */
  public PowerLimiter(EnergyModel model, double limitW, int clockSteps, int maxSimulations, double minClockFraction) {
    this(model, limitW, clockSteps, maxSimulations, minClockFraction, Search.BOUNDED);
  }

  /** As above, searching as {@code search} says. */
  public PowerLimiter(EnergyModel model, double limitW, int clockSteps, int maxSimulations, double minClockFraction,
      Search search) {
    if (model == null) {
      throw new IllegalArgumentException("energy model required");
    }
    if (!(limitW > 0) || Double.isInfinite(limitW)) {
      throw new IllegalArgumentException("power limit must be positive: " + limitW);
    }
    if (clockSteps < 2 || clockSteps > 1 << 20) {
      throw new IllegalArgumentException("clock steps must be in [2, 2^20]: " + clockSteps);
    }
    if (maxSimulations < 2) {
      throw new IllegalArgumentException("need at least 2 simulations");
    }
    if (!(minClockFraction > 0 && minClockFraction <= 1)) {
      throw new IllegalArgumentException("minimum clock fraction must be in (0, 1]: " + minClockFraction);
    }
    this.model = model;
    this.limitW = limitW;
    this.clockSteps = clockSteps;
    this.maxSimulations = maxSimulations;
    this.minStep = Math.max(1, (int) Math.ceil(minClockFraction * clockSteps - 1e-9));
    this.search = search == null ? Search.BOUNDED : search;
  }

  /** {@link #CLOCK_STEPS} steps, up to 12 simulations, clock no lower than 10% of maximum, bounded search. */
  public PowerLimiter(EnergyModel model, double limitW) {
    this(model, limitW, CLOCK_STEPS, 12, 0.1);
  }

  /** This limiter searching as {@code search} says. */
  public PowerLimiter withSearch(Search s) {
    return new PowerLimiter(model, limitW, clockSteps, maxSimulations, minStep / (double) clockSteps, s);
  }

  public Search search() {
    return search;
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

  private record Point(int step, double s, HardwareSpec hw, Sample sample, EnergyReport energy) {
    double powerW() {
      return energy.averagePowerPerChipW();
    }

    double seconds() {
      return sample.seconds();
    }
  }

  /**
   * Runs {@code sim} at full clock and, if the power is over the limit, lowers the clock.
   *
   * <p>Energy per action does not depend on the clock, so the power at clock fraction {@code s} is
   * {@code static + E_dyn / T(s)}: the limit is met exactly when the run takes
   * {@code T* = E_dyn / (limit - static)}. The second run is at the busy-proven step (the busiest
   * engine's cycles alone take {@code T*} there, so it fits); the third at the highest step the
   * second run's last chain proves fits ({@link #chainProvenStep}). In {@link Search#BOUNDED} that
   * is the answer. The answer is a function of the limit alone, and it rises with the limit: a
   * higher limit starts from a higher busy-proven step, whose chain line lies above the lower one's
   * at every higher clock (the run time is convex in the period), and needs less time.
   *
   * <p>When a run the chains predicted to fit does not (a bandwidth shared differently at the new
   * clock), or in {@link Search#EXACT}, the search goes on inside the bracket between the highest
   * run that fits and the lowest over the limit until they are neighbours: the next clock from the
   * time law ({@link #timeLawStep}; while every run is over, {@link #overEstimate}), bisection when
   * the estimates stop closing in, and never below a step already proven to fit.
   */
  public Result run(HardwareSpec hw, Simulator sim) {
    double maxGhz = ClockScaling.tensorClockGhz(hw);
    Point full = simulate(hw, clockSteps, sim);
    if (full.powerW() <= limitW) {
      return result(full, maxGhz, false, true, 1);
    }
    Point over = full;
    Point previousOver = null;
    Point fits = null;
    Point previousFits = null;
    int runs = 1;
    // Every step up to this one fits: the compute engines' busy cycles alone take that long there.
    int provenFit = busyProvenStep(full);
    // The re-timed runs: the busy-proven step, then the highest step its last chain proves fits.
    int k = Math.max(minStep, Math.min(clockSteps - 1, provenFit));
    boolean predicted = false;
    for (int phase = 0; phase < 2 && runs < maxSimulations && k > (fits == null ? 0 : fits.step()) && k < over.step();
        phase++) {
      Point p = simulate(hw, k, sim);
      runs++;
      if (p.powerW() <= limitW) {
        previousFits = fits;
        fits = p;
        predicted = true;
      } else {
        previousOver = over;
        over = p;
        predicted = false;
        break; // a prediction missed: search the bracket
      }
      provenFit = Math.max(provenFit, busyProvenStep(p));
      k = Math.min(over.step() - 1, Math.max(chainProvenStep(p), provenFit));
    }
    if (search == Search.BOUNDED && fits != null && predicted) {
      return result(fits, maxGhz, true, true, runs);
    }
    return bracket(hw, sim, maxGhz, runs, over, previousOver, fits, previousFits, provenFit);
  }

  /** The search inside the bracket (see {@link #run}): fits (or null) below, over above. */
  private Result bracket(HardwareSpec hw, Simulator sim, double maxGhz, int runsSoFar, Point overStart,
      Point previousOverStart, Point fitsStart, Point previousFitsStart, int provenFitStart) {
    Point over = overStart;
    Point previousOver = previousOverStart;
    Point fits = fitsStart;
    Point previousFits = previousFitsStart;
    int runs = runsSoFar;
    int provenFit = provenFitStart;
    int sameEnd = 0;
    int lastMoved = 0;
    while (runs < maxSimulations) {
      int lo = fits == null ? minStep : fits.step() + 1;
      int hi = over.step() - 1;
      if (lo > hi) {
        break; // neighbours: fits is the highest step under the limit, or the lowest step is over
      }
      double estimate = fits == null ? overEstimate(over, previousOver) : timeLawStep(over, fits, previousFits);
      // Bisection when the estimates moved the same end of the bracket three times running (not closing in).
      boolean bisect = fits != null && sameEnd >= 3;
      int k = bisect || !Double.isFinite(estimate) ? (lo + hi + 1) / 2
          : (int) Math.max(lo, Math.min(hi, Math.floor(estimate * clockSteps + 1e-9)));
      boolean fromFloor = k < provenFit && !bisect;
      if (fromFloor) {
        // A run below the busy-proven step would only confirm a fit: start the bracket's fitting
        // end there instead. That run is not an estimate missing the root, so it does not count
        // towards bisection.
        k = Math.min(provenFit, hi);
      }
      Point p = simulate(hw, k, sim);
      runs++;
      int moved = p.powerW() <= limitW ? 1 : -1;
      if (moved > 0) {
        previousFits = fits;
        fits = p;
      } else {
        previousOver = over;
        over = p;
      }
      sameEnd = fromFloor ? 0 : bisect || moved != lastMoved ? 1 : sameEnd + 1;
      lastMoved = fromFloor ? 0 : moved;
      provenFit = Math.max(provenFit, busyProvenStep(p));
    }
    if (fits == null) {
      // Not even the lowest step tried fits: report the lowest step (simulated if not yet).
      Point lowest = over.step() <= minStep || runs >= maxSimulations ? over : simulate(hw, minStep, sim);
      if (lowest != over) {
        runs++;
      }
      return result(lowest, maxGhz, true, lowest.powerW() <= limitW, runs);
    }
    return result(fits, maxGhz, true, true, runs);
  }

  /**
   * The highest step {@code p}'s last chain proves fits. That chain took {@code T_p}, of which
   * {@code c_p} (its clock share) was engine cycles; re-timed at clock period {@code u < u_p} it takes
   * {@code T_p - c_p (1 - u / u_p)}, and the run takes at least as long as any of its chains. Where
   * that is at least the time the limit needs, the power is at most the limit. Without a recorded
   * share the whole run counts as clock-scaled, which is the time law {@code T(u) >= T_p u / u_p}.
   * Towards higher clocks an over-estimated share only lowers the line, so the bound stays on the
   * safe side; an under-estimated one (a chain whose transfers the new clock would delay) shows up
   * as a run over the limit, and the search takes over.
   */
  private int chainProvenStep(Point p) {
    double need = secondsNeeded(p);
    double t = p.seconds();
    if (!Double.isFinite(need) || !(t > 0) || need > t) {
      return 0;
    }
    Double recorded = p.sample().stats().values().get("sim.end_clock_ps");
    double share = recorded == null ? t : Math.min(t, Math.max(0, recorded / 1e12));
    if (!(share > 0)) {
      return 0;
    }
    // T_p - share (1 - s_p / s) >= need  <=>  s <= s_p share / (share - t + need)
    double s = p.s() * share / (share - t + need);
    return Math.min(clockSteps, (int) Math.floor(clockSteps * s * (1 - 1e-9)));
  }

  /**
   * The highest step proven to fit by {@code p}'s compute work alone: an engine runs one instruction
   * at a time, so a run takes at least the busiest compute engine's busy cycles at its clock, and
   * those cycles do not depend on the clock. At clock fraction {@code s} that is {@code W_p s_p / s};
   * where it is at least the time the limit needs, the power is at most the limit. 0 when the run's
   * statistics carry no busy cycles.
   */
  private int busyProvenStep(Point p) {
    double need = secondsNeeded(p);
    double work = busySeconds(p);
    if (!(work > 0) || !Double.isFinite(need) || work > p.seconds()) {
      return 0;
    }
    // Clocks are rounded to the hertz: a relative 1e-9 of margin keeps the bound on the safe side.
    return Math.min(clockSteps, (int) Math.floor(clockSteps * p.s() * work / need * (1 - 1e-9)));
  }

  /** Busiest compute engine's busy time of a run: its busy cycles (per core and engine) at the run's clocks. */
  static double busySeconds(Point p) {
    var core = p.hw().chip().core();
    java.util.Map<String, Double> hz = java.util.Map.of("tensor", (double) core.tensor().clock().hertz(),
        "vector", (double) core.vector().clock().hertz(), "scalar", (double) core.scalar().clock().hertz(),
        "gpsimd", (double) core.gpsimd().clock().hertz());
    double most = 0;
    for (var e : p.sample().stats().values().entrySet()) {
      String k = e.getKey();
      if (!k.endsWith(".busy_cycles")) {
        continue;
      }
      int end = k.length() - ".busy_cycles".length();
      Double f = hz.get(k.substring(k.lastIndexOf('.', end - 1) + 1, end));
      if (f != null && f > 0) {
        most = Math.max(most, e.getValue() / f);
      }
    }
    return most;
  }

  /** Simulated seconds at which a run with {@code p}'s dynamic energy draws the limit. */
  private double secondsNeeded(Point p) {
    double staticW = model.staticPowerW();
    if (limitW <= staticW) {
      return Double.POSITIVE_INFINITY;
    }
    return p.energy().dynamicTotalJ() / (p.energy().chips() * (limitW - staticW));
  }

  /**
   * The clock to try while every run is over the limit: {@code T(s) = T(1) / s} from one run; from
   * two, the fit {@code T(s) = A / s + B} through them, or the lowest clock when the fit has no
   * clock-bound part (a flat, latency-bound stretch): a run there is clock-bound, so the time-law
   * step from it lands near the root.
   */
  private double overEstimate(Point over, Point previousOver) {
    double need = secondsNeeded(over);
    if (!Double.isFinite(need)) {
      return 0;
    }
    if (previousOver == null) {
      return over.s() * over.seconds() / need;
    }
    double a = (over.seconds() - previousOver.seconds()) / (1 / over.s() - 1 / previousOver.s());
    double b = over.seconds() - a / over.s();
    return a > 0 && need > b ? a / (need - b) : 0;
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

  private Point simulate(HardwareSpec hw, int step, Simulator sim) {
    double s = step == clockSteps ? 1.0 : (double) step / clockSteps;
    HardwareSpec scaled = ClockScaling.scaleEngineClocks(hw, s);
    Sample sample = sim.run(scaled);
    return new Point(step, s, scaled, sample, model.report(sample.stats(), sample.seconds()));
  }

  private Result result(Point p, double maxGhz, boolean throttled, boolean met, int runs) {
    return new Result(p.hw(), p.s(), ClockScaling.tensorClockGhz(p.hw()), maxGhz, limitW, throttled, met, runs,
        p.sample(), p.energy());
  }
}
