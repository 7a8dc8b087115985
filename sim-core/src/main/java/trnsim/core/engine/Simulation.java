package trnsim.core.engine;

/**
 * One discrete-event simulation: a clock in integer ticks of 1 ps and one event queue. There is no
 * global state: every model holds its own {@code Simulation}, so many run side by side in one JVM.
 */
public final class Simulation {
  /** Ticks per second: the timebase is one picosecond. */
  public static final long TICKS_PER_SECOND = 1_000_000_000_000L;

  private final EventQueue queue = new EventQueue();
  private final long maxEvents;
  private long now;
  private long eventsProcessed;
  /** Latest tick of a superseded event counted but never queued ({@link #countSuperseded}). */
  private long supersededEnd;

  /** @param maxEvents stop with {@link SimulationLimitException} after this many events (a resource guard) */
  public Simulation(long maxEvents) {
    if (maxEvents <= 0) {
      throw new IllegalArgumentException("event budget must be positive");
    }
    this.maxEvents = maxEvents;
  }

  public Simulation() {
    this(Long.MAX_VALUE);
  }

  public long now() {
    return now;
  }

  public long eventsProcessed() {
    return eventsProcessed;
  }

  public int pendingEvents() {
    return queue.size();
  }

  /** Schedules {@code handler} at absolute tick {@code tick} (not before now). */
  public void scheduleAt(long tick, int priority, EventHandler handler, int kind, long arg) {
    if (tick < now) {
      throw new IllegalStateException("cannot schedule in the past: " + tick + " < " + now);
    }
    queue.push(tick, priority, handler, kind, arg);
  }

  /**
   * The tick {@code delayTicks} after now. A delay that is negative (a wrapped product upstream) or
   * that passes the last representable tick (2^63 ps, about 106 days) means a rate, bandwidth or
   * efficiency too small to simulate: a clear limit error, not a wrapped, silently wrong time.
   */
  public long after(long delayTicks) {
    if (delayTicks < 0 || delayTicks > Long.MAX_VALUE - now) {
      throw tooLong();
    }
    return now + delayTicks;
  }

  /** The error for a simulated time past the tick range. */
  public static SimulationLimitException tooLong() {
    return new SimulationLimitException("simulated time would pass 2^63 ps (about 106 days): a bandwidth, rate, "
        + "efficiency or clock in the config is too small to simulate");
  }

  /** The queue position of an event scheduled now with {@code priority}, for {@link #scheduleReserved} later. */
  public long reserve(int priority) {
    return queue.reserve(priority);
  }

  /** Schedules an event at the queue position {@link #reserve} returned (at or after now). */
  public void scheduleReserved(long tick, long order, EventHandler handler, int kind, long arg) {
    if (tick < now) {
      throw new IllegalStateException("cannot schedule in the past: " + tick + " < " + now);
    }
    queue.pushOrdered(tick, order, handler, kind, arg);
  }

  /**
   * Counts an event that was due at {@code tick} but was superseded before being queued, and would
   * have done nothing when it ran: it counts against the budget and in {@link #eventsProcessed}, and
   * the run ends no earlier than its tick, exactly as if it had been queued and popped. A model that
   * re-plans often (a shared bandwidth re-divided at every flow start) keeps its superseded events out
   * of the heap this way, at no change to any result.
   */
  public void countSuperseded(long tick) {
    if (eventsProcessed == maxEvents) {
      throw SimulationLimitException.eventBudget(maxEvents, now);
    }
    eventsProcessed++;
    supersededEnd = Math.max(supersededEnd, tick);
  }

  /**
   * Counts {@code n} events that ran elsewhere in identical copies of this simulation's models (the
   * other cores of a symmetric core class, trnsim.core.hw.ChipModel): they count against the budget
   * and in {@link #eventsProcessed} as if they had run here.
   */
  public void countReplicated(long n) {
    if (n > maxEvents - eventsProcessed) {
      throw SimulationLimitException.eventBudget(maxEvents, now);
    }
    eventsProcessed += n;
  }

  public void schedule(long delay, EventHandler handler, int kind, long arg) {
    scheduleAt(after(delay), 0, handler, kind, arg);
  }

  /** Runs until no events remain. */
  public void run() {
    runUntil(Long.MAX_VALUE);
  }

  /** Runs events with tick at most {@code limit}; returns true if events remain. */
  public boolean runUntil(long limit) {
    EventQueue q = queue;
    while (!q.isEmpty() && q.peekTick() <= limit) {
      if (eventsProcessed == maxEvents) {
        throw SimulationLimitException.eventBudget(maxEvents, now);
      }
      q.pop();
      now = q.poppedTick;
      eventsProcessed++;
      q.poppedHandler.handle(q.poppedKind, q.poppedArg);
    }
    if (q.isEmpty() && supersededEnd > now && supersededEnd <= limit) {
      now = supersededEnd; // the last event the heap would have held was a superseded one
    }
    return !q.isEmpty();
  }
}
