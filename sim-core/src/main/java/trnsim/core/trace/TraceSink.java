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
