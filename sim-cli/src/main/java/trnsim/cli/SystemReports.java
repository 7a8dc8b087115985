package trnsim.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import trnsim.core.api.OperatingPoint;
import trnsim.core.api.ResultSchema;
import trnsim.core.api.Simulator;
import trnsim.core.api.SystemRunResult;
import trnsim.core.compare.SpeedupDecomposition;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.RunOptions;
import trnsim.core.system.LlmResult;

/** Runs and renders system-level workloads (llm-train, llm-infer) for {@code run} and {@code compare}. */
final class SystemReports {
  private SystemReports() {}

  static final List<String> CSV_KEYS = List.of("hardware", "workload", "phase", "chips", "tp", "pp", "dp", "time_s", "tokens",
      "tokens_per_s", "tokens_per_s_per_chip", "mfu", "compute_share", "comm_share", "bubble_share", "memory_per_chip_gib",
      "energy_per_token_j", "cost_per_million_tokens_usd");

  /** {@code trnsim run} for a list of system workloads. */
  static int run(Simulator sim, HardwareSpec hw, List<String> specs, OutputFormat format, long maxEvents, PrintWriter out,
      java.nio.file.Path chart, RunDirectory outdir) {
    return run(sim, hw, specs, format, maxEvents, out, null, chart, outdir);
  }

  /**
   * As {@link #run(Simulator, HardwareSpec, List, OutputFormat, long, PrintWriter, java.nio.file.Path, RunDirectory)}; with a trace
   * sink (one workload only), the step's simulated runs (layer, head) are drawn end to end on the
   * chip tracks and the step breakdown on its own track.
   */
  static int run(Simulator sim, HardwareSpec hw, List<String> specs, OutputFormat format, long maxEvents, PrintWriter out,
      trnsim.core.trace.TraceSink trace, java.nio.file.Path chart, RunDirectory outdir) {
    List<SystemRunResult> runs = new ArrayList<>();
    for (String s : specs) {
      if (!Simulator.isSystemWorkload(s)) {
        throw new UserInputException("--workload = '" + s + "': cannot mix kernel and system (llm-*) workloads in one run");
      }
      if (trace != null) {
        SystemRunResult r = sim.runSystem(hw, s, new RunOptions(new trnsim.core.trace.SequentialTrace(trace), maxEvents));
        trnsim.core.system.LlmSystem.traceStep(r.result(), trace);
        runs.add(r);
      } else {
        runs.add(sim.runSystem(hw, s, new RunOptions(null, maxEvents)));
      }
    }
    List<LlmResult> results = runs.stream().map(SystemRunResult::result).toList();
    if (chart != null) {
      Charts.save(breakdownChart(results), chart, "--chart");
    }
    if (outdir != null) {
      outdir.result(Reports.document(runs)).stats(runs).write();
    }
    switch (format) {
      case table -> {
        for (int i = 0; i < results.size(); i++) {
          if (i > 0) {
            out.println();
          }
          out.print(Reports.projectionLine(hw));
          out.print(table(results.get(i)));
        }
      }
      case json -> {
        out.println(Json.pretty(Reports.document(runs)));
      }
      case csv -> {
        List<List<Object>> rows = new ArrayList<>();
        for (SystemRunResult r : runs) {
          Map<String, Object> j = ResultSchema.system(r);
          List<Object> row = new ArrayList<>();
          for (String k : CSV_KEYS) {
            row.add(j.get(k));
          }
          rows.add(row);
        }
        out.print(Tables.csv(CSV_KEYS, rows));
      }
    }
    out.flush();
    return ExitCodes.OK;
  }

  /** The parts of a step's breakdown as people name them. */
  static String partName(String key) {
    return switch (key) {
      case "compute" -> "compute";
      case "recompute" -> "activation recomputation";
      case "tp_comm" -> "tensor-parallel communication";
      case "pp_comm" -> "pipeline-parallel communication";
      case "dp_comm" -> "data-parallel gradient sync (exposed)";
      case "ep_comm" -> "expert-parallel communication";
      case "pipeline_bubble" -> "pipeline bubbles";
      case "grad_accum" -> "gradient accumulation";
      case "optimizer" -> "optimizer step";
      case "runtime" -> "runtime and launch overhead";
      case "prefill" -> "prefill";
      default -> key.replace('_', ' ');
    };
  }

