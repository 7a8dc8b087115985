package trnsim.core.run;

import trnsim.core.trace.TraceSink;

/**
 * How to run: a trace sink (or none), an event budget that stops runaway simulations with a
 * clear message instead of exhausting the heap, whether kernels in a repeating steady state may be
 * extrapolated instead of simulated block by block ({@link GemmSteadyState}), and whether a GEMM's
 * candidate tilings are searched (simulated, the fastest kept).
 */
public record RunOptions(TraceSink trace, long maxEvents, boolean steadyState, boolean searchTilings) {
  public static final long DEFAULT_MAX_EVENTS = 500_000_000L;

  public RunOptions {
    if (trace == null) {
      trace = TraceSink.NONE;
    }
    if (maxEvents <= 0) {
      throw new IllegalArgumentException("event budget must be positive");
    }
  }

  /** Steady-state acceleration and the tiling search on. */
  public RunOptions(TraceSink trace, long maxEvents) {
    this(trace, maxEvents, true, true);
  }

  /** The tiling search on; steady state as given. */
  public RunOptions(TraceSink trace, long maxEvents, boolean steadyState) {
    this(trace, maxEvents, steadyState, true);
  }

  public RunOptions withSteadyState(boolean on) {
    return new RunOptions(trace, maxEvents, on, searchTilings);
  }

  /** The same options with the tiling search off: the chooser's traffic-minimal tiling only. */
  public RunOptions withoutTilingSearch() {
    return new RunOptions(trace, maxEvents, steadyState, false);
  }

  public static RunOptions defaults() {
    return new RunOptions(TraceSink.NONE, DEFAULT_MAX_EVENTS);
  }
}
