package trnsim.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import trnsim.core.api.ResultSchema;
import trnsim.core.api.KernelRunResult;
import trnsim.core.api.Simulator;
import trnsim.core.config.ConfigException;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.RunOptions;
import trnsim.core.run.WorkloadResult;
import trnsim.core.serve.ServeOutcome;
import trnsim.isa.workload.WorkloadException;

/**
 * {@code trnsim verify CLAIMS.yaml}: checks published performance claims against simulation.
 * Exit 0 when every claim's simulated value lies in its expected range, 1 when any does not, 2 when
 * the claims file itself cannot be used.
 */
@Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Check claims (speedups, energy, perf/W and cost ratios, absolute throughput) against simulation.",
        "Exit 0 when all hold, 1 when any fails, 2 for a malformed claims file."})
public final class VerifyCommand implements Callable<Integer> {
  private final CliContext ctx;

  @Parameters(index = "0", paramLabel = "CLAIMS.yaml", description = "Claims file, e.g. configs/claims/trn3-vs-trn2.yaml.")
  Path file;

  @Option(names = "--junit", paramLabel = "FILE.xml", description = "Also write JUnit XML (one test case per claim), atomically.")
  Path junit;

  @Option(names = "--format", defaultValue = "table", description = "table, json or csv (default: ${DEFAULT-VALUE}).")
  OutputFormat format;

  public VerifyCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  /** The claims file. */
  public record ClaimsFile(String description, List<Claim> claims) {}

  /**
   * One claim. Either {@code workload} or both {@code baseline_workload} and {@code target_workload}.
   * {@code evidence} says what checking it shows ({@link #EVIDENCE}); {@code derivedFrom} names the
   * config numbers a circular claim was used to set.
   */
  public record Claim(String name, String statement, String baseline, String target, String workload,
      String baselineWorkload, String targetWorkload, String metric, String scope, Double published, Range expected,
      String evidence, String derivedFrom, String source, String comment) {}

  /**
   * What a claim's check can show. arithmetic: the claim is a ratio of peak or config figures (chips,
   * peak FLOP/s, bandwidth) and the simulation only confirms that both sides reach the same fraction of
   * their peak; simulated: the value comes from the model's workload time or energy; circular: a config
   * number was derived from the claim itself, so agreement is by construction.
   */
  static final List<String> EVIDENCE = List.of("arithmetic", "simulated", "circular");

  /**
   * The label check for speedup claims: a ratio within this factor of chips x per-chip peak (utilisation
   * factor in [1/1.05, 1.05]) is arithmetic whatever the file says; one whose utilisation factor is beyond
   * {@link #SIMULATED_BEYOND} is a simulation result. In between, either label is accepted.
   */
  static final double ARITHMETIC_WITHIN = 1.05;
  static final double SIMULATED_BEYOND = 1.10;

  /** Expected range of the simulated value; either end may be left open. */
  public record Range(Double min, Double max) {}

  /** Metrics that compare a target against a baseline (target / baseline, "higher is better" for speedup and perf/W). */
  static final List<String> RATIO_METRICS = List.of("speedup", "energy_ratio", "perf_per_watt_ratio", "cost_ratio");
  /** Metrics of the target alone. */
  static final List<String> ABSOLUTE_METRICS = List.of("achieved_tflops", "achieved_hbm_gbps", "time_s");

  static final List<String> KEYS = List.of("name", "metric", "scope", "baseline", "target", "baseline_workload",
      "target_workload", "published", "min", "max", "simulated", "pass", "message", "evidence", "derived_from", "evidence_check", "explain");

