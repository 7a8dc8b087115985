package trnsim.core.config;

/** Field checks used by spec records' compact constructors. */
public final class Require {
  private Require() {}

  public static <T> T present(T value, String field) {
    if (value == null) {
      throw new ConfigFieldException(field, null, "missing required key");
    }
    return value;
  }

  public static int positive(Integer value, String field) {
    present(value, field);
    if (value <= 0) {
      throw new ConfigFieldException(field, value, "must be a positive integer");
    }
    return value;
  }

  public static int atLeast(Integer value, int min, String field) {
    present(value, field);
    if (value < min) {
      throw new ConfigFieldException(field, value, "must be at least " + min);
    }
    return value;
  }

  public static int orDefault(Integer value, int dflt, int min, String field) {
    if (value == null) {
      return dflt;
    }
    return atLeast(value, min, field);
  }

  public static double positive(Double value, String field) {
    present(value, field);
    if (!(value > 0) || Double.isInfinite(value)) {
      throw new ConfigFieldException(field, value, "must be a positive finite number");
    }
    return value;
  }

  public static double fraction(Double value, double dflt, String field) {
    if (value == null) {
      return dflt;
    }
    if (!(value > 0 && value <= 1)) {
      throw new ConfigFieldException(field, value, "must be a fraction in (0, 1]");
    }
    return value;
  }

  public static void powerOfTwo(int value, String field) {
    if (Integer.bitCount(value) != 1) {
      throw new ConfigFieldException(field, value, "must be a power of two");
    }
  }
}
