package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import trnsim.core.api.Version;

/** {@code --outdir}: a run directory from which the same result is reproduced, with statistics that add up to it. */
class RunDirectoryTest {
  @TempDir
  Path tmp;

  private static final String GEMM = "gemm:m=1024,k=2048,n=1024";

  /** The sum of every counter in {@code totals} whose name ends with one of {@code suffixes}. */
  private static double total(JsonNode statsPoint, String... suffixes) {
    double sum = 0;
    for (Iterator<Map.Entry<String, JsonNode>> it = statsPoint.get("totals").fields(); it.hasNext();) {
      var e = it.next();
      for (String s : suffixes) {
        if (e.getKey().endsWith(s)) {
          sum += e.getValue().asDouble();
        }
      }
    }
    return sum;
  }

  @Test
  void aKernelRunIsReproducedFromItsDirectoryAndItsStatisticsAddUp() throws Exception {
    Path dir = tmp.resolve("out");
    var r = CliHarness.run("run", "-H", "trn2", "--set", "chip.power.limit=125W", "-w", GEMM, "--format", "json", "--outdir",
        dir.toString());
    assertThat(r.code()).as(r.err()).isZero();
    for (String f : List.of("hardware.yaml", "workload.txt", "stats.json", "result.json", "version.txt")) {
      assertThat(dir.resolve(f)).isRegularFile();
    }
    assertThat(Files.readString(dir.resolve("result.json"))).isEqualTo(r.out());
    assertThat(Files.readString(dir.resolve("workload.txt"))).isEqualTo(GEMM + "\n");
    assertThat(Files.readAllLines(dir.resolve("version.txt"))).first().isEqualTo("trnsim " + Version.current());
    assertThat(Files.readString(dir.resolve("version.txt"))).contains("command trnsim run -H trn2 --set chip.power.limit=125W");
    // the resolved config holds the --set: re-run from it with no overrides and get the same document, byte for byte
    var again = CliHarness.run("run", "--hardware", dir.resolve("hardware.yaml").toString(), "-w", GEMM, "--format", "json");
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(again.out()).isEqualTo(r.out());
    assertThat(Json.MAPPER.readTree(again.out()).get("power_limited").asBoolean()).isTrue();
    // the statistics are the counters the result was summarised from: FLOPs and HBM bytes add up to it
    JsonNode result = Json.MAPPER.readTree(r.out());
    JsonNode stats = Json.MAPPER.readTree(dir.resolve("stats.json").toFile()).get("points").get(0);
    assertThat(total(stats, ".tensor.flops")).isEqualTo(result.get("flops").asDouble());
    assertThat(total(stats, ".hbm_read_bytes", ".hbm_write_bytes")).isCloseTo(result.get("hbm_bytes").asDouble(),
        within(1e-9 * result.get("hbm_bytes").asDouble()));
    assertThat(stats.get("steps").get(0).get("counters").size()).isGreaterThan(10);
  }

