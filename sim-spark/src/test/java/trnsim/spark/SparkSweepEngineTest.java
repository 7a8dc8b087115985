package trnsim.spark;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipFile;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import trnsim.cli.Cli;
import trnsim.cli.Json;
import trnsim.cli.SweepEngine;

/**
 * The Spark engine against the local one on the same sweeps, in Spark local mode with two worker
 * threads: identical rows, a resumed half-finished sweep, a bad point as an error row. One Spark
 * context serves the whole class (the engine uses a running context and leaves it running).
 */
class SparkSweepEngineTest {
  static final Path HOME = Path.of(System.getProperty("trnsim.home", "..")).toAbsolutePath().normalize();
  private static SparkContext sc;

  @TempDir
  Path tmp;

  @BeforeAll
  static void startSpark() {
    sc = new SparkContext(new SparkConf().setMaster("local[2]").setAppName("trnsim-test")
        .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1"));
  }

  @AfterAll
  static void stopSpark() {
    sc.stop();
  }

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Cli.newCommandLine(new PrintWriter(out, true), new PrintWriter(err, true), HOME).execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  /**
   * 8 points over two hardware variants and four GEMM shapes, under a 125 W limit that throttles
   * trn2 (so executors need the shipped energy table and run the power limiter).
   */
  static String[] eight(String... extra) {
    List<String> a = new ArrayList<>(List.of("sweep", "-H", "trn2", "-w", "gemm:m=512,k=512,n=512",
        "--set", "chip.power.limit=125W", "--vary", "chip.hbm.bandwidth=2TB/s,3TB/s", "--vary", "workload.m=256,512",
        "--vary", "workload.n=256,1024", "--no-progress"));
    a.addAll(List.of(extra));
    if (!a.contains("--format")) {
      a.addAll(List.of("--format", "json"));
    }
    return a.toArray(String[]::new);
  }

  static Map<String, JsonNode> byKey(Path jsonl) throws Exception {
    Map<String, JsonNode> m = new TreeMap<>();
    for (String l : Files.readAllLines(jsonl)) {
      JsonNode n = Json.MAPPER.readTree(l);
      assertThat(m.put(n.get("key").asText(), n)).as("key once: " + n.get("key")).isNull();
    }
    return m;
  }

  @Test
  void sparkAndLocalGiveIdenticalRowsInPointOrder() throws Exception {
    Path local = tmp.resolve("local.jsonl");
    Path spark = tmp.resolve("spark.jsonl");
    Path localCsv = tmp.resolve("local.csv");
    Path sparkCsv = tmp.resolve("spark.csv");
    Path localDir = tmp.resolve("local-run");
    Path sparkDir = tmp.resolve("spark-run");
    var l = run(eight("--out", local.toString(), "--csv", localCsv.toString(), "--threads", "2", "--outdir", localDir.toString()));
    var s = run(eight("--out", spark.toString(), "--csv", sparkCsv.toString(), "--engine", "spark", "--master", "local[2]",
        "--outdir", sparkDir.toString()));
    assertThat(l.code()).as(l.err()).isZero();
    assertThat(s.code()).as(s.err()).isZero();
    // Same lines (the file's order is completion order), same summary and CSV (point order), byte for byte.
    assertThat(new HashSet<>(Files.readAllLines(spark))).isEqualTo(new HashSet<>(Files.readAllLines(local)));
    assertThat(s.out()).isEqualTo(l.out());
    assertThat(Files.readString(sparkCsv)).isEqualTo(Files.readString(localCsv));
    // The run directory too: every point's statistics came back from the executors.
    for (String f : List.of("hardware.yaml", "workload.txt", "stats.json", "result.json")) {
      assertThat(Files.readString(sparkDir.resolve(f))).as(f).isEqualTo(Files.readString(localDir.resolve(f)));
    }
    assertThat(Json.MAPPER.readTree(sparkDir.resolve("stats.json").toFile()).path("points").size()).isEqualTo(8);
    JsonNode rows = Json.MAPPER.readTree(s.out());
    assertThat(rows.size()).isEqualTo(8);
    // Point order: the last varied key changes fastest.
    List<String> order = new ArrayList<>();
    for (JsonNode n : rows) {
      order.add(n.get("vary").get("chip.hbm.bandwidth").asText() + "/" + n.get("vary").get("workload.m").asText() + "/"
          + n.get("vary").get("workload.n").asText());
    }
    assertThat(order).containsExactly("2TB/s/256/256", "2TB/s/256/1024", "2TB/s/512/256", "2TB/s/512/1024",
        "3TB/s/256/256", "3TB/s/256/1024", "3TB/s/512/256", "3TB/s/512/1024");
    // The limit binds on at least one point: the executors ran the power limiter with the shipped energy table.
    boolean limited = false;
    for (JsonNode n : rows) {
      assertThat(n.has("error")).isFalse();
      limited |= n.path("power_limited").asBoolean();
    }
    assertThat(limited).as("some point is power-limited at 125 W").isTrue();
  }

  @Test
  void aHalfFinishedSparkSweepResumesWithoutDuplicates() throws Exception {
    Path full = tmp.resolve("full.jsonl");
    assertThat(run(eight("--out", full.toString(), "--engine", "spark", "--master", "local[2]")).code()).isZero();
    List<String> lines = Files.readAllLines(full);
    // Killed half-way: four rows written, a fifth cut mid-line.
    Path half = tmp.resolve("half.jsonl");
    Files.writeString(half, String.join("\n", lines.subList(0, 4)) + "\n" + lines.get(4).substring(0, 50));
    var r = run(eight("--out", half.toString(), "--engine", "spark", "--master", "local[2]", "--tasks", "3"));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("dropped a partial last line");
    assertThat(byKey(half)).isEqualTo(byKey(full));
    assertThat(Files.readAllLines(half)).hasSize(8);
    var table = run(eight("--out", half.toString(), "--engine", "spark", "--format", "table"));
    assertThat(table.code()).as(table.err()).isZero();
    assertThat(table.out()).contains("8 points: 0 simulated now, 8 already");
    assertThat(Files.readAllLines(half)).hasSize(8);
  }

  @Test
  void aBadPointComesBackAsAnErrorRowOnBothEngines() throws Exception {
    Path local = tmp.resolve("local.jsonl");
    Path spark = tmp.resolve("spark.jsonl");
    String[] base = {"sweep", "-H", "trn2", "-w", "gemm:m=256,k=256,n=256", "--vary", "workload.n=0,256,512",
        "--no-progress", "--format", "json"};
    var l = run(concat(base, "--out", local.toString()));
    var s = run(concat(base, "--out", spark.toString(), "--engine", "spark", "--master", "local[2]"));
    assertThat(s.code()).isEqualTo(2);
    assertThat(s.err()).isEqualTo(l.err().replace(local.toString(), spark.toString()));
    assertThat(s.err().strip().lines().count()).isEqualTo(1);
    assertThat(s.err()).contains("1 of 3 points failed").contains("gemm.n = '0'");
    assertThat(s.out()).isEqualTo(l.out());
    Map<String, JsonNode> rows = byKey(spark);
    assertThat(rows).isEqualTo(byKey(local)).hasSize(3);
    List<JsonNode> errors = rows.values().stream().filter(n -> n.has("error")).toList();
    assertThat(errors).hasSize(1);
    assertThat(errors.get(0).get("error").asText()).startsWith("point workload.n=0: ");
    assertThat(errors.get(0).get("error_kind").asText()).isEqualTo("bad_input");
  }

  @Test
  void tasksDefaultToTwoPerCoreAndNeverExceedThePoints() {
    var opts = new SweepEngine.Options(1, "local[2]", null, Map.of());
    assertThat(SparkSweepEngine.tasks(opts, 8, 2)).isEqualTo(4);
    assertThat(SparkSweepEngine.tasks(opts, 3, 2)).isEqualTo(3);
    assertThat(SparkSweepEngine.tasks(new SweepEngine.Options(1, null, 16, Map.of()), 8, 2)).isEqualTo(8);
    assertThat(SparkSweepEngine.tasks(new SweepEngine.Options(1, null, 2, Map.of()), 8, 64)).isEqualTo(2);
  }

  @Test
  void theMainCliJarHasNoSparkClasses() throws Exception {
    Path jar = HOME.resolve("sim-cli/target/trnsim.jar");
    Assumptions.assumeTrue(Files.isRegularFile(jar), "sim-cli is packaged before sim-spark in a full build");
    try (ZipFile z = new ZipFile(jar.toFile())) {
      List<String> spark = Collections.list(z.entries()).stream().map(e -> e.getName())
          .filter(n -> n.startsWith("org/apache/spark") || n.startsWith("trnsim/spark")).toList();
      assertThat(spark).isEmpty();
    }
  }

  private static String[] concat(String[] a, String... b) {
    List<String> out = new ArrayList<>(List.of(a));
    out.addAll(List.of(b));
    return out.toArray(String[]::new);
  }

}
