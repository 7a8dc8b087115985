package trnsim.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import trnsim.core.api.Energy;
import trnsim.core.api.KernelRunResult;
import trnsim.core.api.OperatingPoint;
import trnsim.core.api.ResultSchema;
import trnsim.core.run.WorkloadResult;

/** Renders workload results for people (table) and machines (JSON, CSV) with stable keys. */
final class Reports {
  private Reports() {}

  static final List<String> CSV_KEYS = List.of("hardware", "workload", "time_s", "flops", "achieved_tflops", "peak_tflops",
      "utilization", "hbm_bytes", "achieved_hbm_gbps", "energy_j", "avg_power_w", "bottleneck",
      "clock_ghz", "clock_fraction", "power_limited", "perf_per_watt", "cost_usd", "cost_per_mtok_usd");

  /** The JSON document of a run: one point's object, or an array of exactly those objects for several. */
  static Object document(List<? extends trnsim.core.api.SimulationResult> runs) {
    if (runs.size() == 1) {
      return ResultSchema.json(runs.get(0));
    }
    List<Object> all = new ArrayList<>();
    for (var r : runs) {
      all.add(ResultSchema.json(r));
    }
    return all;
  }

  /** A CSV row of {@link #CSV_KEYS}, read from the result's schema tree. */
  static List<Object> csvRow(KernelRunResult k) {
    Map<String, Object> j = ResultSchema.kernel(k);
    List<Object> row = new ArrayList<>();
    for (String key : CSV_KEYS) {
      row.add(j.get(key));
    }
    return row;
  }

  static String table(KernelRunResult k) {
    WorkloadResult r = k.result();
    OperatingPoint o = k.operating();
    String base = table(r, k.energy());
    StringBuilder add = new StringBuilder();
    if (Double.isFinite(o.clockGhz())) {
      add.append(String.format(Locale.ROOT, "  clock               %.3f GHz (%.0f%% of %.3f max)%s%n", o.clockGhz(),
          100 * o.clockFraction(), o.maxClockGhz(), o.powerLimited()
              ? String.format(Locale.ROOT, ", lowered to fit the %.0f W power limit (%d simulations)", o.powerLimitW(),
                  o.limiterSimulations())
              : Double.isFinite(o.powerLimitW()) ? String.format(Locale.ROOT, ", under the %.0f W power limit", o.powerLimitW()) : ""));
    }
    double ppw = k.perfPerWatt();
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

  private static String table(WorkloadResult r, Energy e) {
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
