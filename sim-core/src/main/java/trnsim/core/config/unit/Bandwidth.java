package trnsim.core.config.unit;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A data rate in bytes per second. Accepts byte rates (GB/s, TB/s, GiB/s) and, for network links,
 * bit rates (Gbps, Gb/s, Tbps), converted at 8 bits per byte.
 */
public record Bandwidth(long bytesPerSecond) {
  static final Map<String, BigDecimal> UNITS = new LinkedHashMap<>();
  private static final Map<String, BigDecimal> FORMAT = new LinkedHashMap<>();

  static {
    UNITS.put("B/s", BigDecimal.ONE);
    UNITS.put("kB/s", UnitParser.dec("1e3"));
    UNITS.put("KB/s", UnitParser.dec("1e3"));
    UNITS.put("MB/s", UnitParser.dec("1e6"));
    UNITS.put("GB/s", UnitParser.dec("1e9"));
    UNITS.put("TB/s", UnitParser.dec("1e12"));
    UNITS.put("KiB/s", BigDecimal.valueOf(1L << 10));
    UNITS.put("MiB/s", BigDecimal.valueOf(1L << 20));
    UNITS.put("GiB/s", BigDecimal.valueOf(1L << 30));
    UNITS.put("TiB/s", BigDecimal.valueOf(1L << 40));
    UNITS.put("Mbps", UnitParser.dec("1.25e5"));
    UNITS.put("Gbps", UnitParser.dec("1.25e8"));
    UNITS.put("Tbps", UnitParser.dec("1.25e11"));
    UNITS.put("Mb/s", UnitParser.dec("1.25e5"));
    UNITS.put("Gb/s", UnitParser.dec("1.25e8"));
    UNITS.put("Tb/s", UnitParser.dec("1.25e11"));
    FORMAT.put("B/s", BigDecimal.ONE);
    FORMAT.put("kB/s", UnitParser.dec("1e3"));
    FORMAT.put("MB/s", UnitParser.dec("1e6"));
    FORMAT.put("GB/s", UnitParser.dec("1e9"));
    FORMAT.put("TB/s", UnitParser.dec("1e12"));
  }

  public Bandwidth {
    if (bytesPerSecond <= 0) {
      throw new UnitException("bandwidth must be greater than zero");
    }
  }

  public static Bandwidth parse(String text) {
    return new Bandwidth(UnitParser.parse(text, "bandwidth", UNITS, "2.9 TB/s", false));
  }

  public static Bandwidth ofBytesPerSecond(long bytesPerSecond) {
    return new Bandwidth(bytesPerSecond);
  }

  public double gigabytesPerSecond() {
    return bytesPerSecond / 1e9;
  }

  @Override
  public String toString() {
    return UnitParser.format(bytesPerSecond, FORMAT);
  }
}
