package trnsim.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import trnsim.core.api.ResultSchema;
import trnsim.core.api.KernelRunResult;
import trnsim.core.api.Simulator;
import trnsim.core.compare.SpeedupDecomposition;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.RunOptions;
import trnsim.core.run.WorkloadResult;
import trnsim.isa.workload.WorkloadException;

/**
 * {@code trnsim compare}: the same workloads on two hardware configs, side by side. Kernel
 * workloads run on one chip of each; the "whole system" rows scale per-chip throughput by the
 * chip count (independent SPMD work, no communication) so system-level ratios such as the
 * UltraServer compute claim fall out of the same simulations.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Compare two hardware configs on a suite of workloads: time, speedup, energy, perf/W, cost, bottlenecks.")
public final class CompareCommand implements Callable<Integer> {
  private final CliContext ctx;

  @Option(names = "--baseline", required = true, description = "Baseline hardware config (e.g. trn2).")
  String baseline;

  @Option(names = "--target", required = true, description = "Target hardware config (e.g. trn3).")
  String target;

  @Option(names = "--suite", defaultValue = "launch", description = "Workload suite in configs/workloads/suites (default: ${DEFAULT-VALUE}).")
  String suite;

  @Option(names = {"--workload", "-w"}, description = "Workload(s) to compare instead of the suite (repeatable).")
  List<String> workloads = new ArrayList<>();

  @Option(names = "--baseline-workload", paramLabel = "SPEC",
      description = "Per-side comparison: this workload on the baseline (with --target-workload), e.g. the best 8-bit format of each.")
  String baselineWorkload;

  @Option(names = "--target-workload", paramLabel = "SPEC", description = "Per-side comparison: this workload on the target.")
  String targetWorkload;

  @Option(names = "--set-baseline", paramLabel = "KEY=VALUE", description = "Override a baseline config key (repeatable).")
  List<String> setBaseline = new ArrayList<>();

  @Option(names = "--set-target", paramLabel = "KEY=VALUE", description = "Override a target config key (repeatable).")
  List<String> setTarget = new ArrayList<>();

  @Option(names = "--format", defaultValue = "table", description = "table, json or csv (default: ${DEFAULT-VALUE}).")
  OutputFormat format;

  @Option(names = "--outdir", paramLabel = "DIR", description = "Also write a run directory: hardware-baseline.yaml, "
      + "hardware-target.yaml (fully resolved), workload.txt, stats.json, result.json and version.txt (docs/cli.md).")
  java.nio.file.Path outdir;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec commandSpec;

  /** Every side simulated, in row order, for the run directory's statistics. */
  private final List<Map<String, Object>> simulated = new ArrayList<>();

  @Option(names = "--chart", paramLabel = "FILE.png|FILE.svg", description = "Also draw each row's speedup as its stacked factors (log scale).")
  Path chart;

  public CompareCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  /** Separates the baseline and target workloads of a per-side row in its label. */
  static final String SIDES = " vs ";

  static final List<String> KEYS = List.of("workload", "baseline_time_s", "target_time_s", "speedup", "energy_ratio",
      "perf_per_watt_ratio", "cost_ratio", "baseline_bottleneck", "target_bottleneck",
      "baseline_clock_ghz", "target_clock_ghz", "baseline_power_limited", "target_power_limited", "baseline_cost_usd",
      "target_cost_usd", "speedup_basis", "baseline_run_time_s", "target_run_time_s", "explain", "error");

  /** The ratio directions, stated once for the table header and the JSON document. */
  static final String RATIOS = "speedup = baseline time / target time per the row's unit (> 1: target faster), and is the product"
      + " of its factors (chips, per-chip peak and utilisation target/baseline, work per unit baseline/target);"
      + " perf/W = baseline energy / target energy (> 1: target more efficient); energy and cost = target / baseline (< 1: target uses less)";

  /** One row to compute: a label, the workload of each side and the hardware of each side. */
  record Entry(String label, String baselineSpec, String targetSpec, HardwareSpec base, HardwareSpec tgt) {}

  @Override
  public Integer call() {
    RunDirectory rd = RunDirectory.of(ctx, outdir);
    Simulator sim = ctx.simulator();
    HardwareSpec base = sim.hardware(baseline, setBaseline);
    HardwareSpec tgt = sim.hardware(target, setTarget);
    if (chart != null) {
      Charts.format(chart, "--chart");
    }
    List<Entry> entries = entries(sim, base, tgt);
    List<Map<String, Object>> rows = new ArrayList<>();
    RuntimeException first = null;
    for (Entry e : entries) {
      try {
        rows.addAll(rows(sim, e));
      } catch (WorkloadException | trnsim.isa.ProgramException | trnsim.core.engine.SimulationLimitException
          | trnsim.core.config.ConfigException | UserInputException ex) {
        // One failing row is reported in its row; the others still run.
        first = first == null ? ex : first;
        rows.add(errorRow(e.label(), ex.getMessage()));
      }
    }
    long failed = rows.stream().filter(r -> r.get("error") != null).count();
    if (failed == rows.size() && first != null) {
      throw first; // nothing to report: one error line, exit 2
    }
    if (chart != null) {
      CompareChart.save(rows, base.name(), tgt.name(), chart);
    }
    if (rd != null) {
      List<String> specs = new ArrayList<>();
      for (Entry e : entries) {
        specs.add(e.baselineSpec().equals(e.targetSpec()) ? e.baselineSpec() : e.baselineSpec() + SIDES + e.targetSpec());
      }
      rd.hardware("hardware-baseline.yaml", base).hardware("hardware-target.yaml", tgt).workloads(specs)
          .statsTree(simulated).result(document(rows, base, tgt))
          .version(commandSpec.commandLine().getParseResult().originalArgs()).write();
    }
    print(rows, base, tgt);
    for (var r : rows) {
      if (r.get("error") != null) {
        ctx.err().println("error: " + r.get("workload") + ": " + r.get("error"));
      }
    }
    ctx.err().flush();
    return failed > 0 ? ExitCodes.BAD_INPUT : ExitCodes.OK;
  }

  private List<Entry> entries(Simulator sim, HardwareSpec base, HardwareSpec tgt) {
    if ((baselineWorkload == null) != (targetWorkload == null)) {
      throw new UserInputException("--baseline-workload and --target-workload go together");
    }
    if (baselineWorkload != null && !workloads.isEmpty()) {
      throw new UserInputException("--workload cannot be combined with --baseline-workload/--target-workload");
    }
    List<Entry> out = new ArrayList<>();
    if (baselineWorkload != null) {
      out.add(new Entry(baselineWorkload + SIDES + targetWorkload, baselineWorkload, targetWorkload, base, tgt));
      return out;
    }
    List<String> specs = new ArrayList<>();
    List<Entry> pinned = List.of();
    if (!workloads.isEmpty()) {
      for (String w : workloads) {
        specs.addAll(sim.expand(w));
      }
    } else if (suite.contains(":") || (sim.expand(suite).size() == 1 && sim.expand(suite).get(0).equals(suite))) {
      specs.addAll(sim.expand(suite)); // an inline spec, or not a file: reported as an unknown workload
    } else {
      pinned = pinnedEntries(sim, base, tgt);
      for (var e : new trnsim.core.config.ModelLoader(ctx.configs()).suite(suite)) {
        if (e.baseline() == null) {
          specs.add(e.workload());
        }
      }
    }
    for (String s : specs) {
      out.add(new Entry(s, s, s, base, tgt));
    }
    out.addAll(pinned);
    return out;
  }

  /**
   * Suite entries pinned to systems ("a training step per UltraServer") run on those systems when
   * they are built from the chips being compared, and are labelled with the systems' names.
   */
  private List<Entry> pinnedEntries(Simulator sim, HardwareSpec base, HardwareSpec tgt) {
    List<Entry> out = new ArrayList<>();
    for (var e : new trnsim.core.config.ModelLoader(ctx.configs()).suite(suite)) {
      if (e.baseline() == null) {
        continue;
      }
      HardwareSpec sb = sim.hardware(e.baseline(), setBaseline);
      HardwareSpec st = sim.hardware(e.target(), setTarget);
      if (sb.chip().equals(base.chip()) && st.chip().equals(tgt.chip())) {
        out.add(new Entry(e.workload() + " [" + sb.name() + " vs " + st.name() + "]", e.workload(), e.workload(), sb, st));
      }
    }
    return out;
  }

  /** The row(s) of one entry: a system row, or a per-chip kernel row plus its whole-system row. */
  private List<Map<String, Object>> rows(Simulator sim, Entry e) {
    boolean sysB = Simulator.isSystemWorkload(e.baselineSpec());
    if (sysB != Simulator.isSystemWorkload(e.targetSpec())) {
      throw new UserInputException("--target-workload = '" + e.targetSpec() + "': both sides must be system (llm-*) workloads or neither");
    }
    if (sysB) { // whole-system step already: no per-chip row, no "whole system" scaling row
      return List.of(SystemReports.compareRow(sim, e.label(), e.baselineSpec(), e.targetSpec(), e.base(), e.tgt(),
          r -> seen(e.label(), r)));
    }
    KernelRunResult lb;
    KernelRunResult lt;
    try {
      lb = sim.runKernel(e.base(), e.baselineSpec(), RunOptions.defaults());
      lt = sim.runKernel(e.tgt(), e.targetSpec(), RunOptions.defaults());
    } catch (WorkloadException ex) {
      if (ex.getMessage().contains("does not support")) {
        return List.of(unsupported(e.label(), ex.getMessage()));
      }
      throw ex;
    }
    seen(e.label(), lb);
    seen(e.label(), lt);
    // Both sides run at the clock their power limit allows (PowerLimiter), so times, energy and cost are the throttled ones.
    WorkloadResult b = lb.result();
    WorkloadResult t = lt.result();
    List<Map<String, Object>> out = new ArrayList<>();
    out.add(row(e.label(), b, t, e.base(), e.tgt(), 1, 1, lb.energy(), lt.energy(), lb.operating(), lt.operating()));
    int cb = e.base().totalChips();
    int ct = e.tgt().totalChips();
    if ((cb > 1 || ct > 1) && b.flops() > 0) {
      out.add(row(e.label() + " [whole system: " + cb + " vs " + ct + " chips]", b, t, e.base(), e.tgt(), cb, ct,
          lb.energy(), lt.energy(), lb.operating(), lt.operating()));
    }
    return out;
  }

  /** Records one simulated side (baseline first) for the run directory. */
  private void seen(String row, trnsim.core.api.SimulationResult r) {
    if (outdir != null) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("row", row);
      m.putAll(trnsim.core.api.ResultSchema.stats(r));
      simulated.add(m);
    }
  }

  private static Map<String, Object> emptyRow(String label) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("workload", label);
    for (String k : KEYS.subList(1, KEYS.size())) {
      m.put(k, null);
    }
    return m;
  }

  private static Map<String, Object> unsupported(String label, String why) {
    Map<String, Object> m = emptyRow(label);
    m.put("target_bottleneck", "not supported: " + why.replaceFirst("^.*: ", ""));
    return m;
  }

  static Map<String, Object> errorRow(String label, String why) {
    Map<String, Object> m = emptyRow(label);
    m.put("error", why);
    return m;
  }

  /**
   * A kernel row. {@code chipsB} and {@code chipsT} are 1 for the per-chip row; on whole-system rows
   * every chip runs the kernel (independent SPMD work), so the unit is one kernel of the system's
   * throughput and the times shown are the kernel time over the chip count.
   */
  static Map<String, Object> row(String label, WorkloadResult b, WorkloadResult t, HardwareSpec base, HardwareSpec tgt,
      int chipsB, int chipsT, trnsim.core.api.Energy eb, trnsim.core.api.Energy et, trnsim.core.api.OperatingPoint ob,
      trnsim.core.api.OperatingPoint ot) {
    // Explained by tensor FLOP/s when both sides do FLOPs on the tensor engine; otherwise by HBM bandwidth.
    boolean flops = b.flops() > 0 && t.flops() > 0 && b.engineBusy().getOrDefault("tensor", 0.0) > 0
        && t.engineBusy().getOrDefault("tensor", 0.0) > 0;
    String basis = chipsB == 1 && chipsT == 1 ? "per kernel" : "per kernel, system throughput";
    SpeedupDecomposition d = SpeedupDecomposition.of(basis, SpeedupDecomposition.kernel(b, flops, chipsB, ob.clockGhz()),
        SpeedupDecomposition.kernel(t, flops, chipsT, ot.clockGhz()));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("workload", label);
    m.put("baseline_time_s", d.baseline().secondsPerUnit());
    m.put("target_time_s", d.target().secondsPerUnit());
    m.put("speedup", d.speedup());
    // Energy for the same work: per-chip energy of the kernel (whole-system rows do chips-times the work).
    m.put("energy_ratio", et.joules() / eb.joules());
    // Performance per watt = work / energy: the inverse of the energy ratio for the same work.
    m.put("perf_per_watt_ratio", eb.joules() / et.joules());
    double pb = base.system().pricePerChipHourUsd();
    double pt = tgt.system().pricePerChipHourUsd();
    // Cost of the same work: time x chips x price per chip-hour; per chip-work it is time x price.
    m.put("cost_ratio", (t.timeSeconds() * pt) / (b.timeSeconds() * pb));
    m.put("baseline_bottleneck", b.bottleneck());
    m.put("target_bottleneck", t.bottleneck());
    m.put("baseline_clock_ghz", ob.clockGhz());
    m.put("target_clock_ghz", ot.clockGhz());
    m.put("baseline_power_limited", ob.powerLimited());
    m.put("target_power_limited", ot.powerLimited());
    // Each side's rental cost for this row: its time x its chips x its price per chip-hour (NaN when unpriced).
    m.put("baseline_cost_usd", ob.costUsd(b.timeSeconds()) * chipsB);
    m.put("target_cost_usd", ot.costUsd(t.timeSeconds()) * chipsT);
    explainKeys(m, d, b.timeSeconds(), t.timeSeconds());
    m.put("error", null);
    return m;
  }

  /** The keys every computed row carries about its speedup: its unit, the run times and the factors. */
  static void explainKeys(Map<String, Object> m, SpeedupDecomposition d, double runB, double runT) {
    m.put("speedup_basis", d.basis());
    m.put("baseline_run_time_s", runB);
    m.put("target_run_time_s", runT);
    m.put("explain", explainJson(d));
  }

  static Map<String, Object> explainJson(SpeedupDecomposition d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("text", d.text());
    m.put("factors", factorsJson(d.factors()));
    m.put("utilisation_parts", factorsJson(d.utilisationParts()));
    return m;
  }

  private static List<Map<String, Object>> factorsJson(List<SpeedupDecomposition.Factor> fs) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (var f : fs) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", f.name());
      m.put("value", f.value());
      m.put("meaning", f.meaning());
      out.add(m);
    }
    return out;
  }

  private void print(List<Map<String, Object>> rows, HardwareSpec base, HardwareSpec tgt) {
    PrintWriter out = ctx.out();
    switch (format) {
      case json -> out.println(Json.pretty(document(rows, base, tgt)));
      case csv -> {
        out.print(Tables.csvOfRows(KEYS, rows));
      }
      case table -> table(out, rows, base, tgt);
    }
    out.flush();
  }

  /** The JSON document: both configs, the ratio directions and every row. */
  private static Map<String, Object> document(List<Map<String, Object>> rows, HardwareSpec base, HardwareSpec tgt) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("baseline", base.name());
    doc.put("target", tgt.name());
    doc.put("ratios", RATIOS);
    if (base.isProjection() || tgt.isProjection()) {
      doc.put("projection", projected(base, tgt));
    }
    doc.put("rows", rows);
    return ResultSchema.stamped(doc);
  }

  private static void table(PrintWriter out, List<Map<String, Object>> rows, HardwareSpec base, HardwareSpec tgt) {
    out.print(Reports.projectionLine(base, tgt));
    out.printf(Locale.ROOT, "%s (target) vs %s (baseline)%n", tgt.name(), base.name());
    out.printf(Locale.ROOT, "  speedup = %s time / %s time per the row's unit (> 1: %s is faster); perf/W = %s energy / %s energy;%n",
        base.name(), tgt.name(), tgt.name(), base.name(), tgt.name());
    out.printf(Locale.ROOT, "  energy and cost = %s / %s (< 1: %s uses less)%n%n", tgt.name(), base.name(), tgt.name());
    List<List<Object>> r = new ArrayList<>();
    for (var m : rows) {
      r.add(List.of(m.get("workload"), unit(m), cellTime(m.get("baseline_time_s")), cellTime(m.get("target_time_s")),
          m.get("error") != null ? "error" : cellX(m.get("speedup")), cellX(m.get("energy_ratio")),
          cellX(m.get("perf_per_watt_ratio")), cellX(m.get("cost_ratio"))));
    }
    out.print(Tables.text(List.of("workload", "per", "baseline", "target", "speedup", "energy", "perf/W", "cost"), r));
    out.println();
    out.println("Why: each speedup as a product of factors (chips, per-chip peak at the dtype and clock run, and utilisation");
    out.println("are target/baseline; work per unit is baseline/target); utilisation splits into the efficiency of the");
    out.println("productive time and one factor per part of the time lost (> 1: the target loses less to it);");
    out.println("figures in parentheses are target vs baseline:");
    for (var m : rows) {
      out.printf(Locale.ROOT, "  %s%n", m.get("workload"));
      if (m.get("error") != null) {
        out.printf(Locale.ROOT, "    error: %s%n", m.get("error"));
        continue;
      }
      if (m.get("explain") instanceof Map<?, ?> x) {
        out.printf(Locale.ROOT, "    %s%n", x.get("text"));
        out.printf(Locale.ROOT, "    utilisation: %s%n", utilisationText(x));
      }
      if (String.valueOf(m.get("workload")).contains("[whole system")) {
        continue;
      }
      out.printf(Locale.ROOT, "    %s: %s%s%n    %s: %s%s%n", base.name(), m.get("baseline_bottleneck"),
          clockNote(m.get("baseline_clock_ghz"), m.get("baseline_power_limited")),
          tgt.name(), m.get("target_bottleneck"), clockNote(m.get("target_clock_ghz"), m.get("target_power_limited")));
    }
  }

  /** The utilisation parts that differ from 1 by more than 0.5%, from a row's explain object. */
  private static String utilisationText(Map<?, ?> explain) {
    StringBuilder sb = new StringBuilder();
    for (Object o : (List<?>) explain.get("utilisation_parts")) {
      Map<?, ?> f = (Map<?, ?>) o;
      double v = (Double) f.get("value");
      if (Math.abs(v - 1) > 0.005) {
        sb.append(sb.length() == 0 ? "" : " x ").append(String.format(Locale.ROOT, "%.2fx %s (%s)", v, f.get("name"), f.get("meaning")));
      }
    }
    return sb.length() == 0 ? "no part differs by more than 0.5%" : sb.toString();
  }

  private static String unit(Map<String, Object> m) {
    Object b = m.get("speedup_basis");
    return b == null ? "-" : String.valueOf(b).replaceFirst("^per ", "");
  }

  /** The names of the sides that are projections. */
  static List<String> projected(HardwareSpec... hws) {
    List<String> out = new ArrayList<>();
    for (HardwareSpec h : hws) {
      if (h.isProjection() && !out.contains(h.name())) {
        out.add(h.name());
      }
    }
    return out;
  }

  private static String clockNote(Object ghz, Object limited) {
    return Boolean.TRUE.equals(limited) && ghz instanceof Double d
        ? String.format(Locale.ROOT, " (power-limited: clock lowered to %.3f GHz)", d) : "";
  }

  private static String cellTime(Object o) {
    return o instanceof Double d && Double.isFinite(d) ? Reports.seconds(d) : "-";
  }

  private static String cellX(Object o) {
    return o instanceof Double d && Double.isFinite(d) ? String.format(Locale.ROOT, "%.2fx", d) : "-";
  }
}
