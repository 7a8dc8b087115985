package trnsim.core.config.unit;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/** An electrical power in milliwatts (mW, W, kW). */
public record Power(long milliwatts) {
  static final Map<String, BigDecimal> UNITS = new LinkedHashMap<>();

  static {
    UNITS.put("mW", BigDecimal.ONE);
    UNITS.put("W", UnitParser.dec("1e3"));
    UNITS.put("kW", UnitParser.dec("1e6"));
  }

  public Power {
    if (milliwatts < 0) {
      throw new UnitException("power must not be negative");
    }
  }

  public static Power parse(String text) {
    return new Power(UnitParser.parse(text, "power", UNITS, "500 W", true));
  }

  public static Power ofWatts(double watts) {
    return new Power(Math.round(watts * 1000));
  }

  public double watts() {
    return milliwatts / 1000.0;
  }

  @Override
  public String toString() {
    return UnitParser.format(milliwatts, UNITS);
  }
}
