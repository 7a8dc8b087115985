package trnsim.core.trace;

/**
 * Lays several composed runs end to end on one timeline: events are shifted by the span of the
 * runs before them. A system step (llm-*) simulates its layer and its head as separate workloads;
 * each starts where the previous one ended instead of at t=0.
 *
 * <p>The last {@value #RESERVED_EVENTS} events of the size guard are kept for what the caller draws
 * after the runs (a step's breakdown), so a long run cannot crowd it out.
 */
public final class SequentialTrace implements TraceSink {
  static final long RESERVED_EVENTS = 64;
  private final TraceSink out;
  private long baseTicks;

  public SequentialTrace(TraceSink out) {
    this.out = out;
  }

  /** Where the next run starts. */
  public long baseTicks() {
    return baseTicks;
  }

  @Override
  public boolean enabled() {
    return remaining() > 0;
  }

  @Override
  public void processName(int pid, String name) {
    out.processName(pid, name);
  }

  @Override
  public void trackName(int pid, int tid, String name) {
    out.trackName(pid, tid, name);
  }

  @Override
  public void slice(int pid, int tid, String name, long startTick, long endTick) {
    if (!enabled()) {
      out.dropped(1);
      return;
    }
    out.slice(pid, tid, name, startTick + baseTicks, endTick + baseTicks);
  }

  @Override
  public void counter(int pid, String name, long tick, double value) {
    if (!enabled()) {
      out.dropped(1);
      return;
    }
    out.counter(pid, name, tick + baseTicks, value);
  }

  @Override
  public void dropped(long events) {
    out.dropped(events);
  }

  @Override
  public boolean wants(long fromTick, long toTick) {
    return enabled() && out.wants(fromTick + baseTicks, toTick + baseTicks);
  }

  @Override
  public long remaining() {
    long r = out.remaining();
    return r == Long.MAX_VALUE ? r : Math.max(0, r - RESERVED_EVENTS);
  }

  @Override
  public void endOfRun(long spanTicks) {
    baseTicks = Math.addExact(baseTicks, spanTicks);
  }
}