  @Override
  public Integer call() {
    new OutputPaths(ctx).input("CLAIMS.yaml", file).output("--junit", junit).check();
    ClaimsFile cf = ctx.hardware().bindFile(file, ClaimsFile.class);
    Simulator sim = ctx.simulator();
    List<Claim> claims = validate(cf, sim);
    Map<String, KernelRunResult> cache = new HashMap<>();
    Map<String, HardwareSpec> hw = new HashMap<>();
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Claim c : claims) {
      rows.add(check(c, sim, hw, cache));
    }
    boolean all = rows.stream().allMatch(r -> Boolean.TRUE.equals(r.get("pass")));
    if (junit != null) {
      AtomicFiles.writeString(junit, junitXml(rows));
    }
    print(rows, all);
    return all ? ExitCodes.OK : ExitCodes.CLAIM_FAILED;
  }

  private List<Claim> validate(ClaimsFile cf, Simulator sim) {
    String f = file.toString();
    if (cf.claims() == null || cf.claims().isEmpty()) {
      throw new ConfigException(f, "claims", null, "no claims: expected a list of claims");
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < cf.claims().size(); i++) {
      Claim c = cf.claims().get(i);
      String at = "claims[" + i + "]";
      if (c == null) {
        throw new ConfigException(f, at, null, "empty claim");
      }
      if (c.name() == null || c.name().isBlank()) {
        throw new ConfigException(f, at + ".name", c.name(), "every claim needs a name");
      }
      if (!names.add(c.name())) {
        throw new ConfigException(f, at + ".name", c.name(), "claim name used twice");
      }
      if (c.metric() == null || !(RATIO_METRICS.contains(c.metric()) || ABSOLUTE_METRICS.contains(c.metric())
          || ServeReports.isServingMetric(c.metric()))) {
        throw new ConfigException(f, at + ".metric", c.metric(), "expected one of "
            + String.join(", ", RATIO_METRICS) + ", " + String.join(", ", ABSOLUTE_METRICS) + " or, for serve: workloads, "
            + String.join(", ", ServeReports.servingMetricNames()));
      }
      if (c.scope() != null && !c.scope().equals("chip") && !c.scope().equals("system")) {
        throw new ConfigException(f, at + ".scope", c.scope(), "expected chip or system");
      }
      if (c.target() == null || c.target().isBlank()) {
        throw new ConfigException(f, at + ".target", c.target(), "every claim needs a target hardware config");
      }
      boolean ratio = isRatio(c.metric());
      if (ratio && (c.baseline() == null || c.baseline().isBlank())) {
        throw new ConfigException(f, at + ".baseline", c.baseline(), "metric " + c.metric() + " needs a baseline hardware config");
      }
      if (!ratio && c.baseline() != null) {
        throw new ConfigException(f, at + ".baseline", c.baseline(), "metric " + c.metric() + " is of the target alone; remove baseline");
      }
      if (c.workload() != null && (c.baselineWorkload() != null || c.targetWorkload() != null)) {
        throw new ConfigException(f, at + ".workload", c.workload(), "give workload, or baseline_workload and target_workload, not both");
      }
      if (c.workload() == null && c.targetWorkload() == null) {
        throw new ConfigException(f, at + ".workload", null, "every claim needs a workload");
      }
      if (c.workload() == null && ratio && c.baselineWorkload() == null) {
        throw new ConfigException(f, at + ".baseline_workload", null, "target_workload also needs baseline_workload");
      }
      if (!ratio && c.baselineWorkload() != null) {
        throw new ConfigException(f, at + ".baseline_workload", c.baselineWorkload(), "metric " + c.metric() + " has no baseline");
      }
      if (c.evidence() != null && !EVIDENCE.contains(c.evidence())) {
        throw new ConfigException(f, at + ".evidence", c.evidence(), "expected one of " + String.join(", ", EVIDENCE));
      }
      if ("circular".equals(c.evidence()) && (c.derivedFrom() == null || c.derivedFrom().isBlank())) {
        throw new ConfigException(f, at + ".derived_from", null, "a circular claim names the config number(s) derived from it");
      }
      if (c.derivedFrom() != null && !"circular".equals(c.evidence())) {
        throw new ConfigException(f, at + ".derived_from", c.derivedFrom(), "only circular claims have derived_from");
      }
      Range r = c.expected();
      if (r == null || (r.min() == null && r.max() == null)) {
        throw new ConfigException(f, at + ".expected", null, "needs an expected range: {min: ..., max: ...}");
      }
      if ((r.min() != null && !Double.isFinite(r.min())) || (r.max() != null && !Double.isFinite(r.max()))) {
        throw new ConfigException(f, at + ".expected", r.min() + ".." + r.max(), "range ends must be finite numbers");
      }
      if (r.min() != null && r.max() != null && r.min() > r.max()) {
        throw new ConfigException(f, at + ".expected.min", String.valueOf(r.min()), "greater than max " + r.max());
      }
      for (String w : new String[] {c.workload(), c.baselineWorkload(), c.targetWorkload()}) {
        if (w != null) {
          WorkloadForm form;
          try {
            form = WorkloadForm.of(w, f);
          } catch (WorkloadException e) {
            throw new ConfigException(f, at + ".workload", w, e.getMessage());
          }
          servingFits(c, form, f, at);
        }
      }
      for (String h : new String[] {c.baseline(), c.target()}) {
        if (h != null) {
          try {
            sim.hardware(h, List.of());
          } catch (ConfigException e) {
            throw new ConfigException(f, at + (h.equals(c.target()) ? ".target" : ".baseline"), h, e.reason());
          }
        }
      }
    }
    return cf.claims();
  }

  /** Whether a claim's metric compares a target against a baseline. */
  static boolean isRatio(String metric) {
    return RATIO_METRICS.contains(metric) || ServeReports.isServingMetric(metric) && metric.endsWith(trnsim.core.serve.ServeMetric.RATIO);
  }

  /**
   * A serving metric needs serve: workloads, and a serve: workload a serving metric or one of the
   * generic ratios (read as serving figures, {@link ServeReports#claimValue}); a highest-rate metric needs the sweep.
   */
  private static void servingFits(Claim c, WorkloadForm form, String f, String at) {
    boolean serving = form instanceof WorkloadForm.Serving;
    boolean metric = ServeReports.isServingMetric(c.metric());
    if (metric && !serving) {
      throw new ConfigException(f, at + ".metric", c.metric(), "a serving metric needs serve: workloads, not " + WorkloadForm.describe(form));
    }
    if (serving && !metric && !RATIO_METRICS.contains(c.metric())) {
      throw new ConfigException(f, at + ".metric", c.metric(), "a serve: workload is judged by a serving metric ("
          + String.join(", ", ServeReports.servingMetricNames()) + ") or one of " + String.join(", ", RATIO_METRICS));
    }
    if (serving && metric && c.metric().startsWith("max_rate") && ((WorkloadForm.Serving) form).workload().sweepRates() == null) {
      throw new ConfigException(f, at + ".workload", form.spec(), "metric " + c.metric() + " needs a rate sweep in the workload (sweep=R1:R2:N)");
    }
  }

  private Map<String, Object> check(Claim c, Simulator sim, Map<String, HardwareSpec> hw, Map<String, KernelRunResult> cache) {
    boolean system = "system".equals(c.scope());
    String tw = c.workload() != null ? c.workload() : c.targetWorkload();
    String bw = c.workload() != null ? c.workload() : c.baselineWorkload();
    boolean ratio = isRatio(c.metric());
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", c.name());
    m.put("metric", c.metric());
    m.put("scope", system ? "system" : "chip");
    m.put("baseline", c.baseline());
    m.put("target", c.target());
    m.put("baseline_workload", ratio ? bw : null);
    m.put("target_workload", tw);
    m.put("published", c.published());
    m.put("min", c.expected().min());
    m.put("max", c.expected().max());
    m.put("evidence", c.evidence() == null ? "unlabelled" : c.evidence());
    m.put("derived_from", c.derivedFrom());
    double value;
    String message;
    Object explain = null;
    String evidenceCheck = null;
    String cannot = null;
    try {
      HardwareSpec t = hw.computeIfAbsent(c.target(), n -> sim.hardware(n, List.of()));
      WorkloadForm ft = WorkloadForm.of(tw, file.toString());
      Outcome o = ft instanceof WorkloadForm.Serving sv ? servingOutcome(c, sim, hw, t, bw, sv, ratio)
          : Simulator.isSystemWorkload(tw) || (ratio && Simulator.isSystemWorkload(bw))
          ? systemOutcome(c, sim, hw, t, bw, tw, ratio) : kernelOutcome(c, sim, hw, cache, t, bw, tw, ratio, system);
      value = o.value();
      m.putAll(o.extra());
      explain = withMetric(c.metric(), value, o.explain());
      cannot = o.cannot();
      evidenceCheck = explain instanceof Map<?, ?> x ? evidenceCheck(c, x) : null;
      boolean ok = Double.isFinite(value) && (c.expected().min() == null || value >= c.expected().min())
          && (c.expected().max() == null || value <= c.expected().max());
      message = ok ? "holds" : "simulated " + Tables.fmt(value) + " is outside the expected range " + range(c.expected());
      if (!ok && o.extra().get("baseline_usd_per_mtok") instanceof Double cb && o.extra().get("target_usd_per_mtok") instanceof Double ct) {
        message += String.format(Locale.ROOT, " (%s: %.4g USD per million tokens, %s: %.4g)", c.baseline(), cb, c.target(), ct);
      }
      if (cannot != null) {
        message = "cannot simulate: " + cannot;
      } else if (ok && evidenceCheck != null) {
        message = "evidence label: " + evidenceCheck;
      }
    } catch (WorkloadException | ConfigException e) {
      value = Double.NaN;
      message = "cannot simulate: " + e.getMessage();
    }
    m.put("simulated", value);
    boolean pass = message.equals("holds");
    m.put("pass", pass);
    List<String> projected = new ArrayList<>();
    for (String n : new String[] {c.baseline(), c.target()}) {
      HardwareSpec h = n == null ? null : hw.get(n);
      if (h != null && h.isProjection() && !projected.contains(n)) {
        projected.add(n);
      }
    }
    if (!projected.isEmpty()) {
      // a claim judged on a projected config is a projection too: the report says so in its message and its JSON
      message += " (PROJECTION: " + String.join(", ", projected) + " is projected from announced ratios, not a sourced spec)";
      m.put("projection", projected);
    }
    m.put("message", message);
    m.put("evidence_check", evidenceCheck == null ? "ok" : evidenceCheck);
    m.put("explain", explain);
    return m;
  }

  /**
   * The explain object of a ratio claim, with the claimed metric written in terms of the speedup: for the
   * same work, perf/W = speedup x power (baseline/target), energy = (1 / speedup) x power (target/baseline) and
   * cost = (1 / speedup) x price per hour (target/baseline), all at the claim's scope (at system scope the power
   * and price are the systems').
   */
  static Object withMetric(String metric, double value, Object explain) {
    if (!(explain instanceof Map<?, ?> x)) {
      return explain;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    for (var e : x.entrySet()) {
      m.put(String.valueOf(e.getKey()), e.getValue());
    }
    double speedup = 1;
    for (Object o : (List<?>) x.get("factors")) {
      speedup *= (Double) ((Map<?, ?>) o).get("value");
    }
    String line = switch (metric) {
      case "perf_per_watt_ratio" -> String.format(Locale.ROOT, "%.2fx perf/W = %.2fx speedup x %.2fx power (baseline/target)",
          value, speedup, value / speedup);
      case "energy_ratio" -> String.format(Locale.ROOT, "%.2fx energy = %.2fx time (1/speedup) x %.2fx power (target/baseline)",
          value, 1 / speedup, value * speedup);
      case "cost_ratio" -> String.format(Locale.ROOT, "%.2fx cost = %.2fx time (1/speedup) x %.2fx price per hour (target/baseline)",
          value, 1 / speedup, value * speedup);
      default -> null;
    };
    m.put("metric_text", line);
    return m;
  }

  /** A claim's simulated value, the explain object of a ratio claim, and why it could not be simulated (else null). */
  /** A claim's simulated value, its decomposition, why it could not be simulated (or null), and extra report keys. */
  private record Outcome(double value, Object explain, String cannot, Map<String, Object> extra) {
    Outcome(double value, Object explain, String cannot) {
      this(value, explain, cannot, Map.of());
    }
  }

  /** A claim on kernel workloads: compare's kernel row (whole-system row at system scope), or the target alone. */
  private Outcome kernelOutcome(Claim c, Simulator sim, Map<String, HardwareSpec> hw, Map<String, KernelRunResult> cache,
      HardwareSpec t, String bw, String tw, boolean ratio, boolean system) {
    // Claims are judged as compare reports them: each side at the clock its power limit allows.
    KernelRunResult lt = cache.computeIfAbsent(c.target() + "\n" + tw, k -> sim.runKernel(t, tw, RunOptions.defaults()));
    WorkloadResult rt = lt.result();
    if (ratio) {
      HardwareSpec b = hw.computeIfAbsent(c.baseline(), n -> sim.hardware(n, List.of()));
      KernelRunResult lb = cache.computeIfAbsent(c.baseline() + "\n" + bw, k -> sim.runKernel(b, bw, RunOptions.defaults()));
      Map<String, Object> row = CompareCommand.row(c.name(), lb.result(), rt, b, t, system ? b.totalChips() : 1,
          system ? t.totalChips() : 1, lb.energy(), lt.energy(), lb.operating(), lt.operating());
      return new Outcome((Double) row.get(c.metric()), row.get("explain"), null);
    }
    int chips = system ? t.totalChips() : 1;
    return new Outcome(switch (c.metric()) {
      case "achieved_tflops" -> rt.achievedFlopsPerSecond() / 1e12 * chips;
      case "achieved_hbm_gbps" -> rt.achievedHbmBytesPerSecond() / 1e9 * chips;
      default -> rt.timeSeconds();
    }, null, null);
  }

  /** Serving runs already simulated, by hardware and spec (claims on the same run share it). */
  private final Map<String, ServeOutcome> served = new HashMap<>();

  /** A claim on a serving workload: a serving metric of the target, or its ratio to the baseline's. */
  private Outcome servingOutcome(Claim c, Simulator sim, Map<String, HardwareSpec> hw, HardwareSpec t, String bw, WorkloadForm.Serving ft,
      boolean ratio) {
    ServeOutcome ot = served.computeIfAbsent(c.target() + "\n" + ft.spec(), k -> ServeReports.simulate(ctx, t, ft));
    Map<String, Object> extra = new LinkedHashMap<>();
    ServeOutcome ob = null;
    if (ratio) {
      HardwareSpec b = hw.computeIfAbsent(c.baseline(), n -> sim.hardware(n, List.of()));
      WorkloadForm.Serving fb = (WorkloadForm.Serving) WorkloadForm.of(bw, file.toString());
      ob = served.computeIfAbsent(c.baseline() + "\n" + fb.spec(), k -> ServeReports.simulate(ctx, b, fb));
      extra.put("baseline_serving", ServeReports.summary(ob));
    }
    extra.put("target_serving", ServeReports.summary(ot));
    return new Outcome(ServeReports.claimValue(c.metric(), ob, ot), null, null, extra);
  }

  /** A claim on a system workload (llm-*): the system row compare prints, or the target's step alone. */
  private Outcome systemOutcome(Claim c, Simulator sim, Map<String, HardwareSpec> hw, HardwareSpec t, String bw, String tw,
      boolean ratio) {
    if (ratio) {
      HardwareSpec b = hw.computeIfAbsent(c.baseline(), n -> sim.hardware(n, List.of()));
      Map<String, Object> row = SystemReports.compareRow(sim, c.name(), bw, tw, b, t);
      String cannot = row.get("explain") == null ? row.get("baseline_bottleneck") + "; " + row.get("target_bottleneck") : null;
      Map<String, Object> extra = new LinkedHashMap<>();
      for (String k : List.of("baseline_usd_per_mtok", "target_usd_per_mtok")) {
        if (row.get(k) != null) {
          extra.put(k, row.get(k));
        }
      }
      return new Outcome(row.get(c.metric()) instanceof Double d ? d : Double.NaN, row.get("explain"), cannot, extra);
    }
    trnsim.core.system.LlmResult r = sim.runSystem(t, tw, RunOptions.defaults()).result();
    return new Outcome(switch (c.metric()) {
      case "achieved_tflops" -> r.modelFlops() / r.seconds() / 1e12;
      case "time_s" -> r.seconds();
      default -> Double.NaN; // the HBM traffic of a whole step is not summed
    }, null, null);
  }

  /**
   * Whether a speedup claim's evidence label fits its decomposition (null when it does, else why not).
   * Only speedups are checked: an energy, perf/W or cost ratio has no peak-figure decomposition here.
   */
  static String evidenceCheck(Claim c, Map<?, ?> explain) {
    if (!c.metric().equals("speedup") || c.evidence() == null || c.evidence().equals("circular")) {
      return null;
    }
    double util = Double.NaN;
    boolean otherWork = false;
    for (Object o : (List<?>) explain.get("factors")) {
      Map<?, ?> f = (Map<?, ?>) o;
      util = f.get("name").equals("utilisation") ? (Double) f.get("value") : util;
      otherWork |= f.get("name").equals("work per unit");
    }
    double off = Math.max(util, 1 / util);
    if (c.evidence().equals("simulated") && off <= ARITHMETIC_WITHIN && !otherWork) {
      return String.format(Locale.ROOT, "declared simulated, but the ratio is chips x per-chip peak to within %.0f%% (utilisation"
          + " factor %.3fx): it compares peak figures; label it arithmetic", 100 * (ARITHMETIC_WITHIN - 1), util);
    }
    if (c.evidence().equals("arithmetic") && off > SIMULATED_BEYOND) {
      return String.format(Locale.ROOT, "declared arithmetic, but utilisation contributes %.3fx (more than %.0f%%): the ratio is"
          + " a simulation result; label it simulated", util, 100 * (SIMULATED_BEYOND - 1));
    }
    return null;
  }

  static String range(Range r) {
    return "[" + (r.min() == null ? "-inf" : Tables.fmt(r.min())) + ", " + (r.max() == null ? "+inf" : Tables.fmt(r.max())) + "]";
  }

  private void print(List<Map<String, Object>> rows, boolean all) {
    PrintWriter out = ctx.out();
    switch (format) {
      case json -> {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("file", file.toString());
        doc.put("passed", all);
        doc.put("claims", rows);
        out.println(Json.pretty(ResultSchema.stamped(doc)));
      }
      case csv -> {
        out.print(Tables.csvOfRows(KEYS, rows));
      }
      case table -> {
        List<List<Object>> r = new ArrayList<>();
        int failed = 0;
        for (var m : rows) {
          boolean pass = Boolean.TRUE.equals(m.get("pass"));
          failed += pass ? 0 : 1;
          r.add(List.of(m.get("name"), m.get("evidence"), m.get("metric") + ("system".equals(m.get("scope")) ? " (system)" : ""),
              m.get("published") == null ? "-" : Tables.fmt((Double) m.get("published")),
              range(new Range((Double) m.get("min"), (Double) m.get("max"))), m.get("simulated"), pass ? "PASS" : "FAIL"));
        }
        out.print(Tables.text(List.of("claim", "evidence", "metric", "published", "expected", "simulated", "result"), r));
        out.println();
        out.println("evidence: arithmetic = a ratio of peak/config figures (the simulation only confirms the utilisation factor);");
        out.println("simulated = workload time/energy from the model; circular = a config number was derived from the claim.");
        if (rows.stream().anyMatch(m -> m.get("explain") instanceof Map<?, ?>)) {
          out.println("Speedups as factors (chips, per-chip peak and utilisation target/baseline):");
          for (var m : rows) {
            if (m.get("explain") instanceof Map<?, ?> x) {
              out.printf(Locale.ROOT, "  %s: %s%s%n", m.get("name"), x.get("metric_text") == null ? "" : x.get("metric_text") + ", ",
                  x.get("text"));
            }
          }
        }
        if (rows.stream().anyMatch(m -> m.get("target_serving") != null)) {
          out.println("Serving runs (each side's plan and figures):");
          for (var m : rows) {
            if (m.get("target_serving") != null) {
              if (m.get("baseline_serving") != null) {
                out.printf(Locale.ROOT, "  %s: %s: %s%n", m.get("name"), m.get("baseline"), m.get("baseline_serving"));
              }
              out.printf(Locale.ROOT, "  %s: %s: %s%n", m.get("name"), m.get("target"), m.get("target_serving"));
            }
          }
        }
        if (rows.stream().anyMatch(m -> m.get("derived_from") != null)) {
          out.println("Circular claims and what was derived from them:");
          for (var m : rows) {
            if (m.get("derived_from") != null) {
              out.printf(Locale.ROOT, "  %s: %s%n", m.get("name"), m.get("derived_from"));
            }
          }
        }
        for (var m : rows) {
          if (!Boolean.TRUE.equals(m.get("pass"))) {
            out.printf(Locale.ROOT, "FAIL %s: %s%n", m.get("name"), m.get("message"));
          }
        }
        out.printf(Locale.ROOT, "%n%d claims: %d hold, %d fail%n", rows.size(), rows.size() - failed, failed);
      }
    }
    out.flush();
  }

  private String junitXml(List<Map<String, Object>> rows) {
    long failures = rows.stream().filter(r -> !Boolean.TRUE.equals(r.get("pass"))).count();
    String stem = HardwareLoaderStem.of(file);
    StringBuilder sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    sb.append("<testsuite name=\"").append(xml("trnsim verify " + file.getFileName())).append("\" tests=\"").append(rows.size())
        .append("\" failures=\"").append(failures).append("\" errors=\"0\" skipped=\"0\">\n");
    for (var m : rows) {
      sb.append("  <testcase classname=\"").append(xml("trnsim.verify." + stem)).append("\" name=\"")
          .append(xml(String.valueOf(m.get("name")))).append("\"");
      sb.append(">\n    <properties><property name=\"evidence\" value=\"").append(xml(String.valueOf(m.get("evidence"))))
          .append("\"/></properties");
      String detail = String.format(Locale.ROOT, "[%s] %s of %s vs %s: simulated %s, expected %s%s%s%s", m.get("evidence"),
          m.get("metric"), m.get("target"),
          m.get("baseline") == null ? "-" : m.get("baseline"), Tables.fmt((Double) m.get("simulated")),
          range(new Range((Double) m.get("min"), (Double) m.get("max"))),
          m.get("published") == null ? "" : ", published " + Tables.fmt((Double) m.get("published")),
          m.get("explain") instanceof Map<?, ?> x ? "; " + (x.get("metric_text") == null ? "" : x.get("metric_text") + ", ") + x.get("text") : "",
          m.get("derived_from") == null ? "" : "; derived from the claim: " + m.get("derived_from"));
      if (Boolean.TRUE.equals(m.get("pass"))) {
        sb.append(">\n    <system-out>").append(xml(detail)).append("</system-out>\n  </testcase>\n");
      } else {
        sb.append(">\n    <failure type=\"ClaimFailed\" message=\"").append(xml(String.valueOf(m.get("message")))).append("\">")
            .append(xml(detail)).append("</failure>\n  </testcase>\n");
      }
    }
    sb.append("</testsuite>\n");
    return sb.toString();
  }

  static String xml(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '&' -> sb.append("&amp;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&apos;");
        default -> {
          // XML 1.0 has no escape for these: C0 controls other than tab/newline, U+FFFE/U+FFFF and
          // unpaired surrogates; each becomes '?' so the report stays well-formed.
          if (ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r' || ch == 0xfffe || ch == 0xffff
              || Character.isHighSurrogate(ch) && !(i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)))
              || Character.isLowSurrogate(ch) && !(i > 0 && Character.isHighSurrogate(s.charAt(i - 1)))) {
            sb.append('?');
          } else {
            sb.append(ch);
          }
        }
      }
    }
    return sb.toString();
  }

  /** File name without extension. */
  private static final class HardwareLoaderStem {
    static String of(Path p) {
      String n = p.getFileName().toString();
      int dot = n.lastIndexOf('.');
      return dot < 0 ? n : n.substring(0, dot);
    }
  }
}
