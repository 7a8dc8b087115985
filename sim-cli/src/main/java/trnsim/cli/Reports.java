package trnsim.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import trnsim.core.run.WorkloadResult;

/** Renders workload results for people (table) and machines (JSON, CSV) with stable keys. */
final class Reports {
  private Reports() {}

  static final List<String> CSV_KEYS = List.of("hardware", "workload", "time_s", "flops", "achieved_tflops", "peak_tflops",
      "utilization", "hbm_bytes", "achieved_hbm_gbps", "energy_j", "avg_power_w", "bottleneck",
      "clock_ghz", "clock_fraction", "power_limited", "perf_per_watt", "cost_usd", "cost_per_mtok_usd");

  /**
   * The operating point a workload ran at: the tensor clock actually run (lowered by the power limit
   * when {@code powerLimited}), the config's maximum, the limit, and the price per chip-hour (NaN when
   * the config has none).
   */
  record Operating(double clockGhz, double maxClockGhz, boolean powerLimited, double powerLimitW, double pricePerChipHourUsd) {
    static final Operating NONE = new Operating(Double.NaN, Double.NaN, false, Double.NaN, Double.NaN);

    double clockFraction() {
      return maxClockGhz > 0 ? clockGhz / maxClockGhz : Double.NaN;
    }

    /** Rental cost of the one chip a run uses for {@code seconds}; NaN when unpriced. */
    double costUsd(double seconds) {
      return seconds * pricePerChipHourUsd / 3600.0;
    }
  }

  /** Performance per watt: FLOP/J when the workload does FLOPs, else tokens/J, else NaN. */
  static double perfPerWatt(WorkloadResult r, Energy e) {
    if (!(e.joules() > 0)) {
      return Double.NaN;
    }
    if (r.flops() > 0) {
      return r.flops() / e.joules();
    }
    return r.tokens() > 0 ? r.tokens() / e.joules() : Double.NaN;
  }

  static Map<String, Object> json(WorkloadResult r, Energy e, Operating o) {
    Map<String, Object> m = json(r, e);
    Map<String, Object> out = new LinkedHashMap<>();
    for (var en : m.entrySet()) {
      if (en.getKey().equals("bottleneck")) {
        out.put("clock_ghz", o.clockGhz());
        out.put("max_clock_ghz", o.maxClockGhz());
        out.put("clock_fraction", o.clockFraction());
        out.put("power_limited", o.powerLimited());
        out.put("power_limit_w", o.powerLimitW());
        out.put("perf_per_watt", perfPerWatt(r, e));
        out.put("perf_per_watt_unit", r.flops() > 0 ? "flop/J" : r.tokens() > 0 ? "tokens/J" : "-");
        out.put("price_per_chip_hour_usd", o.pricePerChipHourUsd());
        double cost = o.costUsd(r.timeSeconds());
        out.put("cost_usd", cost);
        out.put("cost_per_mtok_usd", r.tokens() > 0 ? cost / r.tokens() * 1e6 : Double.NaN);
      }
      out.put(en.getKey(), en.getValue());
    }
    return out;
  }

  static List<Object> csvRow(WorkloadResult r, Energy e, Operating o) {
    Map<String, Object> j = json(r, e, o);
    List<Object> row = new ArrayList<>();
    for (String k : CSV_KEYS) {
      row.add(j.get(k));
    }
    return row;
  }

