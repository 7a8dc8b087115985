package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * compare's speedups explained: per-side workloads with commas, a failing row in a suite, and the
 * decomposition of every speedup into factors, checked against the numbers {@code run} reports for
 * each side on its own.
 */
class CompareExplainTest {
  static JsonNode rows(CliHarness.Result r) throws Exception {
    assertThat(r.code()).as(r.err()).isZero();
    return Json.MAPPER.readTree(r.out()).get("rows");
  }

  static JsonNode runJson(String hw, String w) throws Exception {
    var r = CliHarness.run("run", "-H", hw, "-w", w, "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    return Json.MAPPER.readTree(r.out());
  }

  /** The factors multiply to the speedup, the utilisation parts to the utilisation factor, and the speedup is the ratio of the times shown. */
  static void assertExplained(JsonNode row) {
    double speedup = row.get("speedup").asDouble();
    assertThat(speedup).isCloseTo(row.get("baseline_time_s").asDouble() / row.get("target_time_s").asDouble(), within(1e-9 * speedup));
    double p = 1;
    double util = Double.NaN;
    for (JsonNode f : row.get("explain").get("factors")) {
      p *= f.get("value").asDouble();
      if (f.get("name").asText().equals("utilisation")) {
        util = f.get("value").asDouble();
      }
    }
    assertThat(p).as(row.get("workload").asText()).isCloseTo(speedup, within(1e-9 * speedup));
    double q = 1;
    for (JsonNode f : row.get("explain").get("utilisation_parts")) {
      q *= f.get("value").asDouble();
    }
    assertThat(q).isCloseTo(util, within(1e-9 * util));
    assertThat(row.get("explain").get("text").asText()).startsWith(String.format(java.util.Locale.ROOT, "%.2fx ", speedup));
  }

  static double factor(JsonNode row, String name) {
    for (JsonNode f : row.get("explain").get("factors")) {
      if (f.get("name").asText().equals(name)) {
        return f.get("value").asDouble();
      }
    }
    throw new AssertionError("no factor " + name + " in " + row);
  }

  @Test
  void kernelSpeedupsAreChipsTimesPeakTimesUtilisation() throws Exception {
    String fp8 = "gemm:m=4096,k=4096,n=4096,dtype=fp8";
    String mx = "gemm:m=4096,k=4096,n=4096,dtype=mxfp8";
    JsonNode rows = rows(CliHarness.run("compare", "--baseline", "trn2-ultraserver", "--target", "trn3-ultraserver",
        "--baseline-workload", fp8, "--target-workload", mx, "--format", "json"));
    assertThat(rows.size()).isEqualTo(2);
    rows.forEach(CompareExplainTest::assertExplained);
    // Independent of compare: each side's peak and achieved TFLOP/s as `run` reports them.
    JsonNode b = runJson("trn2", fp8);
    JsonNode t = runJson("trn3", mx);
    double peak = t.get("peak_tflops").asDouble() / b.get("peak_tflops").asDouble();
    double util = (t.get("achieved_tflops").asDouble() / t.get("peak_tflops").asDouble())
        / (b.get("achieved_tflops").asDouble() / b.get("peak_tflops").asDouble());
    for (JsonNode row : rows) {
      assertThat(factor(row, "per-chip peak")).isCloseTo(peak, within(1e-9));
      assertThat(factor(row, "utilisation")).isCloseTo(util, within(1e-9));
    }
    assertThat(factor(rows.get(0), "chips")).isEqualTo(1.0);
    assertThat(factor(rows.get(1), "chips")).isCloseTo(144.0 / 64, within(1e-12));
    assertThat(rows.get(0).get("speedup_basis").asText()).isEqualTo("per kernel");
    // Whole system: the time per kernel of the system's throughput is the kernel time over the chips.
    assertThat(rows.get(1).get("baseline_time_s").asDouble())
        .isCloseTo(rows.get(1).get("baseline_run_time_s").asDouble() / 64, within(1e-15));
  }

  @Test
  void memoryBoundKernelsAreExplainedByBandwidth() throws Exception {
    JsonNode row = rows(CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", "copy:bytes=64MiB",
        "--format", "json")).get(0);
    assertExplained(row);
    JsonNode b = runJson("trn2", "copy:bytes=64MiB");
    JsonNode t = runJson("trn3", "copy:bytes=64MiB");
    assertThat(factor(row, "per-chip peak")).isCloseTo(t.get("peak_hbm_gbps").asDouble() / b.get("peak_hbm_gbps").asDouble(),
        within(1e-9));
  }

