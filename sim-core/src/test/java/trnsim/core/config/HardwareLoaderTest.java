package trnsim.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HardwareLoaderTest {
  static final Path CONFIGS = Path.of("..", "configs").toAbsolutePath().normalize();

  @TempDir
  Path tmp;

  private HardwareLoader shipped() {
    return new HardwareLoader(CONFIGS);
  }

  private Path write(String rel, String text) throws IOException {
    Path p = tmp.resolve("hardware").resolve(rel);
    Files.createDirectories(p.getParent());
    Files.writeString(p, text);
    return p;
  }

  private static final String BASE = """
      description: base
      chip:
        cores: 2
        core:
          tensor: {type: trainium, rows: 128, cols: 128, clock: 2.8 GHz, dtype_rates: {bf16: 1.0}}
          vector: {clock: 1.12 GHz, lanes: 128}
          scalar: {clock: 1.4 GHz, lanes: 128}
          gpsimd: {clock: 1.4 GHz, lanes: 128}
          sbuf: {size: 24 MiB, partitions: 128}
          psum: {size: 2 MiB, partitions: 128, banks: 8}
          dma: {queues: 16, queue_bandwidth: 17 GB/s, descriptor_cost: 1 us}
        hbm: {capacity: 32 GiB, bandwidth: 820 GB/s}
      """;

  @Test
  void everyShippedConfigLoads() {
    HardwareLoader l = shipped();
    List<String> names = l.list();
    assertThat(names).contains("trn1", "trn2", "trn3", "trn1-32xl", "trn2-48xl", "trn2-ultraserver",
        "trn3-ultraserver-gen1", "trn3-ultraserver");
    for (String n : names) {
      HardwareSpec s = l.load(n, List.of()).spec();
      assertThat(s.name()).isEqualTo(n);
      assertThat(s.chip().cores()).isPositive();
    }
  }

  @Test
  void shippedChipsMatchPublishedPerCoreTensorPeak() {
    // Peak = rows x cols x 2 FLOP x clock x dtype rate; the NKI docs give 79 TFLOPS bf16 per NC-v3.
    HardwareSpec trn2 = shipped().load("trn2", List.of()).spec();
    TensorEngineSpec t = trn2.chip().core().tensor();
    double peak = t.rows() * t.cols() * 2.0 * t.clock().hertz() * t.dtypeRates().get("bf16");
    assertThat(peak / 1e12).isBetween(78.0, 80.0);
    assertThat(trn2.chip().core().sbuf().size().bytes()).isEqualTo(28L << 20);
  }

  @Test
  void systemsHaveTheirChipCounts() {
    HardwareLoader l = shipped();
    assertThat(l.load("trn2-48xl", List.of()).spec().totalChips()).isEqualTo(16);
    assertThat(l.load("trn2-ultraserver", List.of()).spec().totalChips()).isEqualTo(64);
    assertThat(l.load("trn3-ultraserver-gen1", List.of()).spec().totalChips()).isEqualTo(64);
    assertThat(l.load("trn3-ultraserver", List.of()).spec().totalChips()).isEqualTo(144);
    assertThat(l.load("trn3", List.of()).spec().totalChips()).isEqualTo(1);
  }

  @Test
  void extendsDeepMergesAndChildWins() throws IOException {
    write("_base/b.yaml", BASE);
    write("child.yaml", """
        extends: _base/b.yaml
        description: child
        chip:
          core:
            sbuf: {size: 48 MiB}
        """);
    HardwareSpec s = new HardwareLoader(tmp).load("child", List.of()).spec();
    assertThat(s.description()).isEqualTo("child");
    assertThat(s.chip().core().sbuf().size().bytes()).isEqualTo(48L << 20);
    // Sibling keys of an overridden key are inherited.
    assertThat(s.chip().core().sbuf().partitions()).isEqualTo(128);
    assertThat(s.chip().cores()).isEqualTo(2);
  }

  @Test
  void setOverridesAfterExtends() throws IOException {
    write("c.yaml", BASE);
    HardwareSpec s = new HardwareLoader(tmp).load("c",
        List.of("chip.core.sbuf.size=48MiB", "chip.cores=4", "chip.hbm.bandwidth=6 TB/s")).spec();
    assertThat(s.chip().core().sbuf().size().bytes()).isEqualTo(48L << 20);
    assertThat(s.chip().cores()).isEqualTo(4);
    assertThat(s.chip().hbm().bandwidth().bytesPerSecond()).isEqualTo(6_000_000_000_000L);
  }

  private ConfigException loadFails(String text, String... sets) throws IOException {
    write("bad.yaml", text);
    try {
      new HardwareLoader(tmp).load("bad", List.of(sets));
    } catch (ConfigException e) {
      assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("Exception").doesNotContain("trnsim.core");
      return e;
    }
    throw new AssertionError("expected a ConfigException");
  }

  @Test
  void unknownKeyNamesFileKeyAndKnownKeys() throws IOException {
    ConfigException e = loadFails(BASE.replace("size: 24 MiB, partitions: 128}", "size: 24 MiB, partitions: 128, bogus: 1}"));
    assertThat(e.file()).endsWith("bad.yaml");
    assertThat(e.keyPath()).isEqualTo("chip.core.sbuf.bogus");
    assertThat(e.getMessage()).contains("unknown key").contains("partitions, size");
  }

  @Test
  void negativeSizeNamesKeyAndValue() throws IOException {
    ConfigException e = loadFails(BASE.replace("size: 24 MiB", "size: -3 GiB"));
    assertThat(e.keyPath()).isEqualTo("chip.core.sbuf.size");
    assertThat(e.value()).isEqualTo("-3 GiB");
    assertThat(e.reason()).isEqualTo("size must not be negative");
  }

  @Test
  void frequencyWhereSizeExpected() throws IOException {
    ConfigException e = loadFails(BASE.replace("size: 24 MiB", "size: 2.4 GHz"));
    assertThat(e.getMessage()).contains("chip.core.sbuf.size").contains("'2.4 GHz'").contains("not a size unit");
  }

  @Test
  void bareNumberIsBytesForSizesAndRejectedWhereAUnitIsNeeded() throws IOException {
    ConfigException e = loadFails(BASE.replace("bandwidth: 820 GB/s", "bandwidth: 820"));
    assertThat(e.keyPath()).isEqualTo("chip.hbm.bandwidth");
    assertThat(e.reason()).contains("missing unit");
  }

  @Test
  void zeroAndNegativeCountsRejected() throws IOException {
    ConfigException e = loadFails(BASE.replace("cores: 2", "cores: 0"));
    assertThat(e.keyPath()).isEqualTo("chip.cores");
    assertThat(e.value()).isEqualTo("0");
    e = loadFails(BASE.replace("banks: 8", "banks: -8"));
    assertThat(e.keyPath()).isEqualTo("chip.core.psum.banks");
  }

  @Test
  void wrongTypeRejected() throws IOException {
    ConfigException e = loadFails(BASE.replace("cores: 2", "cores: two"));
    assertThat(e.keyPath()).isEqualTo("chip.cores");
    assertThat(e.value()).isEqualTo("two");
    e = loadFails(BASE.replace("cores: 2", "cores: 2.5"));
    assertThat(e.keyPath()).isEqualTo("chip.cores");
  }

  @Test
  void missingRequiredKey() throws IOException {
    ConfigException e = loadFails(BASE.replace("  hbm: {capacity: 32 GiB, bandwidth: 820 GB/s}\n", ""));
    assertThat(e.keyPath()).isEqualTo("chip.hbm");
    assertThat(e.reason()).isEqualTo("missing required key");
  }

  @Test
  void errorsInSetAreAttributedToSet() throws IOException {
    ConfigException e = loadFails(BASE, "chip.core.sbuf.size=-3GiB");
    assertThat(e.file()).isEqualTo("--set");
    assertThat(e.keyPath()).isEqualTo("chip.core.sbuf.size");
    e = loadFails(BASE, "chip.core.sbuf.sise=3GiB");
    assertThat(e.file()).isEqualTo("--set");
    assertThat(e.reason()).contains("unknown key");
    e = loadFails(BASE, "nonsense");
    assertThat(e.file()).isEqualTo("--set");
  }

  /** Neuron configs bucket decode KV spans in powers of two; GPU configs (no key) read the live context; other values fail. */
  @Test
  void kvBucketsArePow2OnNeuronConfigsAndAbsentElsewhere() throws IOException {
    HardwareLoader l = shipped();
    for (String n : List.of("trn1", "trn1-32xl", "trn2", "trn3-ultraserver")) {
      assertThat(l.load(n, List.of()).spec().runtime().bucketedKv()).as(n).isTrue();
    }
    for (String n : List.of("h100", "b200-hgx8", "gb300-nvl72")) {
      assertThat(l.load(n, List.of()).spec().runtime().bucketedKv()).as(n).isFalse();
    }
    ConfigException e = loadFails(BASE, "runtime.kv_buckets=paged");
    assertThat(e.file()).isEqualTo("--set");
    assertThat(e.getMessage()).contains("kv_buckets").contains("paged").contains("'pow2' or 'none'").doesNotContain("\n");
  }

  @Test
  void errorInBaseFileNamesTheBase() throws IOException {
    write("_base/b.yaml", BASE.replace("size: 24 MiB", "size: 24 MHz"));
    write("child.yaml", "extends: _base/b.yaml\ndescription: c\n");
    ConfigException e = assertThrowsConfig(() -> new HardwareLoader(tmp).load("child", List.of()));
    assertThat(e.file()).endsWith("_base/b.yaml");
  }

  @Test
  void extendsCycleDetected() throws IOException {
    write("a.yaml", "extends: b.yaml\n");
    write("b.yaml", "extends: a.yaml\n");
    ConfigException e = assertThrowsConfig(() -> new HardwareLoader(tmp).load("a", List.of()));
    assertThat(e.keyPath()).isEqualTo("extends");
    assertThat(e.reason()).contains("inheritance cycle");
  }

  @Test
  void malformedEmptyBinaryAndBombs() throws IOException {
    assertThat(loadFails("chip: [unclosed\n").reason()).startsWith("malformed YAML");
    assertThat(loadFails("").reason()).isEqualTo("empty config");
    assertThat(loadFails("- just\n- a list\n").reason()).contains("top level must be a mapping");
    write("bad.yaml", "");
    Files.write(tmp.resolve("hardware/bad.yaml"), new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2, (byte) 0x80});
    ConfigException bin = assertThrowsConfig(() -> new HardwareLoader(tmp).load("bad", List.of()));
    assertThat(bin.reason()).contains("not a UTF-8 text file");
    StringBuilder bomb = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for (char c = 'b'; c <= 'z'; c++) {
      char p = (char) (c - 1);
      bomb.append(c).append(": &").append(c).append(" [*").append(p).append(", *").append(p).append(", *")
          .append(p).append(", *").append(p).append("]\n");
    }
    // The bomb is never expanded (aliases are not materialised), so it fails fast on its content.
    long t0 = System.nanoTime();
    assertThat(loadFails(bomb.toString())).isNotNull();
    assertThat(System.nanoTime() - t0).as("alias bomb must not expand").isLessThan(5_000_000_000L);
    String deep = "a: ".repeat(1) + "[".repeat(500) + "]".repeat(500) + "\n";
    assertThat(loadFails(deep).reason()).as("deep nesting").startsWith("malformed YAML");
    assertThat(loadFails("a: 1\na: 2\n").reason()).as("duplicate key").startsWith("malformed YAML");
  }

  @Test
  void unknownNameListsKnownConfigs() {
    ConfigException e = assertThrowsConfig(() -> shipped().load("trn9", List.of()));
    assertThat(e.getMessage()).contains("'trn9'").contains("trn2");
  }

  @Test
  void resolvedYamlRoundTripsThroughTheLoader() throws IOException {
    HardwareLoader l = shipped();
    HardwareSpec s = l.load("trn2-ultraserver", List.of()).spec();
    String yaml = l.toYaml(s);
    Path again = tmp.resolve("hardware").resolve("again.yaml");
    Files.createDirectories(again.getParent());
    Files.writeString(again, yaml.replaceFirst("(?m)^name: .*\\n", ""));
    HardwareSpec reread = new HardwareLoader(tmp).load("again", List.of()).spec();
    assertThat(reread.chip()).isEqualTo(s.chip());
    assertThat(reread.system()).isEqualTo(s.system());
  }

  @Test
  void aFileThatNamesItselfKeepsItsNameAndABaseNameIsNotInherited() throws IOException {
    HardwareLoader l = shipped();
    HardwareSpec s = l.load("trn2", List.of("chip.hbm.bandwidth=3TB/s")).spec();
    Path resolved = tmp.resolve("hardware").resolve("resolved.yaml");
    Files.createDirectories(resolved.getParent());
    Files.writeString(resolved, l.toYaml(s));
    HardwareSpec reread = new HardwareLoader(tmp).load(resolved.toString(), List.of()).spec();
    assertThat(reread).isEqualTo(s);
    // a file extending the named one is named by its own file, not by its base's name: key
    Path child = tmp.resolve("hardware").resolve("child.yaml");
    Files.writeString(child, "extends: resolved.yaml\n");
    assertThat(new HardwareLoader(tmp).load(child.toString(), List.of()).spec().name()).isEqualTo("child");
  }

  @Test
  void setAddressesListElementsByIndex() {
    // trn2-ultraserver's torus has three links: X and Y inside an instance, Z across instances
    HardwareSpec base = shipped().load("trn2-ultraserver", List.of()).spec();
    HardwareSpec z = shipped().load("trn2-ultraserver", List.of("system.topology.links[2].bandwidth=50GB/s")).spec();
    var links = z.system().topology().links();
    assertThat(links).hasSize(3);
    assertThat(links.get(2).bandwidth().gigabytesPerSecond()).isEqualTo(50.0);
    assertThat(links.get(2).latency()).isEqualTo(base.system().topology().links().get(2).latency());
    assertThat(links.subList(0, 2)).isEqualTo(base.system().topology().links().subList(0, 2));
    // a whole element, given as a mapping
    HardwareSpec whole = shipped().load("trn2-ultraserver",
        List.of("system.topology.links[0]={bandwidth: 64 GB/s, latency: 3 us}")).spec();
    assertThat(whole.system().topology().links().get(0).bandwidth().gigabytesPerSecond()).isEqualTo(64.0);
  }

  @Test
  void aBadListIndexIsOneErrorNamingTheOptionPathAndValue() {
    ConfigException out = assertThrowsConfig(() -> shipped().load("trn2-48xl", List.of("system.topology.links[2].bandwidth=1TB/s")));
    assertThat(out.getMessage()).isEqualTo("--set: system.topology.links[2].bandwidth = '1TB/s': index 2 is out of range: "
        + "'system.topology.links' has 2 elements (indices 0..1)");
    ConfigException notList = assertThrowsConfig(() -> shipped().load("trn2-48xl", List.of("system.topology.type[0]=ring")));
    assertThat(notList.getMessage()).contains("--set", "system.topology.type[0]", "'ring'", "is not a list");
    ConfigException missing = assertThrowsConfig(() -> shipped().load("trn2", List.of("system.topology.links[0].bandwidth=1TB/s")));
    assertThat(missing.getMessage()).contains("--set", "system.topology.links[0].bandwidth", "'1TB/s'");
    ConfigException badValue = assertThrowsConfig(() -> shipped().load("trn2-48xl", List.of("system.topology.links[1].bandwidth=fast")));
    assertThat(badValue.getMessage()).contains("--set", "system.topology.links[1].bandwidth", "'fast'");
  }

  private static ConfigException assertThrowsConfig(Runnable r) {
    try {
      r.run();
    } catch (ConfigException e) {
      return e;
    }
    throw new AssertionError("expected a ConfigException");
  }
}
