package trnsim.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * Stable JSON rendering for reports: sorted map keys, two-space indent, "\n" line ends everywhere,
 * and an absent number (NaN, an infinity: no price, no energy table) written as {@code null},
 * never as the string "NaN".
 */
public final class Json {
  public static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
      .addModule(new com.fasterxml.jackson.databind.module.SimpleModule("absent-numbers")
          .addSerializer(Double.class, new NonFinite<>())
          .addSerializer(double.class, new NonFinite<>())
          .addSerializer(Float.class, new NonFinite<>())
          .addSerializer(float.class, new NonFinite<>()))
      .build();

  /**
   * Writes every finite number in one format, plain decimal without an exponent: an integral value
   * (a byte or FLOP count held as a double) as an integer, any other as the shortest decimal that
   * reads back as the same double ({@link Double#toString}, expanded); a non-finite one as null.
   */
  private static final class NonFinite<T extends Number> extends com.fasterxml.jackson.databind.ser.std.StdSerializer<T> {
    NonFinite() {
      super(Number.class, false);
    }

    @Override
    public void serialize(T v, com.fasterxml.jackson.core.JsonGenerator g, com.fasterxml.jackson.databind.SerializerProvider p)
        throws java.io.IOException {
      double d = v.doubleValue();
      if (!Double.isFinite(d)) {
        g.writeNull();
      } else if (d == Math.rint(d) && Math.abs(d) < 0x1p53) {
        g.writeNumber((long) d);
      } else {
        String shortest = v instanceof Float f ? Float.toString(f) : Double.toString(d);
        g.writeNumber(new java.math.BigDecimal(shortest).toPlainString());
      }
    }
  }
  private static final ObjectWriter PRETTY;

  static {
    DefaultPrettyPrinter pp = new DefaultPrettyPrinter();
    pp.indentArraysWith(new DefaultIndenter("  ", "\n"));
    pp.indentObjectsWith(new DefaultIndenter("  ", "\n"));
    PRETTY = MAPPER.writer(pp);
  }

  private Json() {}

  public static String pretty(Object value) {
    try {
      return PRETTY.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String compact(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
