package trnsim.core.config.unit;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/** A non-negative duration in picoseconds (ps, ns, us, ms, s), the simulator's tick unit. */
public record TimeSpan(long picoseconds) {
  static final Map<String, BigDecimal> UNITS = new LinkedHashMap<>();

  static {
    UNITS.put("ps", BigDecimal.ONE);
    UNITS.put("ns", UnitParser.dec("1e3"));
    UNITS.put("us", UnitParser.dec("1e6"));
    UNITS.put("µs", UnitParser.dec("1e6"));
    UNITS.put("ms", UnitParser.dec("1e9"));
    UNITS.put("s", UnitParser.dec("1e12"));
  }

  public TimeSpan {
    if (picoseconds < 0) {
      throw new UnitException("duration must not be negative");
    }
  }

  public static final TimeSpan ZERO = new TimeSpan(0);

  public static TimeSpan parse(String text) {
    return new TimeSpan(UnitParser.parse(text, "duration", UNITS, "1.3 us", true));
  }

  public static TimeSpan ofPicoseconds(long ps) {
    return new TimeSpan(ps);
  }

  public double seconds() {
    return picoseconds / 1e12;
  }

  @Override
  public String toString() {
    if (picoseconds == 0) {
      return "0 ns";
    }
    Map<String, BigDecimal> fmt = new LinkedHashMap<>(UNITS);
    fmt.remove("µs");
    return UnitParser.format(picoseconds, fmt);
  }
}