  /** {@code run --chart} of system steps: one bar per step, stacked by where its time goes. */
  static Figure.Bars breakdownChart(List<LlmResult> results) {
    double max = 0;
    for (LlmResult r : results) {
      max = Math.max(max, r.seconds());
    }
    double scale = max >= 1 ? 1 : max >= 1e-3 ? 1e3 : 1e6;
    String unit = max >= 1 ? "s" : max >= 1e-3 ? "ms" : "us";
    List<Figure.Bar> bars = new ArrayList<>();
    java.util.Set<String> phases = new java.util.TreeSet<>();
    for (LlmResult r : results) {
      phases.add(r.phase());
      List<Figure.Segment> segs = new ArrayList<>();
      for (var e : r.breakdown().entrySet()) {
        if (e.getValue() > 0) {
          segs.add(new Figure.Segment(partName(e.getKey()), e.getValue() * scale));
        }
      }
      bars.add(new Figure.Bar(r.workload() + " on " + r.hardware() + " (" + r.chips() + " chips)", segs, r.seconds() * scale,
          Reports.seconds(r.seconds())));
    }
    String what = phases.size() > 1 ? "time" : switch (phases.iterator().next()) {
      case "train" -> "time per training step";
      case "prefill" -> "time to first token";
      case "generate" -> "request time";
      default -> "time per output token";
    };
    return new Figure.Bars("Where the step time goes", Figure.Axis.of(what + " (" + unit + ")", Figure.Scale.LINEAR,
        Figure.Format.NUMBER), bars);
  }

  static String table(LlmResult r) {
    StringBuilder sb = new StringBuilder();
    Map<String, Integer> p = r.parallelism();
    sb.append(String.format(Locale.ROOT, "%s on %s%n", r.workload(), r.hardware()));
    String defaults = r.defaulted().isEmpty() ? "" : " (chosen by trnsim: " + String.join(", ", r.defaulted()) + ")";
    if (r.phase().equals("train")) {
      sb.append(String.format(Locale.ROOT, "  parallelism         tp=%d pp=%d dp=%d, %d microbatches of %d sequence%s on %d chips%s%n",
          p.get("tp"), p.get("pp"), p.get("dp"), p.get("microbatches"), p.get("mbs"), p.get("mbs") == 1 ? "" : "s",
          r.chips(), defaults));
      sb.append(String.format(Locale.ROOT, "  step time           %s%n", Reports.seconds(r.seconds())));
    } else {
      String shape = p.containsKey("output") ? String.format(Locale.ROOT, "prompt %d, output %d, max_seq %d", p.get("prompt"), p.get("output"),
          p.get("max_seq")) : "ctx " + p.get("ctx") + (p.containsKey("max_seq") ? ", max_seq " + p.get("max_seq") : "");
      sb.append(String.format(Locale.ROOT, "  parallelism         tp=%d, %d replicas, batch %d, %s, on %d chips%s%n",
          p.get("tp"), p.get("dp"), p.get("batch"), shape, r.chips(), defaults));
      String what = switch (r.phase()) {
        case "prefill" -> "time to first token";
        case "generate" -> "request time";
        default -> "time per out token";
      };
      sb.append(String.format(Locale.ROOT, "  %-19s %s%n", what, Reports.seconds(r.seconds())));
    }
    sb.append(String.format(Locale.ROOT, "  tokens/s            %.0f (%.1f per chip), %.0f tokens per step%n", r.tokensPerSecond(),
        r.tokensPerSecondPerChip(), r.tokens()));
    sb.append(String.format(Locale.ROOT, "  MFU                 %.1f%%%n", 100 * r.mfu()));
    StringBuilder br = new StringBuilder();
    for (var e : r.breakdown().entrySet()) {
      if (e.getValue() > 1e-6 * r.seconds() || e.getKey().equals("compute")) {
        br.append(String.format(Locale.ROOT, "%s %.1f%%  ", e.getKey(), 100 * e.getValue() / r.seconds()));
      }
    }
    sb.append("  time share          ").append(br.toString().strip()).append('\n');
    StringBuilder mem = new StringBuilder();
    for (var e : r.memoryBytes().entrySet()) {
      if (!e.getKey().equals("total") && !e.getKey().equals("capacity")) {
        mem.append(String.format(Locale.ROOT, ", %s %.1f", e.getKey(), e.getValue() / (1L << 30)));
      }
    }
    sb.append(String.format(Locale.ROOT, "  memory per chip     %.1f GiB of %.0f GiB (%s)%n", r.memoryBytes().get("total") / (1L << 30),
        r.memoryBytes().get("capacity") / (1L << 30), mem.substring(2)));
    if (Double.isFinite(r.energyJoules())) {
      sb.append(String.format(Locale.ROOT, "  energy              %.4g J per step, %.4g J per token%n", r.energyJoules(), r.energyPerTokenJ()));
    }
    if (Double.isFinite(r.costUsd())) {
      sb.append(String.format(Locale.ROOT, "  cost                %.4g USD per million tokens%n", r.costPerMillionTokensUsd()));
    }
    for (String c : r.collectives()) {
      sb.append("  collective          ").append(c).append('\n');
    }
    for (String n : r.notes()) {
      sb.append("  note                ").append(n).append('\n');
    }
    List<List<Object>> rows = new ArrayList<>();
    var layer = r.layer();
    for (var s : layer.steps()) {
      rows.add(List.of(s.label(), Reports.seconds(s.result().timeSeconds() * s.repeat()),
          String.format(Locale.ROOT, "%.1f%%", 100 * s.result().timeSeconds() * s.repeat() / layer.timeSeconds()),
          s.result().bottleneck()));
    }
    sb.append('\n').append("one layer on one chip (simulated):\n")
        .append(Tables.text(List.of("kernel", "time", "share", "bound by"), rows));
    return sb.toString();
  }

