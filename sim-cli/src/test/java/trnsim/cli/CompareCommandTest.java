package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class CompareCommandTest {
  @Test
  void jsonRowsCarryTheDocumentedKeysAndRatiosComeFromSimulation() throws Exception {
    var r = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", "copy:bytes=256MiB",
        "-w", "gemm:m=2048,k=2048,n=2048", "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode rows = Json.MAPPER.readTree(r.out()).get("rows");
    assertThat(rows.size()).isEqualTo(2);
    for (JsonNode row : rows) {
      for (String k : CompareCommand.KEYS) {
        assertThat(row.has(k)).as(k).isTrue();
      }
      assertThat(row.get("speedup").asDouble())
          .isCloseTo(row.get("baseline_time_s").asDouble() / row.get("target_time_s").asDouble(),
              org.assertj.core.api.Assertions.within(1e-9));
    }
    // A copy is HBM-bound on both: the speedup is close to the bandwidth ratio 4.9 / 2.9.
    assertThat(rows.get(0).get("speedup").asDouble()).isBetween(1.55, 1.72);
  }

  @Test
  void systemRowsScaleByChipCount() throws Exception {
    var r = CliHarness.run("compare", "--baseline", "trn2-ultraserver", "--target", "trn3-ultraserver",
        "-w", "gemm:m=4096,k=4096,n=4096,dtype=fp8", "--format", "json");
    JsonNode rows = Json.MAPPER.readTree(r.out()).get("rows");
    assertThat(rows.size()).isEqualTo(2);
    double chip = rows.get(0).get("speedup").asDouble();
    double system = rows.get(1).get("speedup").asDouble();
    assertThat(system / chip).isCloseTo(144.0 / 64.0, org.assertj.core.api.Assertions.within(1e-9));
  }

  @Test
  void defaultSuiteTableAndCsv() {
    var t = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", "elementwise:op=add,numel=4194304");
    assertThat(t.code()).isZero();
    assertThat(t.out()).contains("speedup").contains("Why: each speedup as a product of factors");
    var c = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", "copy:bytes=8MiB", "--format", "csv");
    assertThat(c.out().lines().findFirst().orElseThrow())
        .startsWith("workload,baseline_time_s,target_time_s,speedup,energy_ratio,perf_per_watt_ratio,cost_ratio,baseline_bottleneck,target_bottleneck")
        .contains(",baseline_clock_ghz,target_clock_ghz,baseline_power_limited,target_power_limited,baseline_cost_usd,target_cost_usd")
        .endsWith(",speedup_basis,baseline_run_time_s,target_run_time_s,explain,error");
  }

  @Test
  void perSideWorkloadsCompareTheBest8BitFormatOfEach() throws Exception {
    var r = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "--baseline-workload",
        "gemm:m=2048,k=2048,n=2048,dtype=fp8", "--target-workload", "gemm:m=2048,k=2048,n=2048,dtype=mxfp8", "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode rows = Json.MAPPER.readTree(r.out()).get("rows");
    assertThat(rows.size()).isEqualTo(1);
    assertThat(rows.get(0).get("workload").asText())
        .isEqualTo("gemm:m=2048,k=2048,n=2048,dtype=fp8 vs gemm:m=2048,k=2048,n=2048,dtype=mxfp8");
    var same = Json.MAPPER.readTree(CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w",
        "gemm:m=2048,k=2048,n=2048,dtype=fp8", "--format", "json").out()).get("rows");
    assertThat(rows.get(0).get("speedup").asDouble()).isGreaterThan(same.get(0).get("speedup").asDouble());
    assertThat(CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "--baseline-workload", "copy:bytes=1MiB")
        .code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "--baseline-workload", "copy:bytes=1MiB",
        "--target-workload", "copy:bytes=1MiB", "-w", "copy:bytes=1MiB").code()).isEqualTo(ExitCodes.BAD_INPUT);
  }

  @Test
  void badInputs() {
    assertThat(CliHarness.run("compare", "--baseline", "trn2").code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(CliHarness.run("compare", "--baseline", "trn2", "--target", "nope").code()).isEqualTo(ExitCodes.BAD_INPUT);
    var r = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "--suite", "nosuch");
    assertThat(r.code()).isEqualTo(ExitCodes.BAD_INPUT);
  }
}
