package trnsim.core.config;

/**
 * Thrown by a spec record's constructor when one of its fields is invalid. The loader prefixes
 * {@link #field()} with the record's own key path and the file name.
 */
public final class ConfigFieldException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;
  private final String field;
  private final String value;

  public ConfigFieldException(String field, Object value, String message) {
    super(message);
    this.field = field;
    this.value = value == null ? null : String.valueOf(value);
  }

  public String field() {
    return field;
  }

  public String value() {
    return value;
  }
}
