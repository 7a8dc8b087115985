package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunCommandTest {
  @TempDir
  Path tmp;

  @Test
  void jsonHasTheDocumentedKeys() throws Exception {
    var r = CliHarness.run("run", "--hardware", "trn2", "--workload", "gemm:m=2048,k=2048,n=2048", "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode n = Json.MAPPER.readTree(r.out());
    for (String k : new String[] {"hardware", "workload", "time_s", "flops", "achieved_tflops", "peak_tflops", "utilization",
        "hbm_bytes", "achieved_hbm_gbps", "energy_j", "avg_power_w", "bottleneck", "engines"}) {
      assertThat(n.has(k)).as(k).isTrue();
    }
    assertThat(n.get("flops").asLong()).isEqualTo(2L * 2048 * 2048 * 2048);
    assertThat(n.get("achieved_tflops").asDouble()).isLessThanOrEqualTo(n.get("peak_tflops").asDouble());
    assertThat(n.get("engines").get("tensor").asDouble()).isBetween(0.0, 1.0);
  }

  @Test
  void sameInputsGiveByteIdenticalJson() {
    String[] args = {"run", "--hardware", "trn2", "--workload", "elementwise:op=add,numel=1048576", "--format", "json"};
    assertThat(CliHarness.run(args).out()).isEqualTo(CliHarness.run(args).out());
  }

  @Test
  void coreClassesChangeNoOutput() {
    // A ragged h100 grid under its power limit: classes of same-slab SMs against every SM simulated.
    String[] args = {"run", "-H", "h100", "-w", "gemm:m=2048,k=3072,n=2048", "--format", "json"};
    var classes = CliHarness.run(args);
    var every = CliHarness.run(java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.stream.Stream.of("--no-core-classes"))
        .toArray(String[]::new));
    assertThat(classes.code()).as(classes.err()).isZero();
    assertThat(every.code()).as(every.err()).isZero();
    assertThat(classes.out()).isEqualTo(every.out());
  }

  @Test
  void tableExplainsAndCsvHasAHeader() {
    var t = CliHarness.run("run", "--hardware", "trn2", "--workload", "gemm:m=4096,k=4096,n=4096");
    assertThat(t.out()).contains("bound by").contains("roofline").contains("chose");
    var c = CliHarness.run("run", "--hardware", "trn2", "--workload", "copy:bytes=16MiB", "--format", "csv");
    assertThat(c.out().lines().findFirst().orElseThrow()).startsWith("hardware,workload,time_s");
    assertThat(c.out().lines().count()).isEqualTo(2);
  }

  @Test
  void whatIfOverridesChangeTheResult() throws Exception {
    var base = Json.MAPPER.readTree(CliHarness.run("run", "-H", "trn2", "-w", "copy:bytes=256MiB", "--format", "json").out());
    var fast = Json.MAPPER.readTree(CliHarness.run("run", "-H", "trn2", "-w", "copy:bytes=256MiB", "--format", "json",
        "--set", "chip.hbm.bandwidth=5.8TB/s").out());
    assertThat(base.get("time_s").asDouble() / fast.get("time_s").asDouble()).isGreaterThan(1.3);
  }

  /** Slices of the trace by track ("pid/tid"), each as {start, end} in microseconds. */
  static java.util.Map<String, List<double[]>> slicesByTrack(JsonNode trace) {
    java.util.Map<String, List<double[]>> tracks = new java.util.TreeMap<>();
    for (JsonNode e : trace.get("traceEvents")) {
      if (e.get("ph").asText().equals("X")) {
        double ts = e.get("ts").asDouble();
        tracks.computeIfAbsent(e.get("pid").asInt() + "/" + e.get("tid").asInt(), k -> new ArrayList<>())
            .add(new double[] {ts, ts + e.get("dur").asDouble()});
      }
    }
    return tracks;
  }

  @Test
  void aComposedWorkloadIsTracedOnOneTimelineWithoutOverlapsAndSpansTheSimulatedTime() throws Exception {
    // A decoder layer is eleven kernels run one after another. The bug: every kernel started at t=0,
    // so slices overlapped on one track and the trace spanned the longest kernel, not the layer.
    Path trace = tmp.resolve("layer.json");
    var r = CliHarness.run("run", "-H", "trn2", "-w", "layer:model=llama3-8b,phase=prefill,seq=512", "--trace", trace.toString(),
        "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    double simulatedUs = Json.MAPPER.readTree(r.out()).get("time_s").asDouble() * 1e6;
    JsonNode n = Json.MAPPER.readTree(Files.readString(trace));
    var tracks = slicesByTrack(n);
    double last = 0;
    for (var e : tracks.entrySet()) {
      List<double[]> s = new ArrayList<>(e.getValue());
      s.sort(java.util.Comparator.comparingDouble(a -> a[0]));
      for (int i = 1; i < s.size(); i++) {
        // 1e-6 us: the trace's microsecond timestamps are doubles of integer picoseconds.
        assertThat(s.get(i)[0]).as("track %s slice %d", e.getKey(), i).isGreaterThanOrEqualTo(s.get(i - 1)[1] - 1e-6);
      }
      for (double[] a : s) {
        last = Math.max(last, a[1]);
      }
    }
    assertThat(last).isCloseTo(simulatedUs, org.assertj.core.api.Assertions.within(simulatedUs * 1e-9 + 1e-3));
    // The workload's own track has one slice per kernel, in order, and they tile the run.
    List<double[]> kernels = tracks.get("1000/0");
    assertThat(kernels).hasSizeGreaterThan(5);
    assertThat(kernels.get(kernels.size() - 1)[1]).isCloseTo(simulatedUs, org.assertj.core.api.Assertions.within(1e-3));
  }

  @Test
  void anLlmStepIsTracedAsAComposedTimeline() throws Exception {
    // Was refused ("not available for system workloads"). Now: the simulated runs (layers, head,
    // sampling) end to end on the chip tracks, the step's breakdown on its own track spanning the step.
    Path trace = tmp.resolve("llm.json");
    var r = CliHarness.run("run", "-H", "trn2", "-w", "llm-infer:model=llama3.2-1b,phase=decode,batch=4,ctx=1024",
        "--trace", trace.toString(), "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    double stepUs = Json.MAPPER.readTree(r.out()).get("time_s").asDouble() * 1e6;
    var tracks = slicesByTrack(Json.MAPPER.readTree(Files.readString(trace)));
    for (var e : tracks.entrySet()) {
      List<double[]> s = new ArrayList<>(e.getValue());
      s.sort(java.util.Comparator.comparingDouble(a -> a[0]));
      for (int i = 1; i < s.size(); i++) {
        assertThat(s.get(i)[0]).as("track %s", e.getKey()).isGreaterThanOrEqualTo(s.get(i - 1)[1] - 1e-6);
      }
    }
    List<double[]> step = tracks.get("2000/0");
    assertThat(step.get(0)[0]).isZero();
    assertThat(step.get(step.size() - 1)[1]).isCloseTo(stepUs, org.assertj.core.api.Assertions.within(stepUs * 1e-6));
    List<double[]> runs = tracks.get("1000/1");
    assertThat(runs.size()).isGreaterThanOrEqualTo(2);
    assertThat(runs.get(1)[0]).isCloseTo(runs.get(0)[1], org.assertj.core.api.Assertions.within(1e-6));
  }

  @Test
  void aTraceCutByItsSizeGuardWarnsAndSaysSoInTheFile() throws Exception {
    Path trace = tmp.resolve("cut.json");
    var r = CliHarness.run("run", "-H", "trn2", "-w", "gemm:m=1024,k=1024,n=1024", "--trace", trace.toString(),
        "--trace-max-events", "50");
    assertThat(r.code()).isZero();
    assertThat(r.err()).startsWith("warning: --trace = '" + trace + "': trace cut at 50 events (")
        .contains("raise --trace-max-events");
    JsonNode n = Json.MAPPER.readTree(Files.readString(trace));
    assertThat(n.get("otherData").get("note").asText()).startsWith("trace cut at 50 events");
    long timed = 0;
    for (JsonNode e : n.get("traceEvents")) {
      timed += e.get("ph").asText().matches("[XC]") ? 1 : 0;
    }
    assertThat(timed).isEqualTo(50);
    var full = CliHarness.run("run", "-H", "trn2", "-w", "gemm:m=1024,k=1024,n=1024", "--trace", trace.toString());
    assertThat(full.err()).isEmpty();
    assertThat(Json.MAPPER.readTree(Files.readString(trace)).has("otherData")).isFalse();
  }

  @Test
  void traceFileIsWrittenAndValid() throws Exception {
    Path trace = tmp.resolve("t.json");
    var r = CliHarness.run("run", "-H", "trn2", "-w", "gemm:m=512,k=512,n=512", "--trace", trace.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode n = Json.MAPPER.readTree(Files.readString(trace));
    assertThat(n.get("traceEvents").size()).isGreaterThan(10);
    try (var s = Files.list(tmp)) {
      assertThat(s.count()).as("no temporary files left behind").isEqualTo(1);
    }
  }

  @Test
  void badWorkloadIsOneLineExitTwoAndNoTrace() {
    Path trace = tmp.resolve("t.json");
    var r = CliHarness.run("run", "-H", "trn2", "-w", "gemm:m=4096,k=4096,n=0", "--trace", trace.toString());
    assertThat(r.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(r.err().strip().lines().count()).isEqualTo(1);
    assertThat(r.err()).contains("gemm.n = '0'");
    assertThat(trace).doesNotExist();
    var bad = CliHarness.run("run", "-H", "trn2", "-w", "gemm:m=8,k=8,n=8", "--format", "xml");
    assertThat(bad.code()).isEqualTo(ExitCodes.BAD_INPUT);
    var hwBad = CliHarness.run("run", "-H", "trn2", "-w", "gemm:m=8,k=8,n=8", "--set", "chip.cores=-1");
    assertThat(hwBad.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(hwBad.err()).contains("chip.cores");
  }

  @Test
  void eventBudgetIsAClearError() {
    var r = CliHarness.run("run", "-H", "trn2", "-w", "gemm:m=4096,k=4096,n=4096", "--max-events", "1000");
    assertThat(r.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(r.err()).contains("event budget of 1000 events").contains("--max-events")
        .contains("kernel 'gemm m=4096 k=4096 n=4096 bf16'");
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.out()).isEmpty();
  }
}
