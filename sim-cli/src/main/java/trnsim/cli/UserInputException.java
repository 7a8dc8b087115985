package trnsim.cli;

/** Bad input detected by a command itself (not by a loader): reported in one line, exit code 2. */
public final class UserInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UserInputException(String message) {
    super(message);
  }
}
