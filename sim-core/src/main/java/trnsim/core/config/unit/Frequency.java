package trnsim.core.config.unit;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/** A clock frequency in hertz (Hz, kHz, MHz, GHz). */
public record Frequency(long hertz) {
  /** The fastest clock the 1 ps engine tick can represent. */
  public static final long MAX_HERTZ = 1_000_000_000_000L;
  static final Map<String, BigDecimal> UNITS = new LinkedHashMap<>();

  static {
    UNITS.put("Hz", BigDecimal.ONE);
    UNITS.put("kHz", UnitParser.dec("1e3"));
    UNITS.put("MHz", UnitParser.dec("1e6"));
    UNITS.put("GHz", UnitParser.dec("1e9"));
  }

  public Frequency {
    if (hertz <= 0) {
      throw new UnitException("frequency must be greater than zero");
    }
    if (hertz > MAX_HERTZ) {
      // The engine's tick is 1 ps; a faster clock would have a period shorter than one tick.
      throw new UnitException("frequency above 1000 GHz (its period would be under the 1 ps tick)");
    }
  }

  public static Frequency parse(String text) {
    return new Frequency(UnitParser.parse(text, "frequency", UNITS, "2.4 GHz", false));
  }

  public static Frequency ofHertz(long hertz) {
    return new Frequency(hertz);
  }

  public double gigahertz() {
    return hertz / 1e9;
  }

  @Override
  public String toString() {
    return UnitParser.format(hertz, UNITS);
  }
}
