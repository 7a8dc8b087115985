package trnsim.core.trace;

/**
 * Receives what happened when, for timeline viewers. Processes are chips/cores, threads are
 * engine or DMA queue tracks. Untraced runs use {@link #NONE}, which costs one call per event.
 */
public interface TraceSink {
  /** False when nothing would be recorded, so callers can skip building names. */
  boolean enabled();

  void processName(int pid, String name);

  void trackName(int pid, int tid, String name);

  /** One instruction or transfer on one track, [startTick, endTick). */
  void slice(int pid, int tid, String name, long startTick, long endTick);

  /** A counter sample, e.g. HBM bandwidth in GB/s. */
  void counter(int pid, String name, long tick, double value);

  /** {@code events} events that will not be written (a size guard upstream cut them). */
  default void dropped(long events) {}

  /** Whether any event in [fromTick, toTick] could still be recorded (lets callers skip whole kernels). */
  default boolean wants(long fromTick, long toTick) {
    return enabled();
  }

  /** Events that can still be recorded before the size guard cuts the trace. */
  default long remaining() {
    return enabled() ? Long.MAX_VALUE : 0;
  }

  /** A composed run that started at t=0 of this sink has ended after {@code spanTicks}. */
  default void endOfRun(long spanTicks) {}

  TraceSink NONE = new TraceSink() {
    @Override
    public boolean enabled() {
      return false;
    }

    @Override
    public void processName(int pid, String name) {}

    @Override
    public void trackName(int pid, int tid, String name) {}

    @Override
    public void slice(int pid, int tid, String name, long startTick, long endTick) {}

    @Override
    public void counter(int pid, String name, long tick, double value) {}
  };
}