  /**
   * A {@code compare} row for a system workload on both configs (one spec per side). A side the model
   * does not fit on gets no numbers and says why in its bottleneck column; any other error propagates.
   */
  static Map<String, Object> compareRow(Simulator sim, String label, String specB, String specT, HardwareSpec base,
      HardwareSpec tgt) {
    return compareRow(sim, label, specB, specT, base, tgt, r -> { });
  }

  /** As above, handing each side simulated (baseline first) to {@code seen}. */
  static Map<String, Object> compareRow(Simulator sim, String label, String specB, String specT, HardwareSpec base,
      HardwareSpec tgt, java.util.function.Consumer<SystemRunResult> seen) {
    SystemRunResult[] r = new SystemRunResult[2];
    String[] why = new String[2];
    HardwareSpec[] hw = {base, tgt};
    String[] spec = {specB, specT};
    for (int i = 0; i < 2; i++) {
      try {
        r[i] = sim.runSystem(hw[i], spec[i], RunOptions.defaults());
        seen.accept(r[i]);
      } catch (trnsim.isa.workload.WorkloadException e) {
        if (!e.getMessage().contains("does not fit")) {
          throw e;
        }
        why[i] = "does not fit: " + e.getMessage().replaceFirst("^.*does not fit in HBM: ", "");
      }
    }
    if (r[0] != null && r[1] != null) {
      return compareRow(label, r[0], r[1]);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("workload", label);
    m.put("baseline_time_s", r[0] == null ? null : r[0].timeSeconds());
    m.put("target_time_s", r[1] == null ? null : r[1].timeSeconds());
    for (String k : List.of("speedup", "energy_ratio", "perf_per_watt_ratio", "cost_ratio")) {
      m.put(k, null);
    }
    m.put("baseline_bottleneck", r[0] == null ? why[0] : summary(r[0].result()));
    m.put("target_bottleneck", r[1] == null ? why[1] : summary(r[1].result()));
    operatingKeys(m, r[0], r[1]);
    m.put("speedup_basis", null);
    m.put("baseline_run_time_s", r[0] == null ? null : r[0].timeSeconds());
    m.put("target_run_time_s", r[1] == null ? null : r[1].timeSeconds());
    m.put("explain", null);
    m.put("error", null);
    return m;
  }

  /** The per-side clock and cost keys compare's kernel rows carry (clock chosen under the power limit). */
  private static void operatingKeys(Map<String, Object> m, SystemRunResult b, SystemRunResult t) {
    OperatingPoint ob = b == null ? null : b.operating();
    OperatingPoint ot = t == null ? null : t.operating();
    m.put("baseline_clock_ghz", ob == null ? null : ob.clockGhz());
    m.put("target_clock_ghz", ot == null ? null : ot.clockGhz());
    m.put("baseline_power_limited", ob == null ? null : ob.powerLimited());
    m.put("target_power_limited", ot == null ? null : ot.powerLimited());
    m.put("baseline_cost_usd", b == null ? null : b.result().costUsd());
    m.put("target_cost_usd", t == null ? null : t.result().costUsd());
  }

  /**
   * The decomposition of a system row's speedup. When both sides process the same tokens per step
   * the ratio is per step; when they run different batches it is per token (the throughput ratio), so
   * the times shown are seconds per token.
   */
  static SpeedupDecomposition decomposition(SystemRunResult sb, SystemRunResult st) {
    LlmResult b = sb.result();
    LlmResult t = st.result();
    boolean perToken = Math.abs(b.tokens() - t.tokens()) > 1e-9 * Math.max(b.tokens(), t.tokens());
    OperatingPoint ob = sb.operating();
    OperatingPoint ot = st.operating();
    return SpeedupDecomposition.of(perToken ? "per token" : "per step",
        SpeedupDecomposition.system(b, perToken, ob.clockGhz(), ob.maxClockGhz()),
        SpeedupDecomposition.system(t, perToken, ot.clockGhz(), ot.maxClockGhz()));
  }

  /** A {@code compare} row for a system workload: throughput, energy and cost per token, not per kernel. */
  static Map<String, Object> compareRow(String label, SystemRunResult sb, SystemRunResult st) {
    SpeedupDecomposition d = decomposition(sb, st);
    LlmResult b = sb.result();
    LlmResult t = st.result();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("workload", label);
    m.put("baseline_time_s", d.baseline().secondsPerUnit());
    m.put("target_time_s", d.target().secondsPerUnit());
    m.put("speedup", d.speedup());
    // Energy and cost per token: the same work whatever batch each side runs.
    m.put("energy_ratio", t.energyPerTokenJ() / b.energyPerTokenJ());
    m.put("perf_per_watt_ratio", b.energyPerTokenJ() / t.energyPerTokenJ());
    m.put("cost_ratio", t.costPerMillionTokensUsd() / b.costPerMillionTokensUsd());
    m.put("baseline_usd_per_mtok", b.costPerMillionTokensUsd());
    m.put("target_usd_per_mtok", t.costPerMillionTokensUsd());
    m.put("baseline_bottleneck", summary(b));
    m.put("target_bottleneck", summary(t));
    operatingKeys(m, sb, st);
    CompareCommand.explainKeys(m, d, b.seconds(), t.seconds());
    m.put("error", null);
    return m;
  }

  static String summary(LlmResult r) {
    Map<String, Integer> p = r.parallelism();
    return String.format(Locale.ROOT, "%d chips tp=%d pp=%d dp=%d: compute %.0f%%, communication %.0f%%, bubbles %.0f%%; MFU %.1f%%, %.0f tokens/s",
        r.chips(), p.get("tp"), p.get("pp"), p.get("dp"), 100 * r.share("compute"), 100 * ResultSchema.commShare(r),
        100 * r.share("pipeline_bubble"), 100 * r.mfu(), r.tokensPerSecond());
  }
}
