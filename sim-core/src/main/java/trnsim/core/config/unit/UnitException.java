package trnsim.core.config.unit;

/** A quantity that could not be parsed; the message says why in words a user understands. */
public final class UnitException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public UnitException(String message) {
    super(message);
  }
}
