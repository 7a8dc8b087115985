package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SweepCommandTest {
  @TempDir
  Path tmp;

  private static final String[] SMALL = {"sweep", "-H", "trn2", "-w", "copy:bytes=4MiB", "--vary",
      "chip.hbm.bandwidth=2TB/s..4TB/s:3", "--vary", "workload.bytes=1MiB,4MiB", "--no-progress"};

  private String[] small(String... more) {
    List<String> a = new ArrayList<>(List.of(SMALL));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  private static List<JsonNode> rows(Path jsonl) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(jsonl)) {
      out.add(Json.MAPPER.readTree(line));
    }
    return out;
  }

  @Test
  void helpListsTheNewCommands() {
    var r = CliHarness.run("--help");
    assertThat(r.out()).contains("sweep", "verify", "plot");
    for (String c : new String[] {"sweep", "verify", "plot"}) {
      assertThat(CliHarness.run(c, "--help").code()).isZero();
    }
    assertThat(CliHarness.run("plot", "roofline", "--help").out()).contains("--hardware", "--out", "--format");
  }

  @Test
  void rangesAndListsExpandWithUnits() {
    assertThat(SweepCommand.parseVary("chip.hbm.bandwidth=2TB/s..6TB/s:5").values())
        .containsExactly("2TB/s", "3TB/s", "4TB/s", "5TB/s", "6TB/s");
    assertThat(SweepCommand.parseVary("workload.m=1024..4096:4").values()).containsExactly("1024", "2048", "3072", "4096");
    assertThat(SweepCommand.parseVary("chip.core.sbuf.size=12MiB, 24MiB,48MiB").values())
        .containsExactly("12MiB", "24MiB", "48MiB");
    assertThat(SweepCommand.parseVary("x.y=0.5..1:3").values()).containsExactly("0.5", "0.75", "1");
  }

  @Test
  void keysAreStableAndIgnoreOverrideOrder() {
    var a = new java.util.LinkedHashMap<String, String>();
    a.put("chip.a", "1");
    a.put("chip.b", "2");
    var b = new java.util.LinkedHashMap<String, String>();
    b.put("chip.b", "2");
    b.put("chip.a", "1");
    assertThat(SweepCommand.key("trn2", a, "copy:bytes=1MiB")).isEqualTo(SweepCommand.key("trn2", b, "copy:bytes=1MiB"))
        .hasSize(16).isNotEqualTo(SweepCommand.key("trn3", a, "copy:bytes=1MiB"));
  }

  @Test
  void runsTheProductWritesJsonlCsvChartsAndResumes() throws Exception {
    Path out = tmp.resolve("r.jsonl");
    Path csv = tmp.resolve("r.csv");
    Path png = tmp.resolve("c.png");
    var r = CliHarness.run(small("--out", out.toString(), "--csv", csv.toString(), "--chart", png.toString(),
        "--metric", "achieved_hbm_gbps", "--threads", "2"));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("chip.hbm.bandwidth", "workload.bytes", "6 points: 6 simulated now, 0 already");
    List<JsonNode> rows = rows(out);
    assertThat(rows).hasSize(6);
    for (JsonNode n : rows) {
      for (String k : new String[] {"key", "vary", "set", "hardware", "workload", "time_s", "achieved_hbm_gbps", "energy_j",
          "bottleneck", "engines", "steps"}) {
        assertThat(n.has(k)).as(k).isTrue();
      }
      assertThat(n.get("set").get("chip.hbm.bandwidth").asText()).isEqualTo(n.get("vary").get("chip.hbm.bandwidth").asText());
      assertThat(n.get("workload").asText()).isEqualTo("copy:bytes=" + n.get("vary").get("workload.bytes").asText());
    }
    List<String> csvLines = Files.readAllLines(csv);
    assertThat(csvLines.get(0)).startsWith("chip.hbm.bandwidth,workload.bytes,key,hardware,workload,time_s");
    assertThat(csvLines.subList(1, 7)).extracting(l -> l.substring(0, l.indexOf(',', l.indexOf(',') + 1)))
        .containsExactly("2TB/s,1MiB", "2TB/s,4MiB", "3TB/s,1MiB", "3TB/s,4MiB", "4TB/s,1MiB", "4TB/s,4MiB");
    byte[] img = Files.readAllBytes(png);
    assertThat(img).startsWith(new byte[] {(byte) 0x89, 'P', 'N', 'G'});
    // The 4 MiB copy is HBM-bound at 2 TB/s: doubling bandwidth helps it, so the chart has something to show.
    // Re-running skips every finished point and changes nothing in the file.
    String before = Files.readString(out);
    var again = CliHarness.run(small("--out", out.toString(), "--format", "csv"));
    assertThat(again.code()).isZero();
    assertThat(Files.readString(out)).isEqualTo(before);
    assertThat(again.out()).isEqualTo(String.join("\n", csvLines) + "\n");
    var table = CliHarness.run(small("--out", out.toString()));
    assertThat(table.out()).contains("6 points: 0 simulated now, 6 already");
    try (var s = Files.list(tmp)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("r.jsonl", "r.csv", "c.png");
    }
  }

  @Test
  void outputIsByteIdenticalRegardlessOfThreads() throws Exception {
    Path a = tmp.resolve("a.jsonl");
    Path b = tmp.resolve("b.jsonl");
    var one = CliHarness.run(small("--out", a.toString(), "--threads", "1", "--format", "json"));
    var two = CliHarness.run(small("--out", b.toString(), "--threads", "3", "--format", "json"));
    assertThat(one.code()).isZero();
    assertThat(two.out()).isEqualTo(one.out());
    assertThat(new HashSet<>(Files.readAllLines(b))).isEqualTo(new HashSet<>(Files.readAllLines(a)));
    assertThat(Json.MAPPER.readTree(one.out()).size()).isEqualTo(6);
    var c1 = CliHarness.run(small("--out", a.toString(), "--format", "csv", "--threads", "1"));
    var c2 = CliHarness.run(small("--out", b.toString(), "--format", "csv", "--threads", "4"));
    assertThat(c2.out()).isEqualTo(c1.out());
  }

  @Test
  void svgChartAndCategoricalAxis() throws Exception {
    Path svg = tmp.resolve("c.svg");
    var r = CliHarness.run("sweep", "-H", "trn2", "-w", "elementwise:op=add,numel=262144", "--vary", "workload.op=add,gelu",
        "--out", tmp.resolve("e.jsonl").toString(), "--chart", svg.toString(), "--metric", "time_s", "--no-progress");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Files.readString(svg)).contains("<svg");
  }

  @Test
  void aPartialLastLineIsDroppedAndThatPointRunsAgain() throws Exception {
    Path out = tmp.resolve("r.jsonl");
    assertThat(CliHarness.run(small("--out", out.toString())).code()).isZero();
    List<String> lines = Files.readAllLines(out);
    // Simulate a run killed mid-write: the last row cut in half, no newline.
    String cut = String.join("\n", lines.subList(0, 5)) + "\n" + lines.get(5).substring(0, lines.get(5).length() / 2);
    Files.writeString(out, cut);
    var r = CliHarness.run(small("--out", out.toString()));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("dropped a partial last line");
    assertThat(r.out()).contains("6 points: 1 simulated now, 5 already");
    assertKeysOnce(out, 6);
  }

  /** SIGKILL (no shutdown hooks run) and SIGTERM (the JVM's orderly exit) part-way: a re-run resumes with every point once. */
  @org.junit.jupiter.params.ParameterizedTest(name = "forcibly={0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
  void killedSweepResumesWithEveryPointExactlyOnce(boolean forcibly) throws Exception {
    Path out = tmp.resolve("kill-" + forcibly + ".jsonl");
    int points = 16;
    List<String> args = List.of("sweep", "-H", "trn2", "-w", "gemm:m=2048,k=2048,n=1024", "--vary",
        "workload.n=1024..4096:" + points, "--threads", "1", "--no-progress", "--format", "csv", "--out", out.toString());
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        "-Dtrnsim.home=" + CliHarness.HOME, "trnsim.cli.Main"));
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    int seen = 0;
    while (System.nanoTime() < deadline && p.isAlive()) {
      seen = Files.exists(out) ? (int) Files.readAllLines(out).size() : 0;
      if (seen >= 2) {
        break;
      }
      Thread.sleep(20);
    }
    assertThat(p.isAlive()).as("child still running after %d rows; log: %s", seen,
        Files.exists(tmp.resolve("child.log")) ? Files.readString(tmp.resolve("child.log")) : "").isTrue();
    if (forcibly) {
      p.destroyForcibly();
    } else {
      p.destroy(); // SIGTERM
    }
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    int afterKill = rowsTolerant(out);
    assertThat(afterKill).as("killed part-way").isBetween(2, points - 1);
    var r = CliHarness.run(args.toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isZero();
    assertKeysOnce(out, points);
    assertThat(r.out().lines().count()).isEqualTo(points + 1);
  }

  private static int rowsTolerant(Path out) throws Exception {
    String s = Files.readString(out, StandardCharsets.UTF_8);
    return (int) s.chars().filter(c -> c == '\n').count();
  }

  private static void assertKeysOnce(Path out, int points) throws Exception {
    List<String> lines = Files.readAllLines(out);
    assertThat(lines).hasSize(points);
    Set<String> keys = new HashSet<>();
    for (String l : lines) {
      assertThat(keys.add(Json.MAPPER.readTree(l).get("key").asText())).as("key once: " + l.substring(0, 40)).isTrue();
    }
  }

  @Test
  void aFailingPointIsAnErrorRowAndRunsAgainOnResume() throws Exception {
    Path out = tmp.resolve("r.jsonl");
    Path csv = tmp.resolve("r.csv");
    String[] args = {"sweep", "-H", "trn2", "-w", "gemm:m=256,k=256,n=256", "--vary", "workload.n=0,256",
        "--out", out.toString(), "--csv", csv.toString(), "--no-progress"};
    var r = CliHarness.run(args);
    assertThat(r.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(r.err().strip().lines().count()).isEqualTo(1);
    assertThat(r.err()).contains("1 of 2 points failed").contains("workload.n=0").contains("gemm.n = '0'");
    List<JsonNode> rows = rows(out);
    assertThat(rows).hasSize(2);
    JsonNode bad = rows.stream().filter(n -> n.has("error")).findFirst().orElseThrow();
    assertThat(bad.get("error").asText()).startsWith("point workload.n=0: ").contains("gemm.n = '0'");
    assertThat(bad.get("error_kind").asText()).isEqualTo("bad_input");
    assertThat(bad.get("vary").get("workload.n").asText()).isEqualTo("0");
    assertThat(bad.get("workload").asText()).isEqualTo("gemm:m=256,k=256,n=0");
    assertThat(bad.has("time_s")).isFalse();
    // The CSV keeps both points in point order; the error column appears only when a point failed.
    List<String> csvLines = Files.readAllLines(csv);
    assertThat(csvLines.get(0)).endsWith(",error");
    assertThat(csvLines.get(1)).startsWith("0,").contains("gemm.n = '0'");
    assertThat(csvLines.get(2)).startsWith("256,");
    // An error row does not count as finished: the same command tries that point (only) again.
    var again = CliHarness.run(args);
    assertThat(again.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(again.err()).contains("1 of 1 points failed");
    assertThat(Files.readAllLines(out)).hasSize(3);
    assertThat(Files.readAllLines(csv)).isEqualTo(csvLines);
  }

  @Test
  void anEngineNotOnTheClassPathIsOneLineExitTwo() throws Exception {
    Path out = tmp.resolve("s.jsonl");
    var r = CliHarness.run("sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB,2MiB",
        "--out", out.toString(), "--engine", "spark", "--master", "local[2]");
    assertThat(r.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(r.err().strip().lines().count()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: --engine = 'spark'").contains("trnsim-spark.jar");
    assertThat(r.out()).isEmpty();
    assertThat(out).doesNotExist();
  }

  @Test
  void badInputIsOneLineExitTwo() throws Exception {
    String o = tmp.resolve("x.jsonl").toString();
    String[][] cases = {
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "chip.hbm.bandwidth", "--out", o},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "chip.hbm.bandwidth=2TB/s..6GB/s:3", "--out", o},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "chip.hbm.bandwidth=6TB/s..2TB/s:3", "--out", o},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "chip.hbm.bandwidth=2TB/s..6TB/s:1", "--out", o},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "chip.hbm.bandwidth=1TB/s,,2TB/s", "--out", o},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "chip.hbm.bandwidth=1TB/s,1TB/s", "--out", o},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "Chip=1", "--out", o},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--vary", "workload.bytes=2MiB", "--out", o},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "chip.hbm.bandwidth=-3TB/s", "--out", o},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "chip.nosuchkey=3", "--out", o},
        {"sweep", "-H", "trn9", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--out", o},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--out", o, "--metric", "speed"},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--out", o, "--chart", "c.jpg"},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--out", o, "--threads", "0"},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--out", o, "--format", "xml"},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB"},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--out", o},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--out", o, "--engine", "flink"},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--out", o, "--master", "local[2]"},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--out", o, "--tasks", "4"},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--out", o, "--spark-conf", "a=b"},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--out", o, "--engine", "spark",
            "--threads", "2"},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--out", o, "--engine", "spark",
            "--tasks", "0"},
        {"sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--out", o, "--engine", "spark",
            "--spark-conf", "executor.memory=4g"},
    };
    for (String[] c : cases) {
      var r = CliHarness.run(c);
      assertThat(r.code()).as(String.join(" ", c) + " -> " + r.err()).isEqualTo(ExitCodes.BAD_INPUT);
      assertThat(r.err()).as(String.join(" ", c)).startsWith("error:");
      assertThat(r.out()).isEmpty();
    }
    // A workload that fails only when lowered fails its point (reported, kept as an error row), exit 2.
    var kind = CliHarness.run("sweep", "-H", "trn2", "-w", "nokind:", "--vary", "workload.bytes=1MiB", "--out", o);
    assertThat(kind.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(kind.err()).contains("nokind");
    var bad = CliHarness.run("sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "chip.hbm.bandwidth=-3TB/s", "--out", o);
    assertThat(bad.err().strip().lines().count()).isEqualTo(1);
    assertThat(bad.err()).contains("chip.hbm.bandwidth").contains("-3TB/s");
    // A file that is not a sweep's results is refused, not overwritten.
    Path notRows = tmp.resolve("notes.jsonl");
    Files.writeString(notRows, "hello\n");
    var r = CliHarness.run("sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--out",
        notRows.toString());
    assertThat(r.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(r.err()).contains("line 1 is not a sweep result row");
    assertThat(Files.readString(notRows)).isEqualTo("hello\n");
    var dir = CliHarness.run("sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB", "--out",
        tmp.toString());
    assertThat(dir.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(dir.err().strip()).isEqualTo("error: --out = '" + tmp + "': not a regular file (a directory, device or FIFO); write to a file path");
  }

  /** Every key of {@code run --format json} for the same point, with the same value. */
  private static void assertRowEqualsRun(JsonNode row, JsonNode run) {
    var names = run.fieldNames();
    while (names.hasNext()) {
      String k = names.next();
      assertThat(row.has(k)).as("sweep row has run's key %s", k).isTrue();
      assertThat(row.get(k)).as(k).isEqualTo(run.get(k));
    }
  }

  @Test
  void aRowIsWhatRunReportsForThatPointPowerLimitAndSystemStepsIncluded() throws Exception {
    // h100 at 2048^3 is over its 700 W limit at full clock: run lowers the clock, so must the sweep
    Path out = tmp.resolve("parity.jsonl");
    var r = CliHarness.run("sweep", "-H", "h100", "-w", "gemm:m=2048,k=2048,n=2048", "--vary", "chip.hbm.bandwidth=3.35TB/s",
        "--out", out.toString(), "--no-progress");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode run = Json.MAPPER.readTree(CliHarness.run("run", "-H", "h100", "-w", "gemm:m=2048,k=2048,n=2048", "--set",
        "chip.hbm.bandwidth=3.35TB/s", "--format", "json").out());
    assertThat(run.get("power_limited").asBoolean()).isTrue();
    assertRowEqualsRun(rows(out).get(0), run);
    assertThat(rows(out).get(0).get("avg_power_w").asDouble()).isLessThanOrEqualTo(700 * 1.01);
    // a whole-system step is a sweep point like any other
    Path sys = tmp.resolve("system.jsonl");
    String step = "llm-train:model=llama3-8b,seq=512,global_batch=64";
    var s = CliHarness.run("sweep", "-H", "trn2-48xl", "-w", step, "--vary", "workload.seq=512", "--out", sys.toString(),
        "--no-progress");
    assertThat(s.code()).as(s.err()).isZero();
    assertRowEqualsRun(rows(sys).get(0), Json.MAPPER.readTree(CliHarness.run("run", "-H", "trn2-48xl", "-w", step, "--format",
        "json").out()));
  }

  /** The row's keys are exactly run's plus the sweep's own (key, vary, set), and no value is the string "NaN". */
  private static void assertSameShape(JsonNode row, JsonNode run) {
    Set<String> rowKeys = new HashSet<>();
    row.fieldNames().forEachRemaining(rowKeys::add);
    Set<String> runKeys = new HashSet<>();
    run.fieldNames().forEachRemaining(runKeys::add);
    runKeys.addAll(Set.of("key", "vary", "set"));
    assertThat(rowKeys).isEqualTo(runKeys);
    assertThat(row.toString()).doesNotContain("NaN").doesNotContain("Infinity");
  }

  @Test
  void powerLimitedKernelAndInferencePointsEqualRun() throws Exception {
    // trn2 at 125 W cannot run a 1024x2048x1024 GEMM at full clock: both commands run it lowered, at the same clock
    Path out = tmp.resolve("limited.jsonl");
    String gemm = "gemm:m=1024,k=2048,n=1024";
    var r = CliHarness.run("sweep", "-H", "trn2", "-w", gemm, "--set", "chip.power.limit=125W", "--vary", "workload.m=1024",
        "--out", out.toString(), "--no-progress");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode run = Json.MAPPER.readTree(CliHarness.run("run", "-H", "trn2", "-w", gemm, "--set", "chip.power.limit=125W",
        "--format", "json").out());
    JsonNode row = rows(out).get(0);
    assertThat(run.get("power_limited").asBoolean()).isTrue();
    assertThat(run.get("clock_ghz").asDouble()).isLessThan(run.get("max_clock_ghz").asDouble());
    assertThat(run.get("avg_power_w").asDouble()).isLessThanOrEqualTo(125 * 1.01);
    assertRowEqualsRun(row, run);
    assertSameShape(row, run);
    // an inference step under a 150 W limit per chip: the limiter lowers the compute phases' clock in both
    Path inf = tmp.resolve("infer.jsonl");
    String step = "llm-infer:model=llama3-8b,phase=decode,batch=8,ctx=2048";
    var s = CliHarness.run("sweep", "-H", "trn2-48xl", "-w", step, "--set", "chip.power.limit=150W", "--vary", "workload.batch=8",
        "--out", inf.toString(), "--no-progress");
    assertThat(s.code()).as(s.err()).isZero();
    JsonNode runInf = Json.MAPPER.readTree(CliHarness.run("run", "-H", "trn2-48xl", "-w", step, "--set", "chip.power.limit=150W",
        "--format", "json").out());
    assertThat(runInf.get("power_limited").asBoolean()).isTrue();
    assertThat(runInf.get("power_limit_w").asDouble()).isEqualTo(150.0);
    assertRowEqualsRun(rows(inf).get(0), runInf);
    assertSameShape(rows(inf).get(0), runInf);
  }

  @Test
  void varyAddressesAListElement() throws Exception {
    // the Z link of trn2-ultraserver's 4x4x4 torus (links[2]) joins its 4 instances: a slower one cannot make the step faster
    Path out = tmp.resolve("links.jsonl");
    String step = "llm-train:model=llama3-8b,seq=512,global_batch=64";
    var r = CliHarness.run("sweep", "-H", "trn2-ultraserver", "-w", step, "--vary",
        "system.topology.links[2].bandwidth=25GB/s,100GB/s", "--out", out.toString(), "--no-progress");
    assertThat(r.code()).as(r.err()).isZero();
    List<JsonNode> rows = rows(out);
    rows.sort(java.util.Comparator.comparing(n -> n.get("vary").get("system.topology.links[2].bandwidth").asText()));
    assertThat(rows.get(1).get("set").get("system.topology.links[2].bandwidth").asText()).isEqualTo("25GB/s");
    assertThat(rows.get(1).get("time_s").asDouble()).isGreaterThanOrEqualTo(rows.get(0).get("time_s").asDouble());
    assertRowEqualsRun(rows.get(0), Json.MAPPER.readTree(CliHarness.run("run", "-H", "trn2-ultraserver", "--set",
        "system.topology.links[2].bandwidth=100GB/s", "-w", step, "--format", "json").out()));
    // trn2-48xl's 2D torus has links[0] and links[1] only: one line naming --vary, the path and the value; nothing written
    Path bad = tmp.resolve("bad-index.jsonl");
    var e = CliHarness.run("sweep", "-H", "trn2-48xl", "-w", "copy:bytes=1MiB", "--vary", "system.topology.links[2].bandwidth=1TB/s",
        "--out", bad.toString(), "--no-progress");
    assertThat(e.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(e.err().strip()).isEqualTo("error: --vary: system.topology.links[2].bandwidth = '1TB/s': index 2 is out of range: "
        + "'system.topology.links' has 2 elements (indices 0..1)");
    assertThat(bad).doesNotExist();
    var run = CliHarness.run("run", "-H", "trn2-48xl", "--set", "system.topology.links[5].latency=1us", "-w", "copy:bytes=1MiB");
    assertThat(run.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(run.err().lines().count()).isEqualTo(1);
    assertThat(run.err()).contains("--set", "system.topology.links[5].latency", "'1us'", "out of range");
  }

  @Test
  void anEditedConfigFileRerunsItsPoints() throws Exception {
    Path hw = tmp.resolve("mychip.yaml");
    String text = Files.readString(CliHarness.HOME.resolve("configs/hardware/trn2.yaml"));
    Files.writeString(hw, text);
    Path out = tmp.resolve("edit.jsonl");
    String[] args = {"sweep", "-H", hw.toString(), "-w", "copy:bytes=4MiB", "--vary", "workload.bytes=1MiB,4MiB", "--out",
        out.toString(), "--no-progress"};
    assertThat(CliHarness.run(args).out()).contains("2 simulated now, 0 already");
    assertThat(CliHarness.run(args).out()).contains("0 simulated now, 2 already");
    Files.writeString(hw, text.replace("queue_bandwidth: 23 GB/s", "queue_bandwidth: 11.5 GB/s"));
    assertThat(CliHarness.run(args).out()).contains("2 simulated now, 0 already");
    List<JsonNode> all = rows(out);
    assertThat(all).hasSize(4);
    // the re-run points see the edited bandwidth: a 4 MiB copy, bound by the DMA queues, is slower at half their bandwidth
    List<JsonNode> big = all.stream().filter(n -> n.get("workload").asText().contains("4MiB")).toList();
    assertThat(big).hasSize(2);
    assertThat(big.get(1).get("time_s").asDouble()).isGreaterThan(big.get(0).get("time_s").asDouble() * 1.3);
  }
}
