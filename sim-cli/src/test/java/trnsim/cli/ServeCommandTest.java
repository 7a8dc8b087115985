package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** trnsim serve end to end: the report, its determinism, the rate sweep, the trace, recorded arrivals and bad input. */
class ServeCommandTest {
  static final String[] BASE = {"serve", "-H", "trn2", "--model", "llama3.2-1b", "--tp", "4", "--prompt", "uniform:64:256", "--output",
      "uniform:8:32", "--requests", "60", "--seed", "5"};

  static String[] with(String... more) {
    String[] a = new String[BASE.length + more.length];
    System.arraycopy(BASE, 0, a, 0, BASE.length);
    System.arraycopy(more, 0, a, BASE.length, more.length);
    return a;
  }

  /** The same seed prints the same bytes; the JSON report is self-consistent (rates over the span, percentiles ordered). */
  @Test
  void reportIsDeterministicAndConsistent() throws Exception {
    var a = CliHarness.run(with("--rate", "20", "--format", "json"));
    var b = CliHarness.run(with("--rate", "20", "--format", "json"));
    assertThat(a.code()).as(a.err()).isZero();
    assertThat(a.out()).isEqualTo(b.out());
    JsonNode j = Json.MAPPER.readTree(a.out());
    assertThat(j.get("requests").asInt()).isEqualTo(60);
    assertThat(j.get("replicas").asInt()).isEqualTo(1);
    assertThat(j.get("requests_per_s").asDouble()).isCloseTo(60 / j.get("span_s").asDouble(), within(1e-9));
    for (String m : new String[] {"ttft", "tpot", "latency"}) {
      assertThat(j.get(m + "_p50_s").asDouble()).isLessThanOrEqualTo(j.get(m + "_p90_s").asDouble());
      assertThat(j.get(m + "_p90_s").asDouble()).isLessThanOrEqualTo(j.get(m + "_p99_s").asDouble());
    }
    assertThat(j.get("goodput_per_s").asDouble()).isCloseTo(j.get("slo_met").asDouble() * j.get("requests_per_s").asDouble(), within(1e-9));
    long iterations = 0;
    for (JsonNode n : j.get("batch_histogram")) {
      iterations += n.asLong();
    }
    assertThat(iterations).isEqualTo(j.get("iterations").asLong());
    var c = CliHarness.run(with("--rate", "20", "--format", "json", "--seed", "6"));
    assertThat(c.out()).isNotEqualTo(a.out());
  }

  /** The sweep's TTFT rises with the rate, and the highest rate meeting the SLOs lies between a passing and a failing grid rate. */
  @Test
  void sweepFindsTheHighestRateMeetingTheSlos(@TempDir Path dir) throws Exception {
    Path chart = dir.resolve("curve.svg");
    var r = CliHarness.run(with("--sweep-rate", "5:400:5", "--slo-ttft", "200ms", "--slo-tpot", "20ms", "--format", "json", "--chart",
        chart.toString()));
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(r.out());
    double prev = 0;
    double lastPass = Double.NaN;
    double firstFail = Double.NaN;
    for (JsonNode p : j.get("points")) {
      assertThat(p.get("ttft_p90_s").asDouble()).isGreaterThanOrEqualTo(prev * 0.999);
      prev = p.get("ttft_p90_s").asDouble();
      if (p.get("meets_slo").asBoolean() && Double.isNaN(firstFail)) {
        lastPass = p.get("rate_per_s").asDouble();
      } else if (Double.isNaN(firstFail)) {
        firstFail = p.get("rate_per_s").asDouble();
      }
    }
    assertThat(lastPass).as("a passing rate").isNotNaN();
    assertThat(firstFail).as("a failing rate").isNotNaN();
    assertThat(j.get("max_rate_per_s").asDouble()).isBetween(lastPass, firstFail);
    assertThat(Files.readString(chart)).contains("<svg").contains("TTFT p90");
  }

