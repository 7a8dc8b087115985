package trnsim.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
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

  public CompareCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  /** Separates the baseline and target workloads of a per-side row; also its label. */
  static final String SIDES = " vs ";

  static final List<String> KEYS = List.of("workload", "baseline_time_s", "target_time_s", "speedup", "energy_ratio",
      "perf_per_watt_ratio", "cost_ratio", "baseline_bottleneck", "target_bottleneck",
      "baseline_clock_ghz", "target_clock_ghz", "baseline_power_limited", "target_power_limited", "baseline_cost_usd",
      "target_cost_usd");

  @Override
  public Integer call() {
    Workbench wb = new Workbench(ctx);
    HardwareSpec base = wb.hardware(baseline, setBaseline);
    HardwareSpec tgt = wb.hardware(target, setTarget);
    List<String> specs = new ArrayList<>();
    List<Map<String, Object>> pinned = List.of();
    if ((baselineWorkload == null) != (targetWorkload == null)) {
      throw new UserInputException("--baseline-workload and --target-workload go together");
    }
    if (baselineWorkload != null && !workloads.isEmpty()) {
      throw new UserInputException("--workload cannot be combined with --baseline-workload/--target-workload");
    }
    if (baselineWorkload != null) {
      specs.add(baselineWorkload + SIDES + targetWorkload);
    } else if (workloads.isEmpty()) {
      if (suite.contains(":")) {
        specs.addAll(wb.expand(suite));
      } else if (wb.expand(suite).size() == 1 && wb.expand(suite).get(0).equals(suite)) {
        specs.addAll(wb.expand(suite)); // not a file: reported as an unknown workload
      } else {
        pinned = pinnedRows(wb, base, tgt);
        for (var e : new trnsim.core.config.ModelLoader(ctx.configs()).suite(suite)) {
          if (e.baseline() == null) {
            specs.add(e.workload());
          }
        }
      }
    } else {
      for (String w : workloads) {
        specs.addAll(wb.expand(w));
      }
    }
    List<Map<String, Object>> rows = new ArrayList<>();
    for (String spec : specs) {
      if (wb.isSystemWorkload(spec)) { // whole-system step already: no per-chip row, no "whole system" scaling row
        rows.add(SystemReports.compareRow(wb, spec, base, tgt));
        continue;
      }
      Workbench.Limited lb;
      Workbench.Limited lt;
      try {
        int sides = spec.indexOf(SIDES);
        lb = wb.simulateLimited(base, sides < 0 ? spec : spec.substring(0, sides), RunOptions.defaults());
        lt = wb.simulateLimited(tgt, sides < 0 ? spec : spec.substring(sides + SIDES.length()), RunOptions.defaults());
      } catch (WorkloadException e) {
        if (e.getMessage().contains("does not support")) {
          rows.add(unsupported(spec, e.getMessage()));
          continue;
        }
        throw e;
      }
      // Both sides run at the clock their power limit allows (PowerLimiter), so times, energy and cost are the throttled ones.
      WorkloadResult b = lb.result();
      WorkloadResult t = lt.result();
      Reports.Energy eb = lb.energy();
      Reports.Energy et = lt.energy();
      rows.add(row(spec, b, t, base, tgt, 1, 1, eb, et, lb.operating(), lt.operating()));
      if ((base.totalChips() > 1 || tgt.totalChips() > 1) && b.flops() > 0) {
        rows.add(row(spec + " [whole system: " + base.totalChips() + " vs " + tgt.totalChips() + " chips]", b, t, base, tgt,
            base.totalChips(), tgt.totalChips(), eb, et, lb.operating(), lt.operating()));
      }
    }
    rows.addAll(pinned);
    print(rows, base, tgt);
    return ExitCodes.OK;
  }

  /**
   * Suite entries pinned to systems ("a training step per UltraServer") run on those systems when
   * they are built from the chips being compared, and are labelled with the systems' names.
   */
  private List<Map<String, Object>> pinnedRows(Workbench wb, HardwareSpec base, HardwareSpec tgt) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (var e : new trnsim.core.config.ModelLoader(ctx.configs()).suite(suite)) {
      if (e.baseline() == null) {
        continue;
      }
      HardwareSpec sb = wb.hardware(e.baseline(), setBaseline);
      HardwareSpec st = wb.hardware(e.target(), setTarget);
      if (!sb.chip().equals(base.chip()) || !st.chip().equals(tgt.chip())) {
        continue;
      }
      Map<String, Object> row = new LinkedHashMap<>(SystemReports.compareRow(wb, e.workload(), sb, st));
      row.put("workload", e.workload() + " [" + sb.name() + " vs " + st.name() + "]");
      out.add(row);
    }
    return out;
  }

  private Map<String, Object> unsupported(String spec, String why) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("workload", spec);
    for (String k : KEYS.subList(1, KEYS.size())) {
      m.put(k, null);
    }
    m.put("target_bottleneck", "not supported: " + why.replaceFirst("^.*: ", ""));
    return m;
  }

  static Map<String, Object> row(String label, WorkloadResult b, WorkloadResult t, HardwareSpec base, HardwareSpec tgt,
      int chipsB, int chipsT, Reports.Energy eb, Reports.Energy et, Reports.Operating ob, Reports.Operating ot) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("workload", label);
    m.put("baseline_time_s", b.timeSeconds());
    m.put("target_time_s", t.timeSeconds());
    // Whole-system rows: the same per-chip work done on every chip, so throughput scales with chips.
    double speedup = (b.timeSeconds() / t.timeSeconds()) * chipsT / chipsB;
    m.put("speedup", speedup);
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
    return m;
  }

  private void print(List<Map<String, Object>> rows, HardwareSpec base, HardwareSpec tgt) {
    PrintWriter out = ctx.out();
    switch (format) {
      case json -> {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("baseline", base.name());
        doc.put("target", tgt.name());
        if (base.isProjection() || tgt.isProjection()) {
          doc.put("projection", projected(base, tgt));
        }
        doc.put("rows", rows);
        out.println(Json.pretty(doc));
      }
      case csv -> {
        List<List<Object>> r = new ArrayList<>();
        for (var m : rows) {
          r.add(new ArrayList<>(m.values()));
        }
        out.print(Tables.csv(KEYS, r));
      }
      case table -> {
        out.print(Reports.projectionLine(base, tgt));
        out.printf(Locale.ROOT, "%s (target) vs %s (baseline); speedup > 1 means %s is faster; ratios are target/baseline%n%n",
            tgt.name(), base.name(), tgt.name());
        List<List<Object>> r = new ArrayList<>();
        for (var m : rows) {
          r.add(List.of(m.get("workload"), cellTime(m.get("baseline_time_s")), cellTime(m.get("target_time_s")),
              cellX(m.get("speedup")), cellX(m.get("energy_ratio")), cellX(m.get("perf_per_watt_ratio")), cellX(m.get("cost_ratio"))));
        }
        out.print(Tables.text(List.of("workload", "baseline", "target", "speedup", "energy", "perf/W", "cost"), r));
        out.println();
        out.println("What bounds each side:");
        for (var m : rows) {
          if (String.valueOf(m.get("workload")).contains("[whole system")) {
            continue;
          }
          out.printf(Locale.ROOT, "  %s%n    %s: %s%s%n    %s: %s%s%n", m.get("workload"), base.name(), m.get("baseline_bottleneck"),
              clockNote(m.get("baseline_clock_ghz"), m.get("baseline_power_limited")),
              tgt.name(), m.get("target_bottleneck"), clockNote(m.get("target_clock_ghz"), m.get("target_power_limited")));
        }
      }
    }
    out.flush();
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