  static String table(WorkloadResult r, Energy e, Operating o) {
    String base = table(r, e);
    StringBuilder add = new StringBuilder();
    if (Double.isFinite(o.clockGhz())) {
      add.append(String.format(Locale.ROOT, "  clock               %.3f GHz (%.0f%% of %.3f max)%s%n", o.clockGhz(),
          100 * o.clockFraction(), o.maxClockGhz(), o.powerLimited()
              ? String.format(Locale.ROOT, ", lowered to fit the %.0f W power limit", o.powerLimitW())
              : Double.isFinite(o.powerLimitW()) ? String.format(Locale.ROOT, ", under the %.0f W power limit", o.powerLimitW()) : ""));
    }
    double ppw = perfPerWatt(r, e);
    if (Double.isFinite(ppw)) {
      add.append(r.flops() > 0
          ? String.format(Locale.ROOT, "  perf per watt       %.3g TFLOP/s per W (%.3g pJ/FLOP)%n", ppw / 1e12, 1e12 / ppw)
          : String.format(Locale.ROOT, "  perf per watt       %.4g tokens/J%n", ppw));
    }
    double cost = o.costUsd(r.timeSeconds());
    add.append(Double.isFinite(cost)
        ? String.format(Locale.ROOT, "  cost                $%.4g at $%.3f per chip-hour%s%n", cost, o.pricePerChipHourUsd(),
            r.tokens() > 0 ? String.format(Locale.ROOT, " ($%.4g per million tokens)", cost / r.tokens() * 1e6) : "")
        : "  cost                - (no price in this config; see the multi-chip system configs)\n");
    int at = base.indexOf("  bound by ");
    return at < 0 ? base + add : base.substring(0, at) + add + base.substring(at);
  }

  /**
   * The first line of every table whose hardware is a projection ({@code projection: true} in its YAML,
   * e.g. {@code trn4-projection}); empty otherwise.
   */
  static String projectionLine(trnsim.core.config.HardwareSpec... hws) {
    StringBuilder sb = new StringBuilder();
    for (trnsim.core.config.HardwareSpec hw : hws) {
      if (hw.isProjection()) {
        sb.append("PROJECTION: ").append(hw.name())
            .append(" is projected from announced ratios, not a sourced spec (its YAML marks every derived number)\n");
      }
    }
    return sb.toString();
  }

  /** {@code m} with {@code "projection": true} added when {@code hw} is a projection. */
  static Map<String, Object> withProjection(Map<String, Object> m, trnsim.core.config.HardwareSpec hw) {
    if (!hw.isProjection()) {
      return m;
    }
    Map<String, Object> out = new LinkedHashMap<>(m);
    out.put("projection", true);
    return out;
  }

  static Map<String, Object> json(WorkloadResult r, Energy e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("hardware", r.hardware());
    m.put("workload", r.workload());
    m.put("time_s", r.timeSeconds());
    m.put("flops", r.flops());
    m.put("achieved_tflops", r.achievedFlopsPerSecond() / 1e12);
    m.put("peak_tflops", r.peakFlopsPerSecond() / 1e12);
    m.put("utilization", r.utilization());
    m.put("hbm_bytes", r.hbmBytes());
    m.put("achieved_hbm_gbps", r.achievedHbmBytesPerSecond() / 1e9);
    m.put("peak_hbm_gbps", r.hbmBytesPerSecondPeak() / 1e9);
    m.put("energy_j", e.joules());
    m.put("avg_power_w", e.watts());
    m.put("bottleneck", r.bottleneck());
    m.put("engines", r.engineBusy());
    if (r.tokens() > 0) {
      m.put("tokens", r.tokens());
      m.put("tokens_per_s", r.tokens() / r.timeSeconds());
    }
    m.put("notes", r.notes());
    List<Map<String, Object>> steps = new ArrayList<>();
    for (var s : r.steps()) {
      Map<String, Object> sm = new LinkedHashMap<>();
      sm.put("label", s.label());
      sm.put("repeat", s.repeat());
      sm.put("time_s", s.result().timeSeconds());
      sm.put("flops", s.result().flops());
      sm.put("hbm_bytes", s.result().hbmBytes());
      sm.put("bottleneck", s.result().bottleneck());
      sm.put("instructions", s.result().instructions());
      steps.add(sm);
    }
    m.put("steps", steps);
    return m;
  }

  /** Energy numbers attached to a result (NaN until an energy model is configured). */
  record Energy(double joules, double watts) {
    static final Energy NONE = new Energy(Double.NaN, Double.NaN);
  }