  /** The trace has one track per replica and one slice per iteration. */
  @Test
  void traceHasATrackPerReplica(@TempDir Path dir) throws Exception {
    Path trace = dir.resolve("serve.json");
    var r = CliHarness.run("serve", "-H", "trn2", "--model", "llama3.2-1b", "--tp", "2", "--replicas", "2", "--requests", "8",
        "--prompt", "128", "--output", "4", "--rate", "50", "--format", "json", "--trace", trace.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode t = Json.MAPPER.readTree(Files.readString(trace));
    JsonNode events = t.isArray() ? t : t.get("traceEvents");
    int slices = 0;
    java.util.Set<String> tracks = new java.util.TreeSet<>();
    for (JsonNode e : events) {
      if (e.path("ph").asText().equals("X")) {
        slices++;
        tracks.add(e.get("tid").asText());
      }
    }
    assertThat(tracks).hasSize(2);
    assertThat(slices).isEqualTo(Json.MAPPER.readTree(r.out()).get("iterations").asInt());
  }

  /**
   * Recorded arrivals: two requests far apart see the bare prefill and decode times, and the report
   * equals the same requests served from --arrival fixed at the matching rate.
   */
  @Test
  void recordedArrivalsAreServedAsGiven(@TempDir Path dir) throws Exception {
    Path jsonl = dir.resolve("reqs.jsonl");
    Files.writeString(jsonl, "{\"arrival_s\": 0, \"prompt_tokens\": 128, \"output_tokens\": 16}\n\n"
        + "{\"arrival_s\": 10, \"prompt_tokens\": 128, \"output_tokens\": 16}\n");
    var a = CliHarness.run("serve", "-H", "trn2", "--model", "llama3.2-1b", "--tp", "4", "--arrival", jsonl.toString(), "--requests", "2",
        "--format", "json");
    var b = CliHarness.run("serve", "-H", "trn2", "--model", "llama3.2-1b", "--tp", "4", "--arrival", "fixed", "--rate", "0.1",
        "--prompt", "128", "--output", "16", "--requests", "2", "--format", "json");
    assertThat(a.code()).as(a.err()).isZero();
    JsonNode ja = Json.MAPPER.readTree(a.out());
    JsonNode jb = Json.MAPPER.readTree(b.out());
    // (fixed arrivals at 0.1/s put the second at 1 / 0.1 s, which differs from 10 in the last bit)
    assertThat(ja.get("ttft_p50_s").asDouble()).isCloseTo(jb.get("ttft_p50_s").asDouble(), within(1e-12));
    assertThat(ja.get("ttft_p50_s").asDouble()).isCloseTo(ja.get("ttft_p99_s").asDouble(), within(1e-12));
    assertThat(ja.get("tpot_p50_s").asDouble()).isCloseTo(jb.get("tpot_p50_s").asDouble(), within(1e-12));
  }

  @Test
  void badInputIsOneLineAndExitTwo(@TempDir Path dir) throws Exception {
    Path bad = dir.resolve("bad.jsonl");
    Files.writeString(bad, "{\"arrival_s\": 0, \"prompt_tokens\": 12.5, \"output_tokens\": 4}\n");
    String[][] cases = {
        {"--prompt", "gaussian:5"}, {"--output", "uniform:9:3"}, {"--rate", "-1"}, {"--slo-ttft", "fast"}, {"--scheduler", "fifo"},
        {"--speculative", "draft=llama3.2-1b,k=0,accept=0.5"}, {"--sweep-rate", "5:1:3"}, {"--arrival", bad.toString()},
        {"--tp", "3"}, {"--prompt", "lognormal:median=100"}, {"--chart", dir.resolve("x.svg").toString()}, {"--tp", "0"},
        {"--replicas", "64"}};
    String[] expect = {"--prompt = 'gaussian:5'", "--output = 'uniform:9:3'", "--rate = '-1'", "--slo-ttft = 'fast'",
        "--scheduler = 'fifo'", "--speculative", "--sweep-rate = '5:1:3'", "line 1: prompt_tokens = '12.5'", "tp 3", "lognormal needs",
        "--chart", "--tp = '0'", "replicas 64"};
    for (int i = 0; i < cases.length; i++) {
      String[] base = {"serve", "-H", "trn2", "--model", "llama3.2-1b", "--requests", "5"};
      String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(cases[i])).toArray(String[]::new);
      var r = CliHarness.run(args);
      assertThat(r.code()).as(String.join(" ", cases[i])).isEqualTo(2);
      assertThat(r.out()).isEmpty();
      assertThat(r.err().strip()).startsWith("error: ").contains(expect[i]).doesNotContain("\n").doesNotContain("Exception");
    }
  }
}
