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
        "--dtype", "fp32", "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(r.out());
    assertThat(j.get("algo").asText()).isEqualTo("ring");
    assertThat(j.get("ranks").asInt()).isEqualTo(64); // 16 chips x 4 logical cores (LNC=2)
    // Independent closed form: 2(n-1) ring steps, each 1.3 us DMA issue + 1.5 us hop + the chunk over a 128 GB/s
    // torus link (the DMA rings, 8 x 23 GB/s x 0.9 = 166 GB/s per rank, and HBM are faster); the n-1 reduce-scatter
    // steps add half of the chunk's fp32 reduction (two slices, 108.8 G elements/s per LNC=2 rank).
    double chunk = (1L << 30) / 64.0;
    double transfer = chunk / 128e9;
    double reduce = chunk / 4 / 108.8e9;
    double expected = 126 * (1.3e-6 + 1.5e-6 + transfer) + 63 * reduce / 2;
    assertThat(j.get("time_s").asDouble()).isCloseTo(expected, within(1e-9));
    assertThat(j.get("fixed_s").asDouble()).isZero(); // trn2: the current runtime, no host launch charged
    assertThat(j.get("fixed_s").asDouble() + j.get("sync_s").asDouble() + j.get("transfer_s").asDouble()
        + j.get("reduce_s").asDouble()).isCloseTo(j.get("time_s").asDouble(), within(1e-12));
    assertThat(j.get("busbw_gbps").asDouble() / j.get("algbw_gbps").asDouble()).isCloseTo(126.0 / 64, within(1e-9));
    assertThat(j.get("busbw_gibps").asDouble() * (1L << 30)).isCloseTo(j.get("busbw_gbps").asDouble() * 1e9, within(1e-3));
  }

  @Test
  void collectiveReproducesTheNccomTestFloorWithPlainByteCounts() throws Exception {
    // nccom-test -r 2 --datatype fp32 allr at 1 KiB on trn1.32xlarge (ranks = NeuronCores): 58 us.
    var r = CliHarness.run("collective", "-H", "trn1-32xl", "--op", "all-reduce", "--ranks", "2", "--bytes", "1024",
        "--dtype", "fp32", "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(r.out());
    assertThat(j.get("bytes").asLong()).isEqualTo(1024);
    assertThat(j.get("time_s").asDouble() * 1e6).isCloseTo(58.0, within(58.0 * 0.1));
    // Inside a compiled graph the host launch goes: the same collective is the launch cheaper.
    var g = Json.MAPPER.readTree(CliHarness.run("collective", "-H", "trn1-32xl", "--ranks", "2", "--bytes", "1024",
        "--dtype", "fp32", "--in-graph", "--format", "json").out());
    assertThat(j.get("time_s").asDouble() - g.get("time_s").asDouble()).isCloseTo(j.get("fixed_s").asDouble(), within(1e-12));
    assertThat(g.get("standalone").asBoolean()).isFalse();
    // The EFA point: a raw write between two trn2.48xlarge servers is the network's latency (15 us).
    var e = Json.MAPPER.readTree(CliHarness.run("collective", "-H", "trn2-48xl", "--systems", "2", "--op", "send-recv",
        "--raw", "--bytes", "8", "--format", "json").out());
    assertThat(e.get("time_s").asDouble()).isCloseTo(15e-6 + 8 / 25e9, within(1e-12)); // 200 Gbps NIC
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
    assertThat(t.out()).contains("busbw GB/s").contains("busbw GiB/s").contains("reduce").contains("1 KiB").contains("4 KiB");
    var f = CliHarness.run("collective", "-H", "trn1-32xl", "--ranks", "2", "--sweep", "1024:1073741824", "--step-factor", "4",
        "--format", "csv");
    assertThat(f.out().lines().count()).isEqualTo(1 + 11); // 1 KiB .. 1 GiB x4, as nccom-test -f 4
  }

  @Test
  void collectiveBadInputIsOneLineExitTwo() {
    String[][] bad = {
        {"collective", "-H", "h100", "--bytes", "1MiB"},                   // one GPU, one rank
        {"collective", "-H", "trn2-48xl", "--algo", "tree"},
        {"collective", "-H", "trn1-32xl", "--ranks", "33"},
        {"collective", "-H", "trn2-48xl", "--lnc", "3"},
        {"collective", "-H", "trn2-48xl", "--bytes", "-5"},
        {"collective", "-H", "trn2-48xl", "--dtype", "fp64"},
        {"collective", "-H", "trn2-48xl", "--sweep", "1KiB:1MiB", "--step-factor", "1"},
        {"collective", "-H", "trn2-48xl", "--raw"},
        {"collective", "-H", "trn2-48xl", "--systems", "2", "--ranks", "3"},
    };
    for (String[] args : bad) {
      var r = CliHarness.run(args);
      assertThat(r.code()).as(String.join(" ", args) + ": " + r.err()).isEqualTo(2);
      assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
    }
    assertThat(CliHarness.run("collective", "-H", "trn2-48xl", "--algo", "tree").err()).contains("--algo = 'tree'");
    assertThat(CliHarness.run("collective", "-H", "trn2-48xl", "--lnc", "3").err()).contains("--lnc = '3'");
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

  @Test
  void aOneRankCollectiveIsReportedAsNoneNotAsInfiniteBandwidth() {
    var r = CliHarness.run("run", "-H", "trn2", "-w", "llm-infer:model=llama3.2-1b,phase=decode,batch=1,ctx=512,tp=1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("all-reduce (2 per layer): none (one rank per group: nothing to exchange)")
        .doesNotContain("Infinity").doesNotContain("NaN");
  }
}
