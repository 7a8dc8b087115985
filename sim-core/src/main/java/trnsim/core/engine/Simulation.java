package trnsim.core.engine;

/**
 * One discrete-event simulation: a clock in integer ticks of 1 ps and one event queue. There is no
 * global state: every model holds its own {@code Simulation}, so many run side by side in one JVM.
 *
 * <h2>Clock share</h2>
 * Every event also carries its <em>clock share</em>: of the ticks on the causal chain that led to it
 * (each event scheduled by the handler of an earlier one, after a delay), how many were clock-scaled
 * work, delays that stretch in proportion to the clock period (an engine's cycles, its pipeline
 * latency). The rest (DMA transfers, descriptor issue, link time) does not change with the core
 * clock. A model schedules clock-scaled delays with {@link #scheduleClockedAt}; every other delay
 * adds nothing. At the end of a run, {@link #endClockShare} is the clock share of the chain that
 * finished last: the run time is a maximum over such chains, each {@code a u + b} in the clock
 * period {@code u} with {@code a u} its clock share, so that chain's line is a lower bound on the run
 * time at every other clock, and its slope is the run's sensitivity to the clock. The power limiter
 * uses it (trnsim.core.energy.PowerLimiter). Simplified: a shared bandwidth's completion inherits
 * the share of the event that last re-divided it, although its time also depends on when the flows
 * it shares with started.
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
  private long supersededEndShare;
  /** Clock share of the event being handled (0 before the first). */
  private long nowShare;
  /** Smallest clock share among the events handled at the latest tick. */
  private long endShare;

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

  /** The clock share of the event being handled now (see the class comment). */
  public long clockShare() {
    return nowShare;
  }

  /**
   * After a run: the smallest clock share among the events at its last tick (each the end of a chain
   * as long as the run; the smallest gives the tightest line for higher clocks).
   */
  public long endClockShare() {
    return endShare;
  }

  public long eventsProcessed() {
    return eventsProcessed;
  }

  public int pendingEvents() {
    return queue.size();
  }

  /** Schedules {@code handler} at absolute tick {@code tick} (not before now). */
  public void scheduleAt(long tick, int priority, EventHandler handler, int kind, long arg) {
    push(tick, priority, handler, kind, arg, nowShare);
  }

  /**
   * Schedules {@code handler} at {@code tick} after a clock-scaled delay (an engine's cycles): the
   * event's clock share is the current one plus the delay.
   */
  public void scheduleClockedAt(long tick, int priority, EventHandler handler, int kind, long arg) {
    push(tick, priority, handler, kind, arg, nowShare + (tick - now));
  }

  private void push(long tick, int priority, EventHandler handler, int kind, long arg, long share) {
    if (tick < now) {
      throw new IllegalStateException("cannot schedule in the past: " + tick + " < " + now);
    }
    queue.push(tick, priority, handler, kind, arg, share);
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
    scheduleReserved(tick, order, handler, kind, arg, nowShare);
  }

  /**
   * As {@link #scheduleReserved}, with the clock share given: an event decided in an earlier handler
   * and queued later keeps the share of the handler that decided it.
   */
  public void scheduleReserved(long tick, long order, EventHandler handler, int kind, long arg, long share) {
    if (tick < now) {
      throw new IllegalStateException("cannot schedule in the past: " + tick + " < " + now);
    }
    queue.pushOrdered(tick, order, handler, kind, arg, share);
  }

  /**
   * Counts an event that was due at {@code tick} but was superseded before being queued, and would
   * have done nothing when it ran: it counts against the budget and in {@link #eventsProcessed}, and
   * the run ends no earlier than its tick, exactly as if it had been queued and popped. A model that
   * re-plans often (a shared bandwidth re-divided at every flow start) keeps its superseded events out
   * of the heap this way, at no change to any result.
   */
  public void countSuperseded(long tick, long share) {
    if (eventsProcessed == maxEvents) {
      throw SimulationLimitException.eventBudget(maxEvents, now);
    }
    eventsProcessed++;
    if (tick > supersededEnd) {
      supersededEnd = tick;
      supersededEndShare = share;
    } else if (tick == supersededEnd) {
      supersededEndShare = Math.min(supersededEndShare, share);
    }
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
      endShare = q.poppedTick != now || eventsProcessed == 0 ? q.poppedShare : Math.min(endShare, q.poppedShare);
      now = q.poppedTick;
      nowShare = q.poppedShare;
      eventsProcessed++;
      q.poppedHandler.handle(q.poppedKind, q.poppedArg);
    }
    if (q.isEmpty() && supersededEnd > now && supersededEnd <= limit) {
      now = supersededEnd; // the last event the heap would have held was a superseded one
      endShare = supersededEndShare;
    }
    return !q.isEmpty();
  }
}
