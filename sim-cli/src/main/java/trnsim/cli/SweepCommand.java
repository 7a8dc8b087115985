package trnsim.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import trnsim.core.api.Simulator;
import trnsim.core.config.ConfigException;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.isa.workload.WorkloadSpec;

/**
 * {@code trnsim sweep}: the cartesian product of varied config keys and workload parameters, run in
 * parallel by a {@link SweepEngine} (threads here, or Spark), one JSONL row per finished point. Every
 * row is keyed by a stable hash of the fully resolved hardware and the workload, so re-running the
 * same command skips finished points and resumes; failed points are error rows, tried again.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Vary config keys and workload parameters over lists or ranges; run every combination in parallel.",
        "Results are appended to a JSONL file one row per finished run; re-running resumes where it stopped.",
        "  --vary chip.hbm.bandwidth=2TB/s..6TB/s:5   (range: N evenly spaced values, units kept)",
        "  --vary chip.core.sbuf.size=12MiB,24MiB,48MiB   (list)",
        "  --vary workload.m=1024,2048,4096   (a workload parameter)"})
public final class SweepCommand implements Callable<Integer> {
  private final CliContext ctx;

  @picocli.CommandLine.Mixin
  HardwareOptions hardwareOptions = new HardwareOptions();


  @Option(names = {"--workload", "-w"}, required = true, description = "Inline workload spec or workload name.")
  String workload;

  @Option(names = "--vary", required = true, paramLabel = "KEY=V1,V2|KEY=A..B:N",
      description = "A config key or workload.PARAM and its values (repeatable; cartesian product).")
  List<String> vary = new ArrayList<>();


  @Option(names = "--out", required = true, paramLabel = "FILE.jsonl", description = "JSONL results file (appended; resumes).")
  Path out;

  @Option(names = "--csv", paramLabel = "FILE", description = "Also write all points as CSV (sorted by point), atomically.")
  Path csv;

  @Option(names = "--chart", paramLabel = "FILE.png|FILE.svg", description = "Chart the metric against the varied key(s).")
  Path chart;

  @Option(names = "--metric", defaultValue = "time_s", description = "Metric to chart (default: ${DEFAULT-VALUE}): "
      + "time_s, achieved_tflops, utilization, achieved_hbm_gbps, energy_j, avg_power_w, tokens_per_s, ...")
  String metric;

  @Option(names = "--threads", description = "Parallel simulations of --engine local (default: number of cores).")
  Integer threads;

  @Option(names = "--engine", defaultValue = "local", paramLabel = "local|spark",
      description = "Where points run (default: ${DEFAULT-VALUE}): local (threads in this process) or spark "
          + "(Apache Spark; needs sim-spark/target/trnsim-spark.jar, which ./trnsim builds and starts).")
  String engine;

  @Option(names = "--master", paramLabel = "URL", description = "Spark master: local[N], spark://HOST:7077, yarn, k8s://... "
      + "(default: spark-submit's, else local[*]).")
  String master;

  @Option(names = "--tasks", paramLabel = "N", description = "Spark tasks the points are split into, in point order "
      + "(default: 2 per executor core, at most one per point); each task should carry >= 0.5 s of simulation.")
  Integer tasks;

  @Option(names = "--spark-conf", paramLabel = "KEY=VALUE", description = "Extra Spark configuration (repeatable), e.g. spark.executor.memory=4g.")
  List<String> sparkConf = new ArrayList<>();

  @Option(names = "--no-progress", description = "No progress bar (it is also off when stderr is not a terminal or CI=true).")
  boolean noProgress;

  @Option(names = "--format", defaultValue = "table", description = "Summary on stdout: table, json or csv (default: ${DEFAULT-VALUE}).")
  OutputFormat format;

  @Option(names = "--max-events", defaultValue = "500000000", description = "Event budget per simulation (default: ${DEFAULT-VALUE}).")
  long maxEvents;

  @Option(names = "--outdir", paramLabel = "DIR", description = "Also write a run directory: hardware.yaml (the base config, "
      + "--set applied), workload.txt, stats.json, result.json (every row) and version.txt (docs/cli.md).")
  Path outdir;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec commandSpec;

  /** The statistics tree of each point simulated now, by point key (filled as rows arrive). */
  private final Map<String, Object> statsByKey = new java.util.concurrent.ConcurrentHashMap<>();

  public SweepCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  /** Numeric metrics a chart can show (keys of {@code run --format json}). */
  static final List<String> METRICS = List.of("time_s", "flops", "achieved_tflops", "peak_tflops", "utilization",
      "hbm_bytes", "achieved_hbm_gbps", "peak_hbm_gbps", "energy_j", "avg_power_w", "tokens", "tokens_per_s");

  /** One varied dimension: the key as given and its values in order. */
  record Dimension(String key, List<String> values) {
    boolean workloadParam() {
      return key.startsWith("workload.");
    }
  }

  @Override
  public Integer call() {
    if (!METRICS.contains(metric)) {
      throw new UserInputException("--metric = '" + metric + "': not a numeric metric; known: " + String.join(", ", METRICS));
    }
    if (chart != null) {
      Charts.format(chart, "--chart");
    }
    new OutputPaths(ctx).hardwareInput("--hardware", hardwareOptions.name)
        .output("--out", out).output("--csv", csv).output("--chart", chart).check();
    SweepEngine.Options engineOptions = engineOptions();
    if (maxEvents <= 0) {
      throw new UserInputException("--max-events = '" + maxEvents + "': must be positive");
    }
    RunDirectory rd = RunDirectory.of(ctx, outdir);
    Simulator sim = ctx.simulator();
    List<Dimension> dims = new ArrayList<>();
    List<String> base = sim.expand(workload);
    if (base.size() > 1) {
      dims.add(new Dimension("workload", base));
    }
    LinkedHashSet<String> seenKeys = new LinkedHashSet<>();
    for (String v : vary) {
      Dimension d = parseVary(v);
      if (d.key().equals("workload") || !seenKeys.add(d.key())) {
        throw new UserInputException("--vary = '" + v + "': key '" + d.key() + "' is varied twice");
      }
      dims.add(d);
    }
    List<SweepPoint> points = points(dims, base.get(0));
    // Validate every distinct hardware variant before running anything: bad keys fail fast (exit 2).
    Map<List<String>, Integer> variants = new HashMap<>();
    List<HardwareSpec> specs = new ArrayList<>();
    List<String> trees = new ArrayList<>();
    List<String> contents = new ArrayList<>();
    for (SweepPoint p : points) {
      variants.computeIfAbsent(p.sets(), s -> {
        var resolved = variant(s, dims);
        specs.add(resolved.spec());
        trees.add(Json.compact(resolved.tree()));
        contents.add(Json.compact(ctx.hardware().toTree(resolved.spec())));
        return specs.size() - 1;
      });
      WorkloadSpec.parse(p.workload(), "--workload");
    }
    points = keyedByContent(points, variants, contents);
    SweepJob job = new SweepJob(trees, "--hardware " + hardwareOptions.name, maxEvents, ctx.configs().toString(), rd != null);
    SweepEngine eng = engine.equals("local") ? new LocalSweepEngine(SweepPointRunner.local(sim, specs, job))
        : SweepEngine.find(engine);
    Map<String, JsonNode> earlierStats = rd == null ? Map.of() : earlierStats(outdir);
    SweepLog log = SweepLog.open(out, ctx.err());
    try {
      List<SweepPoint> todo = new ArrayList<>();
      for (SweepPoint p : points) {
        if (!log.has(p.key())) {
          todo.add(p);
        }
      }
      int already = points.size() - todo.size();
      Failures failed = runAll(eng, job, todo, engineOptions, log, already, points.size());
      List<JsonNode> rows = new ArrayList<>();
      for (SweepPoint p : points) {
        JsonNode n = log.row(p.key());
        if (n != null) {
          rows.add(n);
        }
      }
      List<String> keys = dims.stream().map(Dimension::key).toList();
      if (csv != null) {
        String text = csvText(keys, rows);
        AtomicFiles.writeString(csv, text);
      }
      List<JsonNode> results = rows.stream().filter(n -> !SweepLog.isError(n)).toList();
      if (chart != null && !results.isEmpty()) {
        chart(dims, results);
      }
      if (rd != null) {
        writeRunDirectory(rd, sim, points, rows, earlierStats);
      }
      print(keys, rows, points.size(), todo.size() - failed.count(), already, failed.count());
      if (failed.count() == 0) {
        return ExitCodes.OK;
      }
      return failed.internal() ? ExitCodes.INTERNAL : ExitCodes.BAD_INPUT;
    } finally {
      log.close();
    }
  }

  private SweepEngine.Options engineOptions() {
    if (!engine.equals("local") && !engine.equals("spark")) {
      throw new UserInputException("--engine = '" + engine + "': expected local or spark");
    }
    if (engine.equals("local")) {
      for (var o : List.of(new Object[] {"--master", master}, new Object[] {"--tasks", tasks})) {
        if (o[1] != null) {
          throw new UserInputException(o[0] + " = '" + o[1] + "': only with --engine spark");
        }
      }
      if (!sparkConf.isEmpty()) {
        throw new UserInputException("--spark-conf = '" + sparkConf.get(0) + "': only with --engine spark");
      }
    } else if (threads != null) {
      throw new UserInputException("--threads = '" + threads + "': only with --engine local (Spark's parallelism is "
          + "--master local[N] or its executors)");
    }
    int nThreads = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
    if (nThreads < 1 || nThreads > 256) {
      throw new UserInputException("--threads = '" + nThreads + "': must be between 1 and 256");
    }
    if (tasks != null && (tasks < 1 || tasks > MAX_POINTS)) {
      throw new UserInputException("--tasks = '" + tasks + "': must be between 1 and " + MAX_POINTS);
    }
    if (master != null && (master.isBlank() || master.chars().anyMatch(Character::isWhitespace))) {
      throw new UserInputException("--master = '" + master + "': expected local[N], spark://HOST:PORT, yarn or k8s://...");
    }
    Map<String, String> conf = new TreeMap<>();
    for (String kv : sparkConf) {
      int eq = kv.indexOf('=');
      if (eq <= 0 || !kv.startsWith("spark.")) {
        throw new UserInputException("--spark-conf = '" + kv + "': expected spark.KEY=VALUE");
      }
      conf.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
    }
    return new SweepEngine.Options(nThreads, master, tasks, conf);
  }

  /** Points that ended as error rows in this run: how many, and whether any was a fault of trnsim (exit 3, not 2). */
  private record Failures(int count, boolean internal) {}

  /** A point's hardware; a bad value of a varied key is reported against --vary, the option that gave it. */
  private HardwareLoader.Resolved variant(List<String> sets, List<Dimension> dims) {
    try {
      return ctx.hardware().load(hardwareOptions.name, sets);
    } catch (ConfigException e) {
      boolean varied = "--set".equals(e.file()) && dims.stream().anyMatch(d -> d.key().equals(e.keyPath()));
      if (varied) {
        throw new ConfigException("--vary", e.keyPath(), e.value(), e.reason());
      }
      throw e;
    }
  }

  private Failures runAll(SweepEngine eng, SweepJob job, List<SweepPoint> todo, SweepEngine.Options options, SweepLog log,
      int already, int total) {
    if (todo.isEmpty()) {
      return new Failures(0, false);
    }
    // Bad points are reported once, as one line naming the first in point order (deterministic
    // whatever the engine or thread count); the other points still run and are kept, so a fixed re-run resumes.
    TreeMap<Integer, String> failures = new TreeMap<>();
    boolean[] internal = {false};
    try (Progress progress = Progress.start(!noProgress, "sweep", total, already)) {
      eng.run(job, todo, options, (p, outcome) -> {
        JsonNode n = log.append(p.key(), outcome.row());
        if (outcome.stats() != null) {
          statsByKey.put(p.key(), parse(outcome.stats()));
        }
        if (SweepLog.isError(n)) {
          failures.put(p.index(), n.path("error").asText());
          internal[0] |= n.path("error_kind").asText().equals("internal");
        }
        progress.step();
      });
    }
    if (!failures.isEmpty()) {
      ctx.err().println("error: " + failures.size() + " of " + todo.size() + " points failed (kept as error rows in "
          + out + "; a re-run tries them again); first: " + failures.firstEntry().getValue());
      ctx.err().flush();
    }
    return new Failures(failures.size(), internal[0]);
  }

  private static JsonNode parse(String json) {
    try {
      return Json.MAPPER.readTree(json);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Resume keys from the fully resolved hardware (every value, defaults and --set included) and the
   * workload, not the hardware's name: an edited config file re-runs its points.
   */
  private static List<SweepPoint> keyedByContent(List<SweepPoint> points, Map<List<String>, Integer> variants,
      List<String> contents) {
    List<SweepPoint> out = new ArrayList<>();
    for (SweepPoint p : points) {
      int v = variants.get(p.sets());
      out.add(new SweepPoint(p.index(), key(contents.get(v), Map.of(), p.workload()), p.varied(), p.sets(), p.workload(), v));
    }
    return out;
  }

  /**
   * The run directory of a sweep: the base hardware (its --set applied; each row's {@code set} holds
   * its point's overrides), the distinct workloads, every row, and the statistics of every point,
   * those simulated now plus those an earlier run wrote to the same folder (a resumed sweep keeps them).
   */
  private void writeRunDirectory(RunDirectory rd, Simulator sim, List<SweepPoint> points, List<JsonNode> rows,
      Map<String, JsonNode> earlierStats) {
    List<Object> stats = new ArrayList<>();
    LinkedHashSet<String> workloads = new LinkedHashSet<>();
    for (SweepPoint p : points) {
      workloads.add(p.workload());
      Object st = statsByKey.containsKey(p.key()) ? statsByKey.get(p.key()) : earlierStats.get(p.key());
      if (st != null) {
        stats.add(st);
      }
    }
    rd.hardware("hardware.yaml", sim.hardware(hardwareOptions.name, hardwareOptions.sets))
        .workloads(new ArrayList<>(workloads))
        .statsTree(stats)
        .result(new ArrayList<>(rows))
        .version(commandSpec.commandLine().getParseResult().originalArgs())
        .write();
  }

  /** The per-point statistics an earlier sweep wrote to {@code DIR/stats.json}, by key (none when absent). */
  private static Map<String, JsonNode> earlierStats(Path dir) {
    Path f = dir.resolve("stats.json");
    Map<String, JsonNode> out = new HashMap<>();
    if (!java.nio.file.Files.isRegularFile(f)) {
      return out;
    }
    try {
      for (JsonNode n : Json.MAPPER.readTree(f.toFile()).path("points")) {
        if (n.path("key").isTextual()) {
          out.put(n.path("key").asText(), n);
        }
      }
    } catch (java.io.IOException e) {
      throw new UserInputException(RunDirectory.OPTION + " = '" + dir + "': stats.json is not a trnsim statistics file ("
          + AtomicFiles.reason(e).lines().findFirst().orElse("") + "); remove it or use another folder");
    }
    return out;
  }

  // ---------------------------------------------------------------- points

  private List<SweepPoint> points(List<Dimension> dims, String baseWorkload) {
    List<SweepPoint> out = new ArrayList<>();
    // Counted in a long and checked before any point is built: a product of value counts can pass
    // an int, and building 10^6 points took seconds before the limit was checked.
    long count = 1;
    for (Dimension d : dims) {
      count *= d.values().size();
      if (count > MAX_POINTS) {
        throw new UserInputException("--vary: more than " + MAX_POINTS + " points in one sweep");
      }
    }
    int n = (int) count;
    int[] idx = new int[dims.size()];
    for (int i = 0; i < n; i++) {
      int rem = i;
      for (int d = dims.size() - 1; d >= 0; d--) {
        int size = dims.get(d).values().size();
        idx[d] = rem % size;
        rem /= size;
      }
      Map<String, String> varied = new LinkedHashMap<>();
      Map<String, String> effective = new LinkedHashMap<>();
      for (String s : hardwareOptions.sets) {
        int eq = s.indexOf('=');
        if (eq <= 0) {
          throw new UserInputException("--set = '" + s + "': expected key.path=value");
        }
        effective.put(s.substring(0, eq).trim(), s.substring(eq + 1).trim());
      }
      String wl = baseWorkload;
      Map<String, String> wparams = new LinkedHashMap<>();
      for (int d = 0; d < dims.size(); d++) {
        Dimension dim = dims.get(d);
        String v = dim.values().get(idx[d]);
        varied.put(dim.key(), v);
        if (dim.key().equals("workload")) {
          wl = v;
        } else if (dim.workloadParam()) {
          wparams.put(dim.key().substring("workload.".length()), v);
        } else {
          effective.remove(dim.key());
          effective.put(dim.key(), v);
        }
      }
      String spec = withParams(wl, wparams);
      List<String> setList = new ArrayList<>();
      for (var e : effective.entrySet()) {
        setList.add(e.getKey() + "=" + e.getValue());
      }
      out.add(new SweepPoint(i, key(hardwareOptions.name, effective, spec), varied, setList, spec, -1));
    }
    return out;
  }

  /** The workload text with some parameters replaced or added, in canonical form. */
  static String withParams(String workload, Map<String, String> params) {
    WorkloadSpec s = WorkloadSpec.parse(workload, "--workload");
    Map<String, String> p = new LinkedHashMap<>(s.params());
    for (var e : params.entrySet()) {
      if (!e.getKey().matches("[a-z][a-z0-9_]*")) {
        throw new UserInputException("--vary = 'workload." + e.getKey() + "': not a workload parameter name");
      }
      p.put(e.getKey(), e.getValue());
    }
    StringBuilder sb = new StringBuilder(s.kind());
    String sep = ":";
    for (var e : p.entrySet()) {
      sb.append(sep).append(e.getKey()).append('=').append(e.getValue());
      sep = ",";
    }
    return WorkloadSpec.parse(sb.toString(), "--workload").toString();
  }

  /** Stable key of a point: SHA-256 of hardware, effective overrides (sorted by key) and workload; 16 hex digits. */
  static String key(String hardware, Map<String, String> overrides, String workload) {
    StringBuilder sb = new StringBuilder("trnsim-sweep-v2\nhardware=").append(hardware).append('\n');
    for (var e : new TreeMap<>(overrides).entrySet()) {
      sb.append("set=").append(e.getKey()).append('=').append(e.getValue()).append('\n');
    }
    sb.append("workload=").append(workload).append('\n');
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(h, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static final Pattern NUMBER_UNIT = Pattern.compile("^([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\\s*(\\S*)$");
  private static final Pattern RANGE = Pattern.compile("^(.+?)\\.\\.(.+):([0-9]+)$");

  /** Most points one sweep may have. */
  static final int MAX_POINTS = 100_000;

  /** Parses {@code KEY=V1,V2,...} or {@code KEY=A..B:N}. */
  static Dimension parseVary(String text) {
    int eq = text == null ? -1 : text.indexOf('=');
    if (eq <= 0 || eq == text.length() - 1) {
      throw new UserInputException("--vary = '" + text + "': expected KEY=V1,V2,... or KEY=A..B:N");
    }
    String key = text.substring(0, eq).trim();
    String vals = text.substring(eq + 1).trim();
    if (key.chars().filter(c -> c == '.').count() >= 16) {
      // Checked before the pattern below, whose repetition recurses once per part (a 50,000-part path overflowed the stack).
      throw new UserInputException("--vary: key path deeper than 16 parts");
    }
    if (!key.matches("[a-z0-9_]+(\\[[0-9]{1,6}\\])?(\\.[a-z0-9_]+(\\[[0-9]{1,6}\\])?)*")) {
      throw new UserInputException("--vary = '" + text + "': '" + key + "' is not a key path (dotted snake_case, a list element"
          + " as key[N])");
    }
    if (key.startsWith("workload.") && key.split("\\.").length != 2) {
      throw new UserInputException("--vary = '" + text + "': workload parameters are workload.NAME");
    }
    List<String> values = new ArrayList<>();
    Matcher r = RANGE.matcher(vals);
    if (r.matches()) {
      values.addAll(range(text, r.group(1).trim(), r.group(2).trim(), r.group(3)));
    } else {
      for (String v : vals.split(",", -1)) {
        String t = v.trim();
        if (t.isEmpty()) {
          throw new UserInputException("--vary = '" + text + "': empty value in the list");
        }
        values.add(t);
      }
    }
    if (new LinkedHashSet<>(values).size() != values.size()) {
      throw new UserInputException("--vary = '" + text + "': a value is listed twice");
    }
    return new Dimension(key, List.copyOf(values));
  }

  private static List<String> range(String text, String from, String to, String count) {
    Matcher a = NUMBER_UNIT.matcher(from);
    Matcher b = NUMBER_UNIT.matcher(to);
    if (!a.matches() || !b.matches()) {
      throw new UserInputException("--vary = '" + text + "': range ends must be numbers with an optional unit, e.g. 2TB/s..6TB/s:5");
    }
    if (!a.group(2).equals(b.group(2))) {
      throw new UserInputException("--vary = '" + text + "': both range ends need the same unit ('" + a.group(2) + "' vs '"
          + b.group(2) + "')");
    }
    int n;
    try {
      n = Integer.parseInt(count);
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 2 || n > 10_000) {
      throw new UserInputException("--vary = '" + text + "': the count after ':' must be between 2 and 10000");
    }
    BigDecimal lo = new BigDecimal(a.group(1));
    BigDecimal hi = new BigDecimal(b.group(1));
    if (lo.compareTo(hi) >= 0) {
      throw new UserInputException("--vary = '" + text + "': the range must go from low to high");
    }
    boolean integral = lo.stripTrailingZeros().scale() <= 0 && hi.stripTrailingZeros().scale() <= 0;
    List<String> out = new ArrayList<>();
    BigDecimal steps = BigDecimal.valueOf(n - 1L);
    for (int i = 0; i < n; i++) {
      BigDecimal v = lo.add(hi.subtract(lo).multiply(BigDecimal.valueOf(i)).divide(steps, MathContext.DECIMAL64));
      if (integral && a.group(2).isEmpty()) {
        v = v.setScale(0, java.math.RoundingMode.HALF_EVEN);
      } else {
        v = v.round(new MathContext(6));
      }
      String s = v.stripTrailingZeros().toPlainString();
      out.add(s + a.group(2));
    }
    if (new LinkedHashSet<>(out).size() != out.size()) {
      throw new UserInputException("--vary = '" + text + "': " + n + " whole numbers do not fit between " + from + " and " + to);
    }
    return out;
  }

  // ---------------------------------------------------------------- output

  static List<String> csvHeader(List<String> keys) {
    List<String> h = new ArrayList<>(keys);
    h.add("key");
    for (String k : Reports.CSV_KEYS) {
      if (!h.contains(k)) {
        h.add(k);
      }
    }
    return h;
  }

  static String csvText(List<String> keys, List<JsonNode> rows) {
    List<String> header = csvHeader(keys);
    if (rows.stream().anyMatch(SweepLog::isError)) {
      // Only a sweep with failed points has the column: the CSV of a clean sweep is unchanged.
      header.add("error");
    }
    List<List<Object>> out = new ArrayList<>();
    for (JsonNode n : rows) {
      out.add(cells(header, keys, n));
    }
    return Tables.csv(header, out);
  }

  private static List<Object> cells(List<String> header, List<String> keys, JsonNode n) {
    List<Object> row = new ArrayList<>();
    for (String h : header) {
      JsonNode v = keys.contains(h) ? n.path("vary").path(h) : n.path(h);
      row.add(value(v));
    }
    return row;
  }

  static Object value(JsonNode v) {
    if (v == null || v.isMissingNode() || v.isNull()) {
      return null;
    }
    if (v.isIntegralNumber()) {
      return v.longValue();
    }
    if (v.isNumber()) {
      return v.doubleValue();
    }
    if (v.isTextual() && (v.asText().equals("NaN") || v.asText().endsWith("Infinity"))) {
      return Double.NaN;
    }
    return v.asText();
  }

  static double number(JsonNode row, String metric) {
    Object o = value(row.path(metric));
    return o instanceof Number num ? num.doubleValue() : Double.NaN;
  }

  private void print(List<String> keys, List<JsonNode> rows, int total, int ran, int already, int failed) {
    PrintWriter o = ctx.out();
    switch (format) {
      case json -> {
        List<Object> all = new ArrayList<>();
        for (JsonNode n : rows) {
          all.add(n);
        }
        o.println(Json.pretty(all));
      }
      case csv -> o.print(csvText(keys, rows));
      case table -> {
        List<String> header = new ArrayList<>(keys);
        header.addAll(List.of("time", "TFLOP/s", "HBM GB/s", "energy J", "bound by"));
        List<List<Object>> table = new ArrayList<>();
        for (JsonNode n : rows) {
          List<Object> r = new ArrayList<>();
          for (String k : keys) {
            r.add(n.path("vary").path(k).asText());
          }
          r.add(Reports.seconds(number(n, "time_s")));
          r.add(number(n, "achieved_tflops"));
          r.add(number(n, "achieved_hbm_gbps"));
          r.add(number(n, "energy_j"));
          r.add(SweepLog.isError(n) ? "failed: see " + out : n.path("bottleneck").asText());
          table.add(r);
        }
        o.print(Tables.text(header, table));
        o.printf(Locale.ROOT, "%n%d points: %d simulated now, %d already in %s, %d failed%n", total, ran, already, out, failed);
      }
    }
    o.flush();
  }

  private void chart(List<Dimension> dims, List<JsonNode> rows) {
    Dimension x = dims.get(0);
    List<Dimension> others = dims.subList(1, dims.size());
    Map<String, List<JsonNode>> series = new LinkedHashMap<>();
    for (JsonNode n : rows) {
      StringBuilder name = new StringBuilder();
      for (Dimension d : others) {
        if (name.length() > 0) {
          name.append(", ");
        }
        name.append(d.key()).append('=').append(n.path("vary").path(d.key()).asText());
      }
      series.computeIfAbsent(name.length() == 0 ? metric : name.toString(), k -> new ArrayList<>()).add(n);
    }
    String title = quantity(metric) + " vs " + x.key() + " (" + hardwareOptions.name + ")";
    Figure.Axis y = Figure.Axis.of(quantity(metric), Figure.Scale.LINEAR, Figure.Format.NUMBER);
    boolean numeric = Charts.numericAxis(x.values());
    Figure.Axis xa;
    if (numeric) {
      String unit = Charts.unitSuffix(x.values().get(0));
      xa = Figure.Axis.of(x.key() + (unit.isEmpty() ? "" : " (" + unit + ")"), Figure.Scale.LINEAR, Figure.Format.NUMBER);
    } else {
      xa = Figure.Axis.categories(x.key(), x.values());
    }
    List<Figure.Series> lines = new ArrayList<>();
    for (var e : series.entrySet()) {
      List<Double> xs = new ArrayList<>();
      List<Double> ys = new ArrayList<>();
      for (JsonNode n : e.getValue()) {
        String v = n.path("vary").path(x.key()).asText();
        xs.add(numeric ? Charts.leadingNumber(v) : (double) x.values().indexOf(v));
        ys.add(number(n, metric));
      }
      lines.add(new Figure.Series(e.getKey(), xs, ys, true, true));
    }
    Charts.save(new Figure.Xy(title, xa, List.of(new Figure.Panel(y, lines)), List.of()), chart, "--chart");
  }

  /** A metric key of run's JSON as a quantity with its unit, for axis labels. */
  static String quantity(String metric) {
    return switch (metric) {
      case "time_s" -> "time (s)";
      case "achieved_tflops" -> "achieved throughput (TFLOP/s)";
      case "peak_tflops" -> "peak throughput (TFLOP/s)";
      case "utilization" -> "tensor-engine utilisation (fraction of peak)";
      case "achieved_hbm_gbps" -> "achieved HBM bandwidth (GB/s)";
      case "energy_j" -> "energy (J)";
      case "avg_power_w" -> "average power (W)";
      case "tokens_per_s" -> "throughput (tokens/s)";
      case "clock_ghz" -> "tensor clock (GHz)";
      case "perf_per_watt" -> "performance per watt (FLOP/J)";
      case "cost_usd" -> "cost (USD)";
      case "hbm_bytes" -> "HBM traffic (bytes)";
      case "flops" -> "work (FLOP)";
      default -> metric.replace('_', ' ');
    };
  }
}
