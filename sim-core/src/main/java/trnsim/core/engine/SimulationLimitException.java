package trnsim.core.engine;

/** A simulation stopped because it exceeded a configured budget (events or simulated time). */
public final class SimulationLimitException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  /** True for the event budget (the guard on a run's cost), false for the tick range. */
  private final boolean eventBudget;

  public SimulationLimitException(String message) {
    this(message, false);
  }

  private SimulationLimitException(String message, boolean eventBudget) {
    super(message);
    this.eventBudget = eventBudget;
  }

  /** The event budget of {@code maxEvents} ran out at simulated time {@code nowTicks}. */
  static SimulationLimitException eventBudget(long maxEvents, long nowTicks) {
    return new SimulationLimitException("simulation exceeded its event budget of " + maxEvents
        + " events at simulated time " + (nowTicks / 1e6) + " us; raise --max-events or simulate a smaller workload", true);
  }

  /** An exhausted event budget with the message prefixed by the kernel that ran into it; other limits as they are. */
  public SimulationLimitException inKernel(String kernel) {
    return eventBudget && !getMessage().startsWith("kernel '")
        ? new SimulationLimitException("kernel '" + kernel + "': " + getMessage(), true) : this;
  }
}
