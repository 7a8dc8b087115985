package trnsim.core.trace;

import java.util.ArrayList;
import java.util.List;

/**
 * Buffers the events of one kernel run so that a composed workload can place them on its own
 * timeline: each occurrence of the kernel is replayed shifted by the time at which it starts (a
 * kernel simulated once and repeated is drawn once per repeat). At most {@code capacity} slices and
 * counters are kept (names always are); the rest are counted as {@link #lost()}.
 */
public final class TraceRecording implements TraceSink {
  private record Event(char kind, int pid, int tid, String name, long startTick, long endTick, double value) {}

  private final List<Event> events = new ArrayList<>();
  private final long capacity;
  private long lost;
  private long timedKept;
  private long lastTick;

  public TraceRecording(long capacity) {
    this.capacity = capacity;
  }

  /** Events not kept because the recording was full. */
  public long lost() {
    return lost;
  }

  @Override
  public boolean enabled() {
    return timedKept < capacity;
  }

  @Override
  public void processName(int pid, String name) {
    add(new Event('P', pid, 0, name, 0, 0, 0));
  }

  @Override
  public void trackName(int pid, int tid, String name) {
    add(new Event('T', pid, tid, name, 0, 0, 0));
  }

  @Override
  public void slice(int pid, int tid, String name, long startTick, long endTick) {
    add(new Event('X', pid, tid, name, startTick, endTick, 0));
  }

  @Override
  public void counter(int pid, String name, long tick, double value) {
    add(new Event('C', pid, 0, name, tick, tick, value));
  }

  private void add(Event e) {
    boolean timed = e.kind() == 'X' || e.kind() == 'C';
    if (timed && timedKept >= capacity) {
      lost++;
      return;
    }
    if (timed) {
      timedKept++;
    }
    lastTick = Math.max(lastTick, e.endTick());
    events.add(e);
  }

  /**
   * Writes the recorded events to {@code out} shifted by {@code offsetTicks}. Process and track
   * names go through {@code names}, which writes each name once per composed trace.
   */
  public void replay(TraceSink out, long offsetTicks, NameSet names) {
    for (Event e : events) {
      switch (e.kind()) {
        case 'P' -> names.process(out, e.pid(), e.name());
        case 'T' -> names.track(out, e.pid(), e.tid(), e.name());
        case 'X' -> out.slice(e.pid(), e.tid(), e.name(), e.startTick() + offsetTicks, e.endTick() + offsetTicks);
        default -> out.counter(e.pid(), e.name(), e.startTick() + offsetTicks, e.value());
      }
    }
    if (lost > 0) {
      out.dropped(lost);
    }
  }

  /** Slices and counters (not names) one replay would write without the size guard. */
  public long timedEvents() {
    return timedKept + lost;
  }

  /** Process and track names already written to a composed trace. */
  public static final class NameSet {
    private final java.util.Set<String> seen = new java.util.HashSet<>();

    public void process(TraceSink out, int pid, String name) {
      if (seen.add("p" + pid)) {
        out.processName(pid, name);
      }
    }

    public void track(TraceSink out, int pid, int tid, String name) {
      if (seen.add("t" + pid + "/" + tid)) {
        out.trackName(pid, tid, name);
      }
    }
  }
}