  static List<Object> csvRow(WorkloadResult r, Energy e) {
    Map<String, Object> j = json(r, e);
    List<Object> row = new ArrayList<>();
    for (String k : CSV_KEYS) {
      row.add(j.get(k));
    }
    return row;
  }

  static String table(WorkloadResult r, Energy e) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%s on %s%n", r.workload(), r.hardware()));
    sb.append(String.format(Locale.ROOT, "  simulated time      %s%n", seconds(r.timeSeconds())));
    if (r.flops() > 0) {
      sb.append(String.format(Locale.ROOT, "  throughput          %.1f TFLOP/s of %.1f peak (%.1f%% utilization)%n",
          r.achievedFlopsPerSecond() / 1e12, r.peakFlopsPerSecond() / 1e12, 100 * r.utilization()));
    }
    sb.append(String.format(Locale.ROOT, "  HBM traffic         %s at %.0f GB/s of %.0f sustained (%.1f%%)%n",
        bytes(r.hbmBytes()), r.achievedHbmBytesPerSecond() / 1e9, r.hbmBytesPerSecondPeak() / 1e9,
        100 * r.achievedHbmBytesPerSecond() / r.hbmBytesPerSecondPeak()));
    if (r.flops() > 0 && r.hbmBytes() > 0) {
      double ai = r.flops() / r.hbmBytes();
      double ridge = r.peakFlopsPerSecond() / r.hbmBytesPerSecondPeak();
      double roof = Math.min(r.peakFlopsPerSecond(), ai * r.hbmBytesPerSecondPeak());
      sb.append(String.format(Locale.ROOT, "  roofline            %.0f FLOP/byte vs ridge %.0f: %s-bound region, roof %.1f TFLOP/s (%.0f%% of roof achieved)%n",
          ai, ridge, ai >= ridge ? "compute" : "memory", roof / 1e12, 100 * r.achievedFlopsPerSecond() / roof));
    }
    if (r.tokens() > 0) {
      sb.append(String.format(Locale.ROOT, "  tokens              %d (%.0f tokens/s)%n", r.tokens(), r.tokens() / r.timeSeconds()));
    }
    if (Double.isFinite(e.joules())) {
      sb.append(String.format(Locale.ROOT, "  energy              %.4g J, average %.0f W%n", e.joules(), e.watts()));
    }
    sb.append(String.format(Locale.ROOT, "  bound by            %s%n", r.bottleneck()));
    StringBuilder eng = new StringBuilder();
    for (var en : r.engineBusy().entrySet()) {
      eng.append(String.format(Locale.ROOT, "%s %.0f%%  ", en.getKey(), 100 * en.getValue()));
    }
    sb.append("  engines busy        ").append(eng.toString().strip()).append('\n');
    for (String n : r.notes()) {
      sb.append("  chose               ").append(n).append('\n');
    }
    if (r.steps().size() > 1) {
      List<List<Object>> rows = new ArrayList<>();
      for (var s : r.steps()) {
        rows.add(List.of(s.label(), s.repeat(), seconds(s.result().timeSeconds() * s.repeat()),
            String.format(Locale.ROOT, "%.1f%%", 100 * s.result().timeSeconds() * s.repeat() / r.timeSeconds()),
            s.result().bottleneck()));
      }
      sb.append('\n').append(Tables.text(List.of("kernel", "x", "time", "share", "bound by"), rows));
    }
    return sb.toString();
  }

  static String seconds(double s) {
    if (s >= 1) {
      return String.format(Locale.ROOT, "%.3f s", s);
    }
    if (s >= 1e-3) {
      return String.format(Locale.ROOT, "%.3f ms", s * 1e3);
    }
    return String.format(Locale.ROOT, "%.3f us", s * 1e6);
  }

  static String bytes(double b) {
    if (b >= 1 << 30) {
      return String.format(Locale.ROOT, "%.2f GiB", b / (1 << 30));
    }
    if (b >= 1 << 20) {
      return String.format(Locale.ROOT, "%.2f MiB", b / (1 << 20));
    }
    return String.format(Locale.ROOT, "%.1f KiB", b / 1024);
  }
}
