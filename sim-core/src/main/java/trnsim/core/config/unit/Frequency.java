package trnsim.core.config.unit;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/** A clock frequency in hertz (Hz, kHz, MHz, GHz). */
public record Frequency(long hertz) {
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
