package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Serving workloads (serve:) in compare and verify: the figures, their ratios, claims on them and bad claims files. */
class ServeClaimsTest {
  @TempDir
  Path tmp;

  /** Llama-3.2 1B, one replica on one Trainium chip, light load: a few graph shapes, runs in seconds. */
  static final String SERVE = "serve:model=llama3.2-1b,tp=4,replicas=1,rate=20,prompt=uniform:64:256,output=16,requests=40,seed=3,"
      + "slo_ttft=200ms,slo_tpot=20ms";

  /** Every serving ratio is target / baseline of the two sides' figures; the row's speedup, energy and cost ratios are serving figures. */
  @Test
  void compareReportsServingFiguresAndTheirRatios() throws Exception {
    var r = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", SERVE, "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    var again = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", SERVE, "--format", "json");
    assertThat(again.out()).isEqualTo(r.out());
    JsonNode row = Json.MAPPER.readTree(r.out()).get("rows").get(0);
    assertThat(row.get("error").isNull()).isTrue();
    JsonNode metrics = row.get("serving").get("metrics");
    for (var it = metrics.fields(); it.hasNext(); ) {
      var e = it.next();
      double b = e.getValue().get("baseline").asDouble();
      double t = e.getValue().get("target").asDouble();
      if (Double.isFinite(b) && b != 0 && e.getValue().get("ratio").isNumber()) {
        assertThat(e.getValue().get("ratio").asDouble()).as(e.getKey()).isCloseTo(t / b, within(1e-9 * Math.abs(t / b)));
      }
    }
    assertThat(row.get("speedup").asDouble()).isCloseTo(metrics.get("output_tokens_per_s").get("ratio").asDouble(), within(1e-12));
    assertThat(row.get("energy_ratio").asDouble()).isCloseTo(metrics.get("energy_per_token_j").get("ratio").asDouble(), within(1e-12));
    // 40 requests of 16 tokens: throughput over the span is tokens / span on each side
    assertThat(metrics.get("output_tokens_per_s").get("baseline").asDouble()).isCloseTo(
        metrics.get("requests_per_s").get("baseline").asDouble() * 16, within(1e-6));
    // one replica on a whole chip: per-chip figures equal the totals
    assertThat(metrics.get("goodput_per_s_per_chip").get("target").asDouble()).isCloseTo(metrics.get("goodput_per_s").get("target").asDouble(),
        within(1e-12));
    assertThat(metrics.has("max_rate_per_s")).as("no sweep, no highest rate").isFalse();
    var table = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", SERVE);
    assertThat(table.out()).contains("Serving: " + SERVE).contains("goodput_per_s").contains("ttft_p99_s");
  }

  /**
   * A claim of the target alone (TTFT p50 at a vanishing rate is llm-infer's batch-1 prefill, which the test
   * runs itself) and a ratio claim of a system against itself (exactly 1) hold; the same claim against a
   * range that excludes the value fails with exit 1.
   */
  @Test
  void verifyJudgesServingClaims() throws Exception {
    var prefill = CliHarness.run("run", "-H", "trn2-48xl", "-w", "llm-infer:model=llama3.2-1b,phase=prefill,batch=1,prompt=256,tp=4",
        "--format", "json");
    assertThat(prefill.code()).as(prefill.err()).isZero();
    double ttft = Json.MAPPER.readTree(prefill.out()).get("time_s").asDouble();
    String lone = "serve:model=llama3.2-1b,tp=4,replicas=1,rate=0.01,arrival=fixed,prompt=256,output=8,requests=3";
    String file = String.format(java.util.Locale.ROOT, """
        description: serving claims of the test
        claims:
          - name: lone-ttft
            target: trn2-48xl
            workload: %s
            metric: ttft_p50_s
            expected: {min: %.9f, max: %.9f}
          - name: same-system-goodput-per-usd
            baseline: trn2-48xl
            target: trn2-48xl
            workload: %s
            metric: goodput_per_usd_ratio
            expected: {min: 0.999999, max: 1.000001}
        """, lone, 0.95 * ttft, 1.05 * ttft, SERVE);
    Path claims = tmp.resolve("serving.yaml");
    Files.writeString(claims, file);
    var r = CliHarness.run("verify", claims.toString(), "--format", "json");
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    JsonNode doc = Json.MAPPER.readTree(r.out());
    assertThat(doc.get("claims").get(0).get("simulated").asDouble()).isCloseTo(ttft, within(0.05 * ttft));
    assertThat(doc.get("claims").get(1).get("simulated").asDouble()).isEqualTo(1.0);
    assertThat(doc.get("claims").get(0).get("target_serving").asText()).contains("tp=4 x 1 replica(s)");
    Files.writeString(claims, file.replace(String.format(java.util.Locale.ROOT, "%.9f, max: %.9f", 0.95 * ttft, 1.05 * ttft),
        String.format(java.util.Locale.ROOT, "%.9f, max: %.9f", 2 * ttft, 3 * ttft)));
    var f = CliHarness.run("verify", claims.toString());
    assertThat(f.code()).isEqualTo(ExitCodes.CLAIM_FAILED);
    assertThat(f.out()).contains("FAIL lone-ttft").contains("Serving runs")
        .doesNotContain("Speedups as factors"); // no claim of this file is a speedup: no empty heading
  }

  /** A malformed serving claim is refused before anything runs: exit 2, one line naming the file, the field and the value. */
  @Test
  void badServingClaimsAreRefusedWithTheField() throws Exception {
    String[][] cases = {
        {"workload: serve:model=llama3.2-1b,rat=4\n    metric: goodput_per_s", "unknown key"},
        {"workload: serve:model=llama3.2-1b,prompt=lognormal:median=512\n    metric: goodput_per_s", "serve.prompt"},
        {"workload: serve:model=llama3.2-1b\n    metric: max_rate_per_s", "sweep=R1:R2:N"},
        {"workload: copy:bytes=1MiB\n    metric: goodput_per_s", "needs serve: workloads"},
        {"workload: serve:model=llama3.2-1b\n    metric: achieved_tflops", "a serve: workload is judged by a serving metric"},
        {"workload: serve:model=llama3.2-1b\n    metric: goodput_per_s_ratio", "needs a baseline"},
    };
    for (String[] c : cases) {
      Path p = tmp.resolve("bad.yaml");
      Files.writeString(p, "claims:\n  - name: x\n    target: trn2\n    " + c[0] + "\n    expected: {min: 1}\n");
      var r = CliHarness.run("verify", p.toString());
      assertThat(r.code()).as(c[0] + ": " + r.out() + r.err()).isEqualTo(ExitCodes.BAD_INPUT);
      assertThat(r.err()).as(c[0]).contains("bad.yaml").contains(c[1]).doesNotContain("Exception").doesNotContain("\tat ");
      assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
    }
  }
}