  @Test
  void perSideSystemWorkloadsWithCommasParseAndAreComparedPerToken() throws Exception {
    String b = "llm-infer:model=llama3-8b,phase=decode,batch=8,ctx=2048";
    String t = "llm-infer:model=llama3-8b,phase=decode,batch=32,ctx=2048";
    JsonNode rows = rows(CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "--baseline-workload", b,
        "--target-workload", t, "--format", "json"));
    assertThat(rows.size()).isEqualTo(1);
    JsonNode row = rows.get(0);
    assertThat(row.get("workload").asText()).isEqualTo(b + " vs " + t);
    assertThat(row.get("speedup_basis").asText()).isEqualTo("per token");
    assertExplained(row);
    // Different batches: the speedup is the ratio of the time per token, i.e. of the throughputs `run` reports.
    JsonNode rb = runJson("trn2", b);
    JsonNode rt = runJson("trn3", t);
    assertThat(rb.get("tokens").asDouble()).isNotEqualTo(rt.get("tokens").asDouble());
    double perToken = (rb.get("time_s").asDouble() / rb.get("tokens").asDouble()) / (rt.get("time_s").asDouble() / rt.get("tokens").asDouble());
    assertThat(row.get("speedup").asDouble()).isCloseTo(perToken, within(1e-9 * perToken));
    assertThat(row.get("baseline_run_time_s").asDouble()).isEqualTo(rb.get("time_s").asDouble());
  }

  @Test
  void trainingStepsWithSystemsGivenPerSideUseThoseSystems() throws Exception {
    String w = "llm-train:model=llama3-8b,seq=512,global_batch=576";
    JsonNode row = rows(CliHarness.run("compare", "--baseline", "trn2-ultraserver", "--target", "trn3-ultraserver",
        "--baseline-workload", w + ",systems=2", "--target-workload", w + ",systems=1", "--format", "json")).get(0);
    assertThat(row.get("baseline_bottleneck").asText()).startsWith("128 chips");
    assertThat(row.get("target_bottleneck").asText()).startsWith("144 chips");
    assertExplained(row);
    assertThat(factor(row, "chips")).isCloseTo(144.0 / 128, within(1e-12));
    // The parts of the step other than compute each get a factor (communication at least).
    assertThat(row.get("explain").get("utilisation_parts").toString()).contains("tp_comm").contains("dp_comm");
  }

  @Test
  void sameTokensPerStepIsPerStep() throws Exception {
    String w = "llm-infer:model=llama3-8b,phase=prefill,batch=1,ctx=1024";
    JsonNode row = rows(CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", w, "--format", "json")).get(0);
    assertThat(row.get("speedup_basis").asText()).isEqualTo("per step");
    assertExplained(row);
    assertThat(row.get("baseline_time_s").asDouble()).isEqualTo(runJson("trn2", w).get("time_s").asDouble());
  }

  /** The same chip under a tighter power limit: the per-chip peak factor is the ratio of the clocks actually run. */
  @Test
  void aPowerLimitedSideIsExplainedByItsLoweredClock() throws Exception {
    JsonNode rows = rows(CliHarness.run("compare", "--baseline", "trn3", "--target", "trn3", "--set-target", "chip.power.limit=300W",
        "-w", "gemm:m=2048,k=2048,n=2048,dtype=mxfp8", "-w", "llm-infer:model=llama3-8b,phase=prefill,batch=1,ctx=1024",
        "--format", "json"));
    for (JsonNode row : rows) {
      assertExplained(row);
      assertThat(row.get("target_power_limited").asBoolean()).as(row.get("workload").asText()).isTrue();
      double clocks = row.get("target_clock_ghz").asDouble() / row.get("baseline_clock_ghz").asDouble();
      assertThat(clocks).isLessThan(0.99);
      assertThat(factor(row, "per-chip peak")).as(row.get("workload").asText()).isCloseTo(clocks, within(1e-9));
      assertThat(factor(row, "chips")).isEqualTo(1.0);
    }
  }

  @Test
  void aFailingRowIsReportedInItsRowAndTheOthersStillRun() throws Exception {
    var r = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", "copy:bytes=1MiB",
        "-w", "gemm:m=64,k=64,n=64,strategy=nosuch", "-w", "copy:bytes=2MiB", "--format", "json");
    assertThat(r.code()).isEqualTo(ExitCodes.BAD_INPUT);
    JsonNode rows = Json.MAPPER.readTree(r.out()).get("rows");
    assertThat(rows.size()).isEqualTo(3);
    assertThat(rows.get(0).get("speedup").asDouble()).isPositive();
    assertThat(rows.get(2).get("speedup").asDouble()).isPositive();
    assertThat(rows.get(1).get("speedup").isNull()).isTrue();
    assertThat(rows.get(1).get("error").asText()).contains("gemm.strategy = 'nosuch'");
    assertThat(r.err().strip().lines().count()).isEqualTo(1);
    var table = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", "copy:bytes=1MiB",
        "-w", "gemm:m=64,k=64,n=64,strategy=nosuch");
    assertThat(table.out()).contains("error: --workload: gemm.strategy = 'nosuch'");
    // Every row failing: nothing to report, one error line.
    var all = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", "gemm:m=64,k=64,n=64,strategy=nosuch");
    assertThat(all.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(all.out()).isEmpty();
    assertThat(all.err().strip().lines().count()).isEqualTo(1);
  }

  @Test
  void theHeaderSaysWhichRatiosAreWhichWay() {
    var r = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", "copy:bytes=1MiB");
    assertThat(r.out()).contains("speedup = trn2 time / trn3 time").contains("perf/W = trn2 energy / trn3 energy")
        .contains("energy and cost = trn3 / trn2").contains("x utilisation");
  }
}
