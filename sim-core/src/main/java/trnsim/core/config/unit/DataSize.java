package trnsim.core.config.unit;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A size in bytes. SI prefixes are powers of 1000 (kB, MB, GB, TB), binary ones powers of 1024
 * (KiB, MiB, GiB, TiB); a bare whole number is bytes.
 */
public record DataSize(long bytes) implements Comparable<DataSize> {
  static final Map<String, BigDecimal> UNITS = new LinkedHashMap<>();
  private static final Map<String, BigDecimal> FORMAT = new LinkedHashMap<>();

  static {
    UNITS.put("B", BigDecimal.ONE);
    UNITS.put("kB", UnitParser.dec("1e3"));
    UNITS.put("KB", UnitParser.dec("1e3"));
    UNITS.put("MB", UnitParser.dec("1e6"));
    UNITS.put("GB", UnitParser.dec("1e9"));
    UNITS.put("TB", UnitParser.dec("1e12"));
    UNITS.put("KiB", BigDecimal.valueOf(1L << 10));
    UNITS.put("MiB", BigDecimal.valueOf(1L << 20));
    UNITS.put("GiB", BigDecimal.valueOf(1L << 30));
    UNITS.put("TiB", BigDecimal.valueOf(1L << 40));
    FORMAT.put("B", BigDecimal.ONE);
    FORMAT.put("KiB", BigDecimal.valueOf(1L << 10));
    FORMAT.put("MiB", BigDecimal.valueOf(1L << 20));
    FORMAT.put("GiB", BigDecimal.valueOf(1L << 30));
    FORMAT.put("TiB", BigDecimal.valueOf(1L << 40));
  }

  public DataSize {
    if (bytes <= 0) {
      throw new UnitException("size must be greater than zero");
    }
  }

  public static DataSize parse(String text) {
    return new DataSize(UnitParser.parse(text, "size", UNITS, "28 MiB", false, "B"));
  }

  public static DataSize ofBytes(long bytes) {
    return new DataSize(bytes);
  }

  @Override
  public int compareTo(DataSize o) {
    return Long.compare(bytes, o.bytes);
  }

  @Override
  public String toString() {
    return UnitParser.format(bytes, FORMAT);
  }
}
