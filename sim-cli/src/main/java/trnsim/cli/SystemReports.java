package trnsim.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
  static int run(Workbench wb, HardwareSpec hw, List<String> specs, OutputFormat format, long maxEvents, PrintWriter out) {
    List<LlmResult> results = new ArrayList<>();
    for (String s : specs) {
      if (!wb.isSystemWorkload(s)) {
        throw new UserInputException("--workload = '" + s + "': cannot mix kernel and system (llm-*) workloads in one run");
      }
      results.add(wb.simulateSystem(hw, s, new RunOptions(null, maxEvents)));
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
        List<Object> all = new ArrayList<>();
        for (LlmResult r : results) {
          all.add(Reports.withProjection(json(r), hw));
        }
        out.println(Json.pretty(all.size() == 1 ? all.get(0) : all));
      }
      case csv -> {
        List<List<Object>> rows = new ArrayList<>();
        for (LlmResult r : results) {
          Map<String, Object> j = json(r);
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

  static double commShare(LlmResult r) {
    return r.share("tp_comm") + r.share("pp_comm") + r.share("dp_comm");
  }

  static Map<String, Object> json(LlmResult r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("hardware", r.hardware());
    m.put("workload", r.workload());
    m.put("phase", r.phase());
    m.put("chips", r.chips());
    m.put("tp", r.parallelism().get("tp"));
    m.put("pp", r.parallelism().get("pp"));
    m.put("dp", r.parallelism().get("dp"));
    m.put("parallelism", r.parallelism());
    m.put("defaulted", r.defaulted());
    m.put("time_s", r.seconds());
    m.put("tokens", r.tokens());
    m.put("tokens_per_s", r.tokensPerSecond());
    m.put("tokens_per_s_per_chip", r.tokensPerSecondPerChip());
    m.put("mfu", r.mfu());
    m.put("model_flops", r.modelFlops());
    m.put("compute_share", r.share("compute"));
    m.put("comm_share", commShare(r));
    m.put("bubble_share", r.share("pipeline_bubble"));
    m.put("breakdown_s", r.breakdown());
    m.put("memory_per_chip_gib", r.memoryBytes().get("total") / (1L << 30));
    Map<String, Double> mem = new LinkedHashMap<>();
    for (var e : r.memoryBytes().entrySet()) {
      mem.put(e.getKey(), e.getValue() / (1L << 30));
    }
    m.put("memory_gib", mem);
    m.put("energy_j", r.energyJoules());
    m.put("energy_per_token_j", r.energyPerTokenJ());
    m.put("cost_usd", r.costUsd());
    m.put("cost_per_million_tokens_usd", r.costPerMillionTokensUsd());
    m.put("collectives", r.collectives());
    m.put("notes", r.notes());
    return m;
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
   * A {@code compare} row for a system workload on both configs. A side the model does not fit on
   * gets no numbers and says why in its bottleneck column; any other error propagates.
   */
  static Map<String, Object> compareRow(Workbench wb, String spec, HardwareSpec base, HardwareSpec tgt) {
    LlmResult[] r = new LlmResult[2];
    String[] why = new String[2];
    HardwareSpec[] hw = {base, tgt};
    for (int i = 0; i < 2; i++) {
      try {
        r[i] = wb.simulateSystem(hw[i], spec, RunOptions.defaults());
      } catch (trnsim.isa.workload.WorkloadException e) {
        if (!e.getMessage().contains("does not fit")) {
          throw e;
        }
        why[i] = "does not fit: " + e.getMessage().replaceFirst("^.*does not fit in HBM: ", "");
      }
    }
    if (r[0] != null && r[1] != null) {
      return compareRow(wb, spec, r[0], r[1]);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("workload", spec);
    m.put("baseline_time_s", r[0] == null ? null : r[0].seconds());
    m.put("target_time_s", r[1] == null ? null : r[1].seconds());
    for (String k : List.of("speedup", "energy_ratio", "perf_per_watt_ratio", "cost_ratio")) {
      m.put(k, null);
    }
    m.put("baseline_bottleneck", r[0] == null ? why[0] : summary(r[0]));
    m.put("target_bottleneck", r[1] == null ? why[1] : summary(r[1]));
    operatingKeys(m, wb, r[0], r[1]);
    return m;
  }

  /** The per-side clock and cost keys compare's kernel rows carry (clock chosen under the power limit). */
  private static void operatingKeys(Map<String, Object> m, Workbench wb, LlmResult b, LlmResult t) {
    Reports.Operating ob = wb.operating(b);
    Reports.Operating ot = wb.operating(t);
    m.put("baseline_clock_ghz", ob == null ? null : ob.clockGhz());
    m.put("target_clock_ghz", ot == null ? null : ot.clockGhz());
    m.put("baseline_power_limited", ob == null ? null : ob.powerLimited());
    m.put("target_power_limited", ot == null ? null : ot.powerLimited());
    m.put("baseline_cost_usd", b == null ? null : b.costUsd());
    m.put("target_cost_usd", t == null ? null : t.costUsd());
  }

  /** A {@code compare} row for a system workload: throughput, energy and cost per token, not per kernel. */
  static Map<String, Object> compareRow(Workbench wb, String spec, LlmResult b, LlmResult t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("workload", spec);
    m.put("baseline_time_s", b.seconds());
    m.put("target_time_s", t.seconds());
    // System workloads may run different batches (dp differs): compare throughput, energy and cost per token.
    m.put("speedup", t.tokensPerSecond() / b.tokensPerSecond());
    m.put("energy_ratio", t.energyPerTokenJ() / b.energyPerTokenJ());
    m.put("perf_per_watt_ratio", b.energyPerTokenJ() / t.energyPerTokenJ());
    m.put("cost_ratio", t.costPerMillionTokensUsd() / b.costPerMillionTokensUsd());
    m.put("baseline_bottleneck", summary(b));
    m.put("target_bottleneck", summary(t));
    operatingKeys(m, wb, b, t);
    return m;
  }

  static String summary(LlmResult r) {
    Map<String, Integer> p = r.parallelism();
    return String.format(Locale.ROOT, "%d chips tp=%d pp=%d dp=%d: compute %.0f%%, communication %.0f%%, bubbles %.0f%%; MFU %.1f%%, %.0f tokens/s",
        r.chips(), p.get("tp"), p.get("pp"), p.get("dp"), 100 * r.share("compute"), 100 * commShare(r),
        100 * r.share("pipeline_bubble"), 100 * r.mfu(), r.tokensPerSecond());
  }
}
