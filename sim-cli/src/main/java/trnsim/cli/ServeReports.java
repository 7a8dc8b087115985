package trnsim.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.ModelLoader;
import trnsim.core.energy.EnergyModel;
import trnsim.core.serve.ServeMetric;
import trnsim.core.serve.ServeOutcome;
import trnsim.core.serve.ServeWorkload;
import trnsim.isa.workload.WorkloadException;

/** Serving workloads ({@code serve:}) in {@code compare} and {@code verify}: runs them and renders their rows. */
final class ServeReports {
  private ServeReports() {}

  /**
   * The workload on {@code hw}. A model that cannot be served as asked (does not fit, a bad tp) is a
   * WorkloadException naming the spec, so compare reports it in its row and verify as "cannot simulate".
   */
  static ServeOutcome simulate(CliContext ctx, HardwareSpec hw, WorkloadForm.Serving f) {
    ModelLoader models = new ModelLoader(ctx.configs());
    ServeWorkload w = f.workload();
    EnergyModel energy = hw.chip().power() == null || hw.chip().power().energyTable() == null ? null
        : EnergyModel.forHardware(hw, ctx.configs());
    try {
      models.model(w.model());
      if (w.speculative() != null) {
        models.model(w.speculative().draft());
      }
      return w.run(hw, models::model, energy);
    } catch (IllegalArgumentException | trnsim.isa.ProgramException e) {
      throw new WorkloadException(f.spec(), null, null, "on " + hw.name() + ": " + e.getMessage());
    }
  }

  /**
   * Claim values of a serving workload: a {@link ServeMetric} of the target, its {@code _ratio} form
   * (target / baseline), or one of the generic ratios read as serving figures: speedup = output
   * throughput ratio (target / baseline), cost_ratio = cost per million output tokens (target /
   * baseline), energy_ratio = energy per output token (target / baseline), perf_per_watt_ratio its inverse.
   */
  static double claimValue(String metric, ServeOutcome baseline, ServeOutcome target) {
    switch (metric) {
      case "speedup":
        return ServeMetric.OUTPUT_TOKENS_PER_S.ratio(baseline, target);
      case "cost_ratio":
        return ServeMetric.COST_PER_MILLION_TOKENS_USD.ratio(baseline, target);
      case "energy_ratio":
        return ServeMetric.ENERGY_PER_TOKEN_J.ratio(baseline, target);
      case "perf_per_watt_ratio":
        return 1 / ServeMetric.ENERGY_PER_TOKEN_J.ratio(baseline, target);
      default:
        break;
    }
    if (metric.endsWith(ServeMetric.RATIO)) {
      return metric(metric.substring(0, metric.length() - ServeMetric.RATIO.length())).ratio(baseline, target);
    }
    return metric(metric).of(target);
  }

  private static ServeMetric metric(String key) {
    ServeMetric m = ServeMetric.byKey(key);
    if (m == null) {
      throw new IllegalArgumentException("not a serving metric: " + key);
    }
    return m;
  }

  /** Whether {@code metric} is a serving metric, in either form. */
  static boolean isServingMetric(String metric) {
    String base = metric.endsWith(ServeMetric.RATIO) ? metric.substring(0, metric.length() - ServeMetric.RATIO.length()) : metric;
    return ServeMetric.byKey(base) != null;
  }

  /** Every serving claim metric name, both forms. */
  static List<String> servingMetricNames() {
    List<String> out = new ArrayList<>();
    for (String k : ServeMetric.keys()) {
      out.add(k);
      out.add(k + ServeMetric.RATIO);
    }
    return out;
  }

  /** Each side's value of every metric and the target / baseline ratio: the "serving" object of a compare row. */
  static Map<String, Object> metricsJson(ServeOutcome b, ServeOutcome t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("baseline_plan", b.plan());
    m.put("target_plan", t.plan());
    Map<String, Object> metrics = new LinkedHashMap<>();
    for (ServeMetric x : ServeMetric.values()) {
      if (x.needsSweep() && (b.sweep() == null || t.sweep() == null)) {
        continue;
      }
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("baseline", x.of(b));
      v.put("target", x.of(t));
      v.put("ratio", x.ratio(b, t));
      v.put("higher_is_better", x.higherIsBetter());
      metrics.put(x.key(), v);
    }
    m.put("metrics", metrics);
    return m;
  }

