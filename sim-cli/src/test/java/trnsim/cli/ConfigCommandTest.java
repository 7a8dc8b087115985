package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class ConfigCommandTest {
  @Test
  void helpAndVersion() {
    var r = CliHarness.run("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("Usage: trnsim").contains("config").contains("Exit codes");
    r = CliHarness.run("--version");
    assertThat(r.code()).isZero();
    assertThat(r.out()).startsWith("trnsim ");
  }

  @Test
  void unknownSubcommandIsBadInput() {
    var r = CliHarness.run("frobnicate");
    assertThat(r.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(r.err()).contains("Unmatched argument").doesNotContain("at trnsim.");
  }

  @Test
  void listShowsEveryShippedConfig() {
    var r = CliHarness.run("config", "list");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("trn1", "trn2", "trn3", "trn2-48xl", "trn2-ultraserver", "trn3-ultraserver-gen1",
        "trn3-ultraserver").doesNotContain("neuroncore");
    var csv = CliHarness.run("config", "list", "--format", "csv");
    assertThat(csv.out().lines().findFirst()).contains("name,chips,cores_per_chip,description");
  }

  /** {@code config show --models}: every key that holds a value, in every shipped config, names its readers. */
  @Test
  void showModelsMarksEveryKeyOfEveryShippedConfig() throws Exception {
    var list = CliHarness.run("config", "list", "--format", "csv");
    for (String row : list.out().lines().skip(1).toList()) {
      String name = row.substring(0, row.indexOf(','));
      var r = CliHarness.run("config", "show", name, "--models");
      assertThat(r.code()).as(r.err()).isZero();
      List<String> lines = r.out().lines().toList();
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        String body = line.strip();
        boolean value = body.matches("(- )?[a-z0-9_]+: .+") && !body.endsWith(": []"); // an empty list holds no value
        // a list of numbers is marked on its header; a list of mappings (links, groups) on its items' keys
        String next = i + 1 < lines.size() ? lines.get(i + 1).strip() : "";
        boolean numberListHeader = body.matches("[a-z0-9_]+:") && next.startsWith("- ") && !next.contains(": ");
        if (value || numberListHeader) {
          assertThat(line).as("%s: %s", name, line).contains("   # read by: ").doesNotContain("read by: no model");
        }
      }
    }
    var torus = CliHarness.run("config", "show", "trn2-ultraserver", "--models").out();
    assertThat(torus).contains("    dims:   # read by: collectives, llm\n")
        .contains("    - bandwidth: 128 GB/s   # read by: collectives, llm\n      latency: 1.5 us   # read by: collectives, llm\n")
        .contains("price_per_node_hour_usd: 35.76   # read by: cost");
  }

  @Test
  void showPrintsResolvedYamlWithDefaults() {
    var r = CliHarness.run("config", "show", "trn3");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("name: trn3").contains("size: 32 MiB").contains("min_ii_cycles: 64")
        .doesNotContain("extends");
  }

  @Test
  void showAppliesOverrides() throws Exception {
    var r = CliHarness.run("config", "show", "trn2", "--set", "chip.core.sbuf.size=48MiB", "--format", "json");
    assertThat(r.code()).isZero();
    JsonNode n = Json.MAPPER.readTree(r.out());
    assertThat(n.at("/chip/core/sbuf/size").asText()).isEqualTo("48 MiB");
  }

  @Test
  void badOverrideIsOneLineExitTwo() {
    var r = CliHarness.run("config", "show", "trn2", "--set", "chip.core.sbuf.size=-3 GiB");
    assertThat(r.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().strip().lines().count()).isEqualTo(1);
    assertThat(r.err()).contains("--set").contains("chip.core.sbuf.size").contains("-3 GiB").contains("negative");
  }

  @Test
  void unknownConfigIsBadInput() {
    var r = CliHarness.run("config", "show", "trn9");
    assertThat(r.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(r.err()).contains("trn9").contains("known:");
  }

  @Test
  void completionScriptIsGenerated() {
    var r = CliHarness.run("generate-completion");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("complete").contains("trnsim");
  }
}
