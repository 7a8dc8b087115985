package trnsim.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The registry of which models read which key covers every key of every shipped config. */
class ConfigReadersTest {
  static final HardwareLoader LOADER = new HardwareLoader(Path.of("..", "configs").toAbsolutePath().normalize());

  static void leaves(JsonNode n, String prefix, List<String> out) {
    if (n.isObject()) {
      n.fields().forEachRemaining(e -> leaves(e.getValue(), prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), out));
    } else {
      out.add(prefix);
    }
  }

  @Test
  void everyKeyOfEveryShippedConfigHasARegisteredReader() {
    for (String name : LOADER.list()) {
      List<String> keys = new ArrayList<>();
      leaves(LOADER.toTree(LOADER.load(name, List.of()).spec()), "", keys);
      for (String k : keys) {
        assertThat(ConfigReaders.readers(k)).as("%s: %s", name, k).isNotNull();
      }
    }
  }

  @Test
  void aWhatIfOnAKeyNoModelReadsIsRefused() {
    assertThat(ConfigReaders.readers("chip.l2.size")).isEmpty();
    assertThat(ConfigReaders.readers("chip.core.tensor.clock")).contains("power-limiter");
    assertThatThrownBy(() -> LOADER.load("h100", List.of("chip.l2.size=1MiB")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("--set: chip.l2.size = '1MiB': read by no model (the L2 is modelled as a reuse filter without a capacity);"
            + " setting it would change no result");
  }
}