  /**
   * A compare row for a serving workload: the unit is one output token at each side's served
   * throughput, so speedup is the throughput ratio (equal to 1 when both keep up with the offered
   * rate; a serving claim reads the goodput and latency figures of the "serving" object instead),
   * energy and cost are per output token.
   */
  static Map<String, Object> compareRow(String label, ServeOutcome b, ServeOutcome t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("workload", label);
    m.put("baseline_time_s", 1 / b.summary().outputTokensPerS());
    m.put("target_time_s", 1 / t.summary().outputTokensPerS());
    m.put("speedup", claimValue("speedup", b, t));
    m.put("energy_ratio", claimValue("energy_ratio", b, t));
    m.put("perf_per_watt_ratio", claimValue("perf_per_watt_ratio", b, t));
    m.put("cost_ratio", claimValue("cost_ratio", b, t));
    m.put("baseline_usd_per_mtok", b.summary().costPerMillionTokensUsd());
    m.put("target_usd_per_mtok", t.summary().costPerMillionTokensUsd());
    m.put("baseline_bottleneck", summary(b));
    m.put("target_bottleneck", summary(t));
    for (String k : List.of("baseline_clock_ghz", "target_clock_ghz", "baseline_power_limited", "target_power_limited")) {
      m.put(k, null);
    }
    m.put("baseline_cost_usd", b.servingUsdPerHour() * b.summary().spanS() / 3600);
    m.put("target_cost_usd", t.servingUsdPerHour() * t.summary().spanS() / 3600);
    m.put("speedup_basis", "per output token, served");
    m.put("baseline_run_time_s", b.summary().spanS());
    m.put("target_run_time_s", t.summary().spanS());
    m.put("explain", null);
    m.put("serving", metricsJson(b, t));
    m.put("error", null);
    return m;
  }

  /** One side in a line: its plan and the figures a serving claim is judged by. */
  static String summary(ServeOutcome o) {
    var s = o.summary();
    String rate = o.sweep() == null ? "" : String.format(Locale.ROOT, ", highest rate meeting the SLOs %s/s", Tables.fmt(o.sweep().maxRatePerS()));
    return String.format(Locale.ROOT, "%s; TTFT p50 %s p99 %s, TPOT p50 %s p99 %s, goodput %s/s (%.1f%% meet the SLOs), %s USD per"
        + " million output tokens%s", o.plan(), Reports.seconds(s.ttftS()[0]), Reports.seconds(s.ttftS()[2]), Reports.seconds(s.tpotS()[0]),
        Reports.seconds(s.tpotS()[2]), Tables.fmt(s.goodputPerS()), 100 * s.sloMet(), Tables.fmt(s.costPerMillionTokensUsd()), rate);
  }

  /** The serving figures of compare's serving rows, one table per row. */
  static void table(PrintWriter out, List<Map<String, Object>> rows, String base, String tgt) {
    for (var r : rows) {
      if (!(r.get("serving") instanceof Map<?, ?> sv)) {
        continue;
      }
      out.printf(Locale.ROOT, "%nServing: %s%n  %s: %s%n  %s: %s%n", r.get("workload"), base, sv.get("baseline_plan"), tgt, sv.get("target_plan"));
      List<List<Object>> t = new ArrayList<>();
      for (var e : ((Map<?, ?>) sv.get("metrics")).entrySet()) {
        Map<?, ?> v = (Map<?, ?>) e.getValue();
        String key = String.valueOf(e.getKey());
        t.add(List.of(key, cell(key, (Double) v.get("baseline")), cell(key, (Double) v.get("target")), ratio((Double) v.get("ratio")),
            Boolean.TRUE.equals(v.get("higher_is_better")) ? "higher" : "lower"));
      }
      for (String line : Tables.text(List.of("metric", base, tgt, "target/baseline", "better"), t).split("\n")) {
        out.println("  " + line);
      }
    }
  }

  private static String cell(String key, double v) {
    return key.endsWith("_s") && !key.endsWith("per_s") ? (Double.isFinite(v) ? Reports.seconds(v) : "-") : Tables.fmt(v);
  }

  private static String ratio(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.3fx", v) : "-";
  }
}
