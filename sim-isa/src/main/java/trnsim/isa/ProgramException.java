package trnsim.isa;

/** An instruction program that cannot run: malformed structure, a dependency cycle, a tile that does not fit. */
public final class ProgramException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ProgramException(String message) {
    super(message);
  }
}
