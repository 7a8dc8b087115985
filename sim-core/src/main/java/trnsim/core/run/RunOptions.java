package trnsim.core.run;

import trnsim.core.trace.TraceSink;

/**
 * How to run: a trace sink (or none), an event budget that stops runaway simulations with a
 * clear message instead of exhausting the heap, and whether a GEMM's candidate tilings are searched.
 */
public record RunOptions(TraceSink trace, long maxEvents, boolean searchTilings) {
  public static final long DEFAULT_MAX_EVENTS = 500_000_000L;

  public RunOptions {
    if (trace == null) {
      trace = TraceSink.NONE;
    }
    if (maxEvents <= 0) {
      throw new IllegalArgumentException("event budget must be positive");
    }
  }

  /** With the tiling search on (a GEMM's candidate tilings are simulated and the fastest kept). */
  public RunOptions(TraceSink trace, long maxEvents) {
    this(trace, maxEvents, true);
  }

  /** The same options with the tiling search off: the chooser's traffic-minimal tiling only. */
  public RunOptions withoutTilingSearch() {
    return new RunOptions(trace, maxEvents, false);
  }

  public static RunOptions defaults() {
    return new RunOptions(TraceSink.NONE, DEFAULT_MAX_EVENTS);
  }
}
