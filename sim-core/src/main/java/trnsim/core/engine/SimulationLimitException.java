package trnsim.core.engine;

/** A simulation stopped because it exceeded a configured budget (events or simulated time). */
public final class SimulationLimitException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SimulationLimitException(String message) {
    super(message);
  }

  /** The same limit, the message prefixed with the kernel that hit it (once). */
  public SimulationLimitException inKernel(String kernel) {
    String prefix = "kernel '" + kernel + "': ";
    return getMessage().startsWith("kernel '") ? this : new SimulationLimitException(prefix + getMessage());
  }
}
