package trnsim.core.run;

import trnsim.core.trace.TraceSink;

/**
 * How to run: a trace sink (or none), an event budget that stops runaway simulations with a
 * clear message instead of exhausting the heap, whether kernels in a repeating steady state may be
 * extrapolated instead of simulated block by block ({@link GemmSteadyState}), whether a GEMM's
 * candidate tilings are searched (simulated, the fastest kept), and whether cores that run the same
 * program are simulated once per symmetric class (trnsim.core.hw.ChipModel) instead of one by one,
 * and whether the power limiter searches on to the highest clock step that fits instead of stopping at
 * the highest its runs prove fits (trnsim.core.energy.PowerLimiter.Search).
 */
public record RunOptions(TraceSink trace, long maxEvents, boolean steadyState, boolean searchTilings,
    boolean coreClasses, boolean exactPowerSearch) {
  public static final long DEFAULT_MAX_EVENTS = 500_000_000L;

  public RunOptions {
    if (trace == null) {
      trace = TraceSink.NONE;
    }
    if (maxEvents <= 0) {
      throw new IllegalArgumentException("event budget must be positive");
    }
  }

  /** The power limiter's bounded search. */
  public RunOptions(TraceSink trace, long maxEvents, boolean steadyState, boolean searchTilings, boolean coreClasses) {
    this(trace, maxEvents, steadyState, searchTilings, coreClasses, false);
  }

  /** Core classes with the steady state: off, every core and block is simulated. */
  public RunOptions(TraceSink trace, long maxEvents, boolean steadyState, boolean searchTilings) {
    this(trace, maxEvents, steadyState, searchTilings, steadyState);
  }

  /** Steady-state acceleration, core classes and the tiling search on. */
  public RunOptions(TraceSink trace, long maxEvents) {
    this(trace, maxEvents, true, true);
  }

  /** The tiling search on; steady state as given. */
  public RunOptions(TraceSink trace, long maxEvents, boolean steadyState) {
    this(trace, maxEvents, steadyState, true);
  }

  public RunOptions withSteadyState(boolean on) {
    return new RunOptions(trace, maxEvents, on, searchTilings, coreClasses, exactPowerSearch);
  }

  /** The same options with the tiling search off: the chooser's traffic-minimal tiling only. */
  public RunOptions withoutTilingSearch() {
    return new RunOptions(trace, maxEvents, steadyState, false, coreClasses, exactPowerSearch);
  }

  /** The same options with symmetric core classes on or off. */
  public RunOptions withCoreClasses(boolean on) {
    return new RunOptions(trace, maxEvents, steadyState, searchTilings, on, exactPowerSearch);
  }

  /** The same options with the power limiter's exact search on or off. */
  public RunOptions withExactPowerSearch(boolean on) {
    return new RunOptions(trace, maxEvents, steadyState, searchTilings, coreClasses, on);
  }

  public static RunOptions defaults() {
    return new RunOptions(TraceSink.NONE, DEFAULT_MAX_EVENTS);
  }
}
