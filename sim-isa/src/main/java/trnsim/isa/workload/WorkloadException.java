package trnsim.isa.workload;

/**
 * A workload that cannot be simulated as given: a malformed spec, an unknown key, a bad value, or a
 * valid request that is impossible on the target (a tile that cannot fit SBUF). The message names
 * where it came from, the key and the value.
 */
public final class WorkloadException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public WorkloadException(String source, String key, String value, String reason) {
    super((source == null ? "workload" : source)
        + (key == null ? "" : ": " + key)
        + (value == null ? "" : " = '" + value + "'")
        + ": " + reason);
  }

  public WorkloadException(String message) {
    super(message);
  }
}
