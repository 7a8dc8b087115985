package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * One number format in every JSON output: plain decimals, no exponent, integral values as integers,
 * absent ones as null; and every finite double reads back as exactly the same double.
 */
class JsonNumberFormatTest {
  @Test
  void numbersArePlainAndReadBackExactly() throws Exception {
    Random rnd = new Random(7);
    Map<String, Object> m = new LinkedHashMap<>();
    double[] fixed = {58720256.0, 1.1593867203574963E12, 1.0, 0.0, -2.5e-9, 6.02e23, Double.MIN_NORMAL, 9.007199254740993E15};
    for (int i = 0; i < fixed.length; i++) {
      m.put("f" + i, fixed[i]);
    }
    for (int i = 0; i < 200; i++) {
      m.put("r" + i, Math.pow(10, rnd.nextInt(40) - 20) * rnd.nextDouble() * (rnd.nextBoolean() ? 1 : -1));
    }
    m.put("nan", Double.NaN);
    String text = Json.pretty(m);
    assertThat(text).doesNotContainPattern("[0-9][eE][-+]?[0-9]").doesNotContain("NaN").contains("\"f0\" : 58720256,")
        .contains("\"f1\" : 1159386720357.4963,").contains("\"f2\" : 1,").contains("\"nan\" : null");
    JsonNode back = Json.MAPPER.readTree(text);
    for (var e : m.entrySet()) {
      double v = (Double) e.getValue();
      if (Double.isFinite(v)) {
        assertThat(back.get(e.getKey()).asDouble()).as(e.getKey()).isEqualTo(v);
      }
    }
  }
}
