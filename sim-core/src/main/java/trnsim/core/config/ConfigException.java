package trnsim.core.config;

/**
 * A configuration that cannot be used. Carries the file, the dotted key path and the offending
 * value so that the CLI can print one line a user can act on.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String file;
  private final String keyPath;
  private final String value;
  private final String reason;

  public ConfigException(String file, String keyPath, String value, String reason) {
    super(render(file, keyPath, value, reason));
    this.file = file;
    this.keyPath = keyPath;
    this.value = value;
    this.reason = reason;
  }

  private static String render(String file, String keyPath, String value, String reason) {
    StringBuilder sb = new StringBuilder();
    sb.append(file == null ? "<input>" : file);
    if (keyPath != null && !keyPath.isEmpty()) {
      sb.append(": ").append(keyPath);
    }
    if (value != null) {
      sb.append(" = '").append(abbreviate(value)).append('\'');
    }
    sb.append(": ").append(reason);
    return sb.toString();
  }

  static String abbreviate(String v) {
    String oneLine = v.replace('\n', ' ').replace('\r', ' ');
    return oneLine.length() > 80 ? oneLine.substring(0, 77) + "..." : oneLine;
  }

  public String file() {
    return file;
  }

  public String keyPath() {
    return keyPath;
  }

  public String value() {
    return value;
  }

  public String reason() {
    return reason;
  }
}