  @Test
  void aSuiteGivesOneStatisticsPointPerWorkload() throws Exception {
    Path dir = tmp.resolve("suite");
    var r = CliHarness.run("run", "-H", "trn2", "-w", "kernels", "--format", "json", "--outdir", dir.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode result = Json.MAPPER.readTree(r.out());
    JsonNode points = Json.MAPPER.readTree(dir.resolve("stats.json").toFile()).get("points");
    assertThat(points.size()).isEqualTo(result.size());
    assertThat(Files.readAllLines(dir.resolve("workload.txt"))).hasSize(result.size());
    for (int i = 0; i < result.size(); i++) {
      assertThat(total(points.get(i), ".tensor.flops")).isEqualTo(result.get(i).get("flops").asDouble());
    }
  }

  @Test
  void aSystemStepIsReproducedFromItsDirectory() throws Exception {
    Path dir = tmp.resolve("sys");
    String step = "llm-infer:model=llama3-8b,phase=decode,batch=8,ctx=2048";
    var r = CliHarness.run("run", "-H", "trn2-48xl", "-w", step, "--format", "json", "--outdir", dir.toString());
    assertThat(r.code()).as(r.err()).isZero();
    var again = CliHarness.run("run", "-H", dir.resolve("hardware.yaml").toString(), "-w", step, "--format", "json");
    assertThat(again.out()).isEqualTo(r.out());
    assertThat(Json.MAPPER.readTree(dir.resolve("stats.json").toFile()).get("points").get(0).get("scope").asText())
        .contains("one layer");
  }

  @Test
  void sweepCompareAndServeWriteTheirDocuments() throws Exception {
    Path sd = tmp.resolve("sweep");
    String[] sweep = {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB,2MiB", "--out",
        tmp.resolve("s.jsonl").toString(), "--no-progress", "--format", "json", "--outdir", sd.toString()};
    var s = CliHarness.run(sweep);
    assertThat(s.code()).as(s.err()).isZero();
    assertThat(Files.readString(sd.resolve("result.json"))).isEqualTo(s.out());
    // resumed: nothing is simulated again, and the statistics of both points are kept
    var resumed = CliHarness.run(sweep);
    assertThat(Files.readString(sd.resolve("result.json"))).isEqualTo(resumed.out());
    JsonNode points = Json.MAPPER.readTree(sd.resolve("stats.json").toFile()).get("points");
    assertThat(points.size()).isEqualTo(2);
    assertThat(points.get(0).get("key").asText()).isEqualTo(Json.MAPPER.readTree(s.out()).get(0).get("key").asText());

    Path cd = tmp.resolve("compare");
    var c = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", "copy:bytes=1MiB", "--format", "json",
        "--outdir", cd.toString());
    assertThat(c.code()).as(c.err()).isZero();
    assertThat(Files.readString(cd.resolve("result.json"))).isEqualTo(c.out());
    assertThat(cd.resolve("hardware-baseline.yaml")).isRegularFile();
    assertThat(cd.resolve("hardware-target.yaml")).isRegularFile();
    assertThat(Json.MAPPER.readTree(cd.resolve("stats.json").toFile()).get("points").size()).isEqualTo(2);

    Path vd = tmp.resolve("serve");
    var v = CliHarness.run("serve", "-H", "trn2", "--model", "llama3.2-1b", "--tp", "4", "--arrival", "fixed", "--rate", "0.1",
        "--prompt", "128", "--output", "16", "--requests", "2", "--format", "json", "--outdir", vd.toString());
    assertThat(v.code()).as(v.err()).isZero();
    assertThat(Files.readString(vd.resolve("result.json"))).isEqualTo(v.out());
    assertThat(Json.MAPPER.readTree(vd.resolve("stats.json").toFile()).get("points").get(0).get("requests").size()).isEqualTo(2);
  }

  @Test
  void aBadFolderIsOneLineExitTwoAndNothingIsWritten() throws Exception {
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    var r = CliHarness.run("run", "-H", "trn2", "-w", "copy:bytes=1MiB", "--outdir", file.toString());
    assertThat(r.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(r.err().strip()).isEqualTo("error: --outdir = '" + file + "': is a file, not a folder");
    assertThat(r.out()).isEmpty();
    var under = CliHarness.run("run", "-H", "trn2", "-w", "copy:bytes=1MiB", "--outdir", file.resolve("sub").toString());
    assertThat(under.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(under.err().strip()).isEqualTo("error: --outdir = '" + file.resolve("sub") + "': cannot be created: '" + file
        + "' is a file, not a folder");
    // a workload that fails leaves no folder behind
    Path none = tmp.resolve("none");
    var bad = CliHarness.run("run", "-H", "trn2", "-w", "gemm:m=0,k=1,n=1", "--outdir", none.toString());
    assertThat(bad.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(bad.err().lines().count()).isEqualTo(1);
    assertThat(none).doesNotExist();
    var inConfigs = CliHarness.run("run", "-H", "trn2", "-w", "copy:bytes=1MiB", "--outdir",
        CliHarness.HOME.resolve("configs/out").toString());
    assertThat(inConfigs.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(inConfigs.err()).contains("inside the configs folder");
  }
}
