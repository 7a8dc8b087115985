package trnsim.core.run;

import trnsim.core.trace.TraceSink;

/**
 * How to run: a trace sink (or none) and an event budget that stops runaway simulations with a
 * clear message instead of exhausting the heap.
 */
public record RunOptions(TraceSink trace, long maxEvents) {
  public static final long DEFAULT_MAX_EVENTS = 500_000_000L;

  public RunOptions {
    if (trace == null) {
      trace = TraceSink.NONE;
    }
    if (maxEvents <= 0) {
      throw new IllegalArgumentException("event budget must be positive");
    }
  }

  public static RunOptions defaults() {
    return new RunOptions(TraceSink.NONE, DEFAULT_MAX_EVENTS);
  }
}
