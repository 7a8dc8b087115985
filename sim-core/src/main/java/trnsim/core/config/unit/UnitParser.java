package trnsim.core.config.unit;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses quantities written with units ("2.4 GHz", "28 MiB", "2.9 TB/s", "1.3 us", "500 W") into an
 * exact integer count of the quantity's base unit. Arithmetic is done in {@link BigDecimal} so that
 * overflow of a {@code long} and non-integral results are detected instead of silently wrapping or
 * truncating.
 */
public final class UnitParser {
  private static final Pattern QUANTITY =
      Pattern.compile("^\\s*([+-]?(?:\\d[\\d_]*)?(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)\\s*([A-Za-zµ/%]*)\\s*$");

  private UnitParser() {}

  /**
   * Parses {@code text} against {@code units} (suffix to multiplier into the base unit).
   *
   * @param what a human word for the quantity ("size", "frequency") used in error messages
   * @param allowZero whether 0 is a legal value (latencies may be zero, sizes may not)
   * @return the value in the base unit, rounded to the nearest integer base unit
   * @throws UnitException with a message that names the problem, never the stack
   */
  static long parse(String text, String what, Map<String, BigDecimal> units, String example,
      boolean allowZero) {
    return parse(text, what, units, example, allowZero, null);
  }

  /** Longest quantity text parsed; longer text is refused at once (a 1 MB number took seconds). */
  static final int MAX_CHARS = 64;

  /**
   * As {@link #parse(String, String, Map, String, boolean)}; {@code bareUnit} is the unit of a bare
   * whole number (bytes for sizes), or null when a bare number is ambiguous and needs a unit.
   */
  static long parse(String text, String what, Map<String, BigDecimal> units, String example,
      boolean allowZero, String bareUnit) {
    if (text == null || text.isBlank()) {
      throw new UnitException("empty " + what + "; expected something like '" + example + "'");
    }
    if (text.length() > MAX_CHARS) {
      throw new UnitException("not a " + what + " (" + text.length() + " characters); expected something like '" + example + "'");
    }
    Matcher m = QUANTITY.matcher(text);
    if (!m.matches() || m.group(1).isEmpty() || m.group(1).equals("+") || m.group(1).equals("-")) {
      throw new UnitException("not a " + what + "; expected something like '" + example + "'");
    }
    String unit = m.group(2);
    if (unit.isEmpty() && bareUnit != null && m.group(1).matches("[+-]?[\\d_]+")) {
      unit = bareUnit;
    }
    if (unit.isEmpty()) {
      throw new UnitException("missing unit for a " + what + "; expected something like '" + example + "'");
    }
    BigDecimal multiplier = units.get(unit);
    if (multiplier == null) {
      multiplier = units.get(unit.toLowerCase(Locale.ROOT));
    }
    if (multiplier == null) {
      throw new UnitException("'" + unit + "' is not a " + what + " unit; expected something like '"
          + example + "'");
    }
    BigDecimal number;
    try {
      number = new BigDecimal(m.group(1).replace("_", ""));
    } catch (NumberFormatException e) {
      throw new UnitException("not a number: '" + m.group(1) + "'");
    }
    if (number.abs().compareTo(new BigDecimal("1e30")) > 0) {
      throw new UnitException(what + " is too large to represent");
    }
    if (number.signum() < 0) {
      throw new UnitException(what + " must not be negative");
    }
    if (number.signum() == 0 && !allowZero) {
      throw new UnitException(what + " must be greater than zero");
    }
    BigDecimal base = number.multiply(multiplier).setScale(0, RoundingMode.HALF_EVEN);
    if (base.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      throw new UnitException(what + " is too large to represent (overflows a 64-bit count of "
          + baseUnitName(units) + ")");
    }
    long value = base.longValueExact();
    if (value == 0 && !allowZero) {
      throw new UnitException(what + " rounds to zero " + baseUnitName(units));
    }
    return value;
  }

  private static String baseUnitName(Map<String, BigDecimal> units) {
    for (var e : units.entrySet()) {
      if (e.getValue().compareTo(BigDecimal.ONE) == 0) {
        return e.getKey();
      }
    }
    return "base units";
  }

  /** Formats {@code value} base units with the largest unit that keeps at least 1 and at most 4 decimals. */
  static String format(long value, Map<String, BigDecimal> preferred) {
    String best = null;
    for (var e : preferred.entrySet()) {
      BigDecimal scaled = BigDecimal.valueOf(value).divide(e.getValue());
      if (scaled.abs().compareTo(BigDecimal.ONE) >= 0 || best == null) {
        best = plain(scaled) + " " + e.getKey();
      }
    }
    return best;
  }

  private static String plain(BigDecimal d) {
    BigDecimal r = d.setScale(Math.min(Math.max(d.scale(), 0), 6), RoundingMode.HALF_EVEN).stripTrailingZeros();
    return r.toPlainString();
  }

  static BigDecimal dec(String s) {
    return new BigDecimal(s);
  }
}
