package trnsim.core.run;

import trnsim.core.trace.TraceSink;

/**
 * How to run: a trace sink (or none), an event budget that stops runaway simulations with a
 * clear message instead of exhausting the heap, and whether kernels in a repeating steady state
 * may be extrapolated instead of simulated block by block ({@link GemmSteadyState}).
 */
public record RunOptions(TraceSink trace, long maxEvents, boolean steadyState) {
  public static final long DEFAULT_MAX_EVENTS = 500_000_000L;

  public RunOptions {
    if (trace == null) {
      trace = TraceSink.NONE;
    }
    if (maxEvents <= 0) {
      throw new IllegalArgumentException("event budget must be positive");
    }
  }

  /** Steady-state acceleration on. */
  public RunOptions(TraceSink trace, long maxEvents) {
    this(trace, maxEvents, true);
  }

  public RunOptions withSteadyState(boolean on) {
    return new RunOptions(trace, maxEvents, on);
  }

  public static RunOptions defaults() {
    return new RunOptions(TraceSink.NONE, DEFAULT_MAX_EVENTS);
  }
}
