package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
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
    assertThat(r.err()).contains("event budget");
  }
}
