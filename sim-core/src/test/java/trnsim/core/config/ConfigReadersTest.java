package trnsim.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import trnsim.core.energy.EnergyTable;

/**
 * The registry of consumed keys against the shipped configs: every leaf key of every resolved
 * hardware config and every energy table is registered with a model that reads it (a YAML key added
 * without a reader fails here), no entry is stale, and a key no model reads is refused at load time
 * in one line naming the file it came from (a file, an {@code extends:} base or {@code --set}).
 */
class ConfigReadersTest {
  static final Path CONFIGS = Path.of("..", "configs").toAbsolutePath().normalize();
  static final HardwareLoader LOADER = new HardwareLoader(CONFIGS);

  @Test
  void everyKeyOfEveryResolvedShippedConfigIsReadBySomeModel() {
    Set<String> used = new TreeSet<>();
    for (String name : LOADER.list()) {
      HardwareLoader.Resolved r = LOADER.load(name, List.of());
      // The spec with every default filled in (a default no model reads, GpSimd's PSUM limit, is not
      // rendered), and the merged tree of the files themselves.
      for (var tree : List.of(LOADER.toTree(r.spec()), r.tree())) {
        for (String k : ConfigReaders.leafPaths(tree)) {
          assertThat(ConfigReaders.readers(k)).as("%s: %s", name, k).isNotNull().isNotEmpty();
          used.add(ConfigReaders.HARDWARE.find(k).key());
        }
      }
    }
    for (ConfigReaders.Entry e : ConfigReaders.HARDWARE.entries()) {
      if (!e.readers().isEmpty()) {
        assertThat(used).as("registry entry %s matches no key of any shipped config", e.key()).contains(e.key());
      }
    }
  }

  @Test
  void everyKeyOfEveryShippedEnergyTableIsReadBySomeModel() throws IOException {
    HardwareLoader raw = new HardwareLoader(CONFIGS);
    try (Stream<Path> files = Files.list(CONFIGS.resolve("energy"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        EnergyTable.load(f);
        for (String k : ConfigReaders.leafPaths(raw.readYamlObject(f))) {
          assertThat(ConfigReaders.ENERGY_TABLE.readersOf(k)).as("%s: %s", f.getFileName(), k).isNotNull().isNotEmpty();
        }
      }
    }
  }

  @Test
  void aWhatIfOnAKeyNoModelReadsIsRefused() {
    assertThat(ConfigReaders.readers("chip.l2.size")).isEmpty();
    assertThat(ConfigReaders.readers("chip.core.tensor.clock")).contains("power-limiter");
    assertThat(ConfigReaders.readers("chip.core.tensor.dtype_rates.fp8")).contains("lowering");
    assertThat(ConfigReaders.readers("system.topology.links[].bandwidth")).contains("collectives");
    assertThatThrownBy(() -> LOADER.load("h100", List.of("chip.l2.size=1MiB")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("--set: chip.l2.size = '1MiB': read by no model (the L2 is modelled as a reuse filter without a capacity);"
            + " setting it would change no result");
    // The same key inside a section value of --set is found in the resolved tree.
    assertThatThrownBy(() -> LOADER.load("h100", List.of("chip.l2={size: 1MiB, bandwidth: 5TB/s}")))
        .hasMessage("--set: chip.l2.size = '1MiB': read by no model (the L2 is modelled as a reuse filter without a capacity);"
            + " setting it would change no result");
  }

  @Test
  void aKeyNoModelReadsInAFileOrItsBaseIsRefusedNamingThatFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("mine.yaml");
    Files.writeString(file, "extends: h100\nchip:\n  l2:\n    size: 50 MiB\n");
    assertThatThrownBy(() -> LOADER.load(file.toString(), List.of()))
        .hasMessage(file + ": chip.l2.size = '50 MiB': read by no model (the L2 is modelled as a reuse filter without a capacity)");
    Path base = dir.resolve("base.yaml");
    Files.writeString(base, "extends: trn2\nchip:\n  hbm:\n    latency: 100 ns\n");
    Path child = dir.resolve("child.yaml");
    Files.writeString(child, "extends: base.yaml\ndescription: inherits an unread key\n");
    assertThatThrownBy(() -> LOADER.load(child.toString(), List.of()))
        .hasMessage(base + ": chip.hbm.latency = '100 ns': read by no model (the fitted chip.core.dma.latency already holds"
            + " the first HBM access; a second latency would count it twice)");
  }

  @Test
  void aKeyOutsideTheRegistryIsRefusedAfterBinding() {
    var tree = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
    tree.putObject("chip").putObject("hbm").put("bandwidth", "1 TB/s");
    tree.with("chip").put("mystery", 3);
    assertThatThrownBy(() -> ConfigReaders.HARDWARE.check(tree, java.util.Map.of("chip.mystery", "x.yaml"), "top.yaml", true))
        .hasMessage("x.yaml: chip.mystery = '3': read by no model (no model is registered as reading it (ConfigReaders))");
    // Without the unregistered check only keys registered as unread are refused (the binder names unknown keys).
    ConfigReaders.HARDWARE.check(tree, java.util.Map.of(), "top.yaml", false);
    var energy = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
    energy.putObject("link").put("byte_pj", 40).put("latency_pj", 1);
    assertThatThrownBy(() -> ConfigReaders.ENERGY_TABLE.check(energy, java.util.Map.of(), "t.energy.yaml", true))
        .hasMessage("t.energy.yaml: link.latency_pj = '1': read by no model (no model is registered as reading it (ConfigReaders))");
  }
}
