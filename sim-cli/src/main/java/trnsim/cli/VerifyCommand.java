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
import trnsim.core.config.ConfigException;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.RunOptions;
import trnsim.core.run.WorkloadResult;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

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

  /** One claim. Either {@code workload} or both {@code baseline_workload} and {@code target_workload}. */
  public record Claim(String name, String statement, String baseline, String target, String workload,
      String baselineWorkload, String targetWorkload, String metric, String scope, Double published, Range expected,
      String source, String comment) {}

  /** Expected range of the simulated value; either end may be left open. */
  public record Range(Double min, Double max) {}

  /** Metrics that compare a target against a baseline (target / baseline, "higher is better" for speedup and perf/W). */
  static final List<String> RATIO_METRICS = List.of("speedup", "energy_ratio", "perf_per_watt_ratio", "cost_ratio");
  /** Metrics of the target alone. */
  static final List<String> ABSOLUTE_METRICS = List.of("achieved_tflops", "achieved_hbm_gbps", "time_s");

  static final List<String> KEYS = List.of("name", "metric", "scope", "baseline", "target", "baseline_workload",
      "target_workload", "published", "min", "max", "simulated", "pass", "message");

  @Override
  public Integer call() {
    ClaimsFile cf = ctx.hardware().bindFile(file, ClaimsFile.class);
    Workbench wb = new Workbench(ctx);
    List<Claim> claims = validate(cf, wb);
    Map<String, Workbench.Limited> cache = new HashMap<>();
    Map<String, HardwareSpec> hw = new HashMap<>();
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Claim c : claims) {
      rows.add(check(c, wb, hw, cache));
    }
    boolean all = rows.stream().allMatch(r -> Boolean.TRUE.equals(r.get("pass")));
    if (junit != null) {
      AtomicFiles.writeString(junit, junitXml(rows));
    }
    print(rows, all);
    return all ? ExitCodes.OK : ExitCodes.CLAIM_FAILED;
  }

  private List<Claim> validate(ClaimsFile cf, Workbench wb) {
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
      if (c.metric() == null || !(RATIO_METRICS.contains(c.metric()) || ABSOLUTE_METRICS.contains(c.metric()))) {
        throw new ConfigException(f, at + ".metric", c.metric(), "expected one of "
            + String.join(", ", RATIO_METRICS) + ", " + String.join(", ", ABSOLUTE_METRICS));
      }
      if (c.scope() != null && !c.scope().equals("chip") && !c.scope().equals("system")) {
        throw new ConfigException(f, at + ".scope", c.scope(), "expected chip or system");
      }
      if (c.target() == null || c.target().isBlank()) {
        throw new ConfigException(f, at + ".target", c.target(), "every claim needs a target hardware config");
      }
      boolean ratio = RATIO_METRICS.contains(c.metric());
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
          try {
            WorkloadSpec.parse(w, f);
          } catch (WorkloadException e) {
            throw new ConfigException(f, at + ".workload", w, e.getMessage());
          }
        }
      }
      for (String h : new String[] {c.baseline(), c.target()}) {
        if (h != null) {
          try {
            wb.hardware(h, List.of());
          } catch (ConfigException e) {
            throw new ConfigException(f, at + (h.equals(c.target()) ? ".target" : ".baseline"), h, e.reason());
          }
        }
      }
    }
    return cf.claims();
  }

  private Map<String, Object> check(Claim c, Workbench wb, Map<String, HardwareSpec> hw, Map<String, Workbench.Limited> cache) {
    boolean system = "system".equals(c.scope());
    String tw = c.workload() != null ? c.workload() : c.targetWorkload();
    String bw = c.workload() != null ? c.workload() : c.baselineWorkload();
    boolean ratio = RATIO_METRICS.contains(c.metric());
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
    double value;
    String message;
    try {
      HardwareSpec t = hw.computeIfAbsent(c.target(), n -> wb.hardware(n, List.of()));
      if (ratio && wb.isSystemWorkload(tw)) {
        // A system step (llm-train, llm-infer) on each whole system, judged as compare's system rows are:
        // throughput, energy and cost per token (the two sides may run different batches and chip counts).
        HardwareSpec b = hw.computeIfAbsent(c.baseline(), n -> wb.hardware(n, List.of()));
        var sb = wb.simulateSystem(b, bw, RunOptions.defaults());
        var st = wb.simulateSystem(t, tw, RunOptions.defaults());
        value = (Double) SystemReports.compareRow(wb, c.name(), sb, st).get(c.metric());
        boolean ok = Double.isFinite(value) && (c.expected().min() == null || value >= c.expected().min())
            && (c.expected().max() == null || value <= c.expected().max());
        message = (ok ? "holds" : "simulated " + Tables.fmt(value) + " is outside the expected range " + range(c.expected()))
            + String.format(Locale.ROOT, "%s", ok ? "" : String.format(Locale.ROOT, " (%s: %.4g USD per million tokens, %s: %.4g)",
                b.name(), sb.costPerMillionTokensUsd(), t.name(), st.costPerMillionTokensUsd()));
        m.put("baseline_usd_per_mtok", sb.costPerMillionTokensUsd());
        m.put("target_usd_per_mtok", st.costPerMillionTokensUsd());
        m.put("simulated", value);
        m.put("pass", ok);
        m.put("message", message);
        return m;
      }
      // Claims are judged as compare reports them: each side at the clock its power limit allows.
      Workbench.Limited lt = cache.computeIfAbsent(c.target() + "\n" + tw, k -> wb.simulateLimited(t, tw, RunOptions.defaults()));
      WorkloadResult rt = lt.result();
      if (ratio) {
        HardwareSpec b = hw.computeIfAbsent(c.baseline(), n -> wb.hardware(n, List.of()));
        Workbench.Limited lb = cache.computeIfAbsent(c.baseline() + "\n" + bw, k -> wb.simulateLimited(b, bw, RunOptions.defaults()));
        Map<String, Object> row = CompareCommand.row(c.name(), lb.result(), rt, b, t, system ? b.totalChips() : 1,
            system ? t.totalChips() : 1, lb.energy(), lt.energy(), lb.operating(), lt.operating());
        value = (Double) row.get(c.metric());
      } else {
        int chips = system ? t.totalChips() : 1;
        value = switch (c.metric()) {
          case "achieved_tflops" -> rt.achievedFlopsPerSecond() / 1e12 * chips;
          case "achieved_hbm_gbps" -> rt.achievedHbmBytesPerSecond() / 1e9 * chips;
          default -> rt.timeSeconds();
        };
      }
      boolean ok = Double.isFinite(value) && (c.expected().min() == null || value >= c.expected().min())
          && (c.expected().max() == null || value <= c.expected().max());
      message = ok ? "holds" : "simulated " + Tables.fmt(value) + " is outside the expected range " + range(c.expected());
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
    return m;
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
        out.println(Json.pretty(doc));
      }
      case csv -> {
        List<List<Object>> r = new ArrayList<>();
        for (var m : rows) {
          List<Object> cells = new ArrayList<>();
          for (String k : KEYS) {
            cells.add(m.get(k));
          }
          r.add(cells);
        }
        out.print(Tables.csv(KEYS, r));
      }
      case table -> {
        List<List<Object>> r = new ArrayList<>();
        int failed = 0;
        for (var m : rows) {
          boolean pass = Boolean.TRUE.equals(m.get("pass"));
          failed += pass ? 0 : 1;
          r.add(List.of(m.get("name"), m.get("metric") + ("system".equals(m.get("scope")) ? " (system)" : ""),
              m.get("published") == null ? "-" : Tables.fmt((Double) m.get("published")),
              range(new Range((Double) m.get("min"), (Double) m.get("max"))), m.get("simulated"), pass ? "PASS" : "FAIL"));
        }
        out.print(Tables.text(List.of("claim", "metric", "published", "expected", "simulated", "result"), r));
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
      String detail = String.format(Locale.ROOT, "%s of %s vs %s: simulated %s, expected %s%s", m.get("metric"), m.get("target"),
          m.get("baseline") == null ? "-" : m.get("baseline"), Tables.fmt((Double) m.get("simulated")),
          range(new Range((Double) m.get("min"), (Double) m.get("max"))),
          m.get("published") == null ? "" : ", published " + Tables.fmt((Double) m.get("published")));
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
          if (ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') {
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
