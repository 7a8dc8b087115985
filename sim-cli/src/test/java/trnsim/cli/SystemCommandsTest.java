package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** trnsim collective, and run / compare with system-level llm-* workloads (short sequences keep them fast). */
class SystemCommandsTest {
  static final String TRAIN = "llm-train:model=llama3-70b,seq=256,global_batch=64";

  @Test
  void collectiveReportsAlgorithmAndBusBandwidth() throws Exception {
    var r = CliHarness.run("collective", "--hardware", "trn2-48xl", "--op", "all-reduce", "--bytes", "1GiB", "--algo", "ring",
        "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(r.out());
    assertThat(j.get("algo").asText()).isEqualTo("ring");
    assertThat(j.get("ranks").asInt()).isEqualTo(16);
    // Independent closed form: 2(n-1) steps of (1.5 us + bytes/n over a 128 GB/s torus link).
    double expected = 30 * (1.5e-6 + (1L << 30) / 16.0 / 128e9);
    assertThat(j.get("time_s").asDouble()).isCloseTo(expected, within(1e-9));
    assertThat(j.get("busbw_gbps").asDouble() / j.get("algbw_gbps").asDouble()).isCloseTo(30.0 / 16, within(1e-9));
  }

  @Test
  void collectiveSweepPrintsTheCurveAndDefaultsFollowTheNeuronThresholds() {
    var r = CliHarness.run("collective", "-H", "trn2-ultraserver", "--sweep", "256KiB:128MiB", "--format", "csv");
    assertThat(r.code()).as(r.err()).isZero();
    var lines = r.out().lines().toList();
    assertThat(lines.get(0)).isEqualTo(String.join(",", CollectiveCommand.KEYS));
    assertThat(lines).hasSize(1 + 10);
    assertThat(lines.get(1)).contains(",mesh,");    // 256 KiB < 1 MB
    assertThat(lines.get(4)).contains(",rdh,");     // 2 MiB
    assertThat(lines.get(10)).contains(",kangaring,"); // 128 MiB > 56 MB
    var t = CliHarness.run("collective", "-H", "trn2-ultraserver", "--sweep", "1KiB:4KiB");
    assertThat(t.out()).contains("busbw GB/s").contains("1 KiB").contains("4 KiB");
  }

  @Test
  void collectiveBadInputIsOneLineExitTwo() {
    var r = CliHarness.run("collective", "-H", "trn2", "--bytes", "1MiB");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip().lines().count()).isEqualTo(1);
    var b = CliHarness.run("collective", "-H", "trn2-48xl", "--algo", "tree");
    assertThat(b.code()).isEqualTo(2);
    assertThat(b.err()).contains("--algo = 'tree'");
  }

  @Test
  void runPrintsTheStepBreakdownOnBothUltraServers() throws Exception {
    var r = CliHarness.run("run", "--hardware", "trn3-ultraserver", "--workload", TRAIN, "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(r.out());
    assertThat(j.get("chips").asInt()).isLessThanOrEqualTo(144);
    assertThat(j.get("mfu").asDouble()).isBetween(0.05, 1.0);
    double shares = j.get("compute_share").asDouble() + j.get("comm_share").asDouble() + j.get("bubble_share").asDouble();
    assertThat(shares).isBetween(0.5, 1.0 + 1e-9);
    double parts = 0;
    for (JsonNode v : j.get("breakdown_s")) {
      parts += v.asDouble();
    }
    assertThat(parts).isCloseTo(j.get("time_s").asDouble(), org.assertj.core.api.Assertions.within(1e-9 * j.get("time_s").asDouble()));
    assertThat(j.get("defaulted").toString()).contains("tp");
    assertThat(j.get("energy_per_token_j").asDouble()).isPositive();
    assertThat(j.get("cost_per_million_tokens_usd").asDouble()).isPositive();
    assertThat(j.get("memory_per_chip_gib").asDouble()).isLessThan(j.get("memory_gib").get("capacity").asDouble());
    var t = CliHarness.run("run", "-H", "trn2-ultraserver", "-w", TRAIN);
    assertThat(t.code()).as(t.err()).isZero();
    assertThat(t.out()).contains("step time").contains("time share").contains("memory per chip").contains("MFU")
        .contains("chosen by trnsim").contains("one layer on one chip (simulated)");
  }

  @Test
  void aModelThatDoesNotFitIsOneLineExitTwoNamingTheKey() {
    var r = CliHarness.run("run", "-H", "trn2", "-w", "llm-train:model=llama3-70b");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip().lines().count()).isEqualTo(1);
    assertThat(r.err()).contains("llm-train.model = 'llama3-70b'").contains("does not fit");
  }

  @Test
  void compareGivesOneSystemRowWithoutTheWholeSystemScaling() throws Exception {
    var r = CliHarness.run("compare", "--baseline", "trn2-ultraserver", "--target", "trn3-ultraserver", "-w", TRAIN,
        "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode rows = Json.MAPPER.readTree(r.out()).get("rows");
    assertThat(rows.size()).isEqualTo(1);
    JsonNode row = rows.get(0);
    for (String k : CompareCommand.KEYS) {
      assertThat(row.has(k)).as(k).isTrue();
    }
    assertThat(row.get("workload").asText()).doesNotContain("whole system");
    assertThat(row.get("speedup").asDouble()).isGreaterThan(1.0); // 144 faster chips against 64
    assertThat(row.get("target_bottleneck").asText()).contains("144 chips");
  }

  @Test
  void compareSaysWhichSideCannotHoldTheModel() throws Exception {
    var r = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn2-48xl", "-w",
        "llm-infer:model=llama3-405b,phase=decode,batch=1,ctx=256", "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode row = Json.MAPPER.readTree(r.out()).get("rows").get(0);
    assertThat(row.get("baseline_bottleneck").asText()).startsWith("does not fit");
    assertThat(row.get("baseline_time_s").isNull()).isTrue();
    assertThat(row.get("target_time_s").asDouble()).isPositive();
    assertThat(row.get("target_bottleneck").asText()).contains("16 chips");
  }

  @Test
  void sameInputsGiveByteIdenticalOutput() {
    String[] args = {"collective", "-H", "trn2-ultraserver", "--op", "reduce-scatter", "--sweep", "4KiB:64MiB", "--format", "json"};
    assertThat(CliHarness.run(args).out()).isEqualTo(CliHarness.run(args).out());
  }

  @Test
  void systemStepsRunUnderThePowerLimit() throws Exception {
    String w = "llm-train:model=llama3-8b,seq=512,global_batch=64";
    var full = CliHarness.run("compare", "--baseline", "trn3-ultraserver-gen1", "--target", "trn3-ultraserver-gen1",
        "--set-target", "chip.power.limit=150W", "-w", w, "--format", "json");
    assertThat(full.code()).as(full.err()).isZero();
    var row = Json.MAPPER.readTree(full.out()).get("rows").get(0);
    // The same system with a tighter limit: never faster, and reported as throttled at a lower clock.
    assertThat(row.get("speedup").asDouble()).isLessThanOrEqualTo(1.0 + 1e-9);
    assertThat(row.get("target_power_limited").asBoolean()).isTrue();
    assertThat(row.get("target_clock_ghz").asDouble()).isLessThan(row.get("baseline_clock_ghz").asDouble());
    assertThat(row.get("baseline_power_limited").asBoolean()).isFalse();
  }
}
