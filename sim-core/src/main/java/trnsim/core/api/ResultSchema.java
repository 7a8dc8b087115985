package trnsim.core.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import trnsim.core.run.WorkloadResult;
import trnsim.core.system.LlmResult;

/**
 * The result JSON of one simulated point, built once here so that {@code run}, {@code compare},
 * the local sweep and any other sweep engine write identical rows. The tree is plain maps, lists,
 * strings, numbers and booleans in a fixed key order; the caller serialises it. Units are in the
 * key names ({@code time_s}, {@code energy_j}, {@code achieved_tflops}); docs/cli.md, "Result
 * schema", lists every key.
 */
public final class ResultSchema {
  /** The schema name and version every JSON output carries under {@code "schema"}; bumped when a key changes meaning or goes. */
  public static final String ID = "trnsim-result-v1";

  private ResultSchema() {}

  /**
   * {@code m} with {@code "schema"} and {@code "trnsim_version"} added, and every absent number (NaN,
   * an infinity: no price, no energy table) as {@code null}, at any depth: any JSON writer then
   * writes the same document. For the top-level objects of every command's JSON output.
   */
  public static Map<String, Object> stamped(Map<String, ?> m) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("schema", ID);
    out.put("trnsim_version", Version.current());
    for (var e : m.entrySet()) {
      out.put(e.getKey(), absentAsNull(e.getValue()));
    }
    return out;
  }

  /** A copy of a tree of maps and lists with non-finite numbers replaced by null. */
  static Object absentAsNull(Object v) {
    if (v instanceof Double d && !Double.isFinite(d) || v instanceof Float f && !Float.isFinite(f)) {
      return null;
    }
    if (v instanceof Map<?, ?> map) {
      Map<Object, Object> out = new LinkedHashMap<>();
      for (var e : map.entrySet()) {
        out.put(e.getKey(), absentAsNull(e.getValue()));
      }
      return out;
    }
    if (v instanceof List<?> list) {
      List<Object> out = new ArrayList<>();
      for (Object o : list) {
        out.add(absentAsNull(o));
      }
      return out;
    }
    return v;
  }

  /** The result tree of either kind of point. */
  public static Map<String, Object> json(SimulationResult r) {
    if (r instanceof KernelRunResult k) {
      return kernel(k);
    }
    return system((SystemRunResult) r);
  }

  /** A kernel workload's result: time, throughput, traffic, energy, operating point, cost, per-kernel steps. */
  public static Map<String, Object> kernel(KernelRunResult k) {
    WorkloadResult r = k.result();
    Energy e = k.energy();
    OperatingPoint o = k.operating();
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
    operating(m, o);
    m.put("perf_per_watt", k.perfPerWatt());
    m.put("perf_per_watt_unit", k.perfPerWattUnit());
    double cost = k.costUsd();
    m.put("cost_usd", cost);
    m.put("cost_per_mtok_usd", r.tokens() > 0 ? cost / r.tokens() * 1e6 : Double.NaN);
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
    return stamped(withProjection(m, k));
  }

  /** A system step's result: parallelism, step time, tokens, MFU, where the time goes, memory, energy, cost. */
  public static Map<String, Object> system(SystemRunResult s) {
    LlmResult r = s.result();
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
    operating(m, s.operating());
    m.put("cost_usd", r.costUsd());
    m.put("cost_per_million_tokens_usd", r.costPerMillionTokensUsd());
    m.put("collectives", r.collectives());
    m.put("notes", r.notes());
    if (r.mixed() != null) {
      mixed(m, r.mixed());
    }
    return stamped(withProjection(m, s));
  }

  /** A mixed domain's groups (chip config, role, chips, busy time, energy, cost), cross-group transfers and bottleneck. */
  private static void mixed(Map<String, Object> m, LlmResult.MixedParts parts) {
    List<Map<String, Object>> groups = new ArrayList<>();
    for (LlmResult.GroupPart g : parts.groups()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("name", g.name());
      x.put("hardware", g.hardware());
      x.put("projection", g.projection());
      x.put("role", g.role());
      x.put("chips", g.chips());
      x.put("tp", g.tp());
      x.put("busy_s", g.busySeconds());
      x.put("energy_j", g.energyJoules());
      x.put("cost_usd", g.costUsd());
      groups.add(x);
    }
    List<Map<String, Object>> transfers = new ArrayList<>();
    for (LlmResult.Transfer t : parts.transfers()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("what", t.what());
      x.put("bytes", t.bytes());
      x.put("seconds", t.seconds());
      x.put("per_step", t.perStep());
      transfers.add(x);
    }
    m.put("groups", groups);
    m.put("transfers", transfers);
    m.put("bottleneck", parts.bottleneck());
  }

  /** The operating point's keys: clock run and its maximum, whether the power limit lowered it, the limit, the price. */
  private static void operating(Map<String, Object> m, OperatingPoint o) {
    m.put("clock_ghz", o.clockGhz());
    m.put("max_clock_ghz", o.maxClockGhz());
    m.put("clock_fraction", o.clockFraction());
    m.put("power_limited", o.powerLimited());
    m.put("power_limit_w", o.powerLimitW());
    m.put("power_limiter_simulations", o.limiterSimulations());
    m.put("price_per_chip_hour_usd", o.pricePerChipHourUsd());
  }

  /**
   * A sweep row: the point's result tree plus {@code key} (its resume key), {@code vary} (varied key
   * to value, in dimension order) and {@code set} (every config override of the point, by key). Any
   * sweep engine builds its rows here, so local and distributed sweeps write the same rows.
   */
  public static Map<String, Object> sweepRow(SimulationResult r, String key, Map<String, String> vary, List<String> sets) {
    Map<String, Object> row = new LinkedHashMap<>(json(r));
    row.put("key", key);
    row.put("vary", vary);
    Map<String, String> set = new java.util.TreeMap<>();
    for (String s : sets) {
      int eq = s.indexOf('=');
      set.put(s.substring(0, eq), s.substring(eq + 1));
    }
    row.put("set", set);
    return row;
  }

  /**
   * The full statistics of a point, for a run directory's {@code stats.json}: every kernel step with
   * its repeat count, simulated time and every counter of its {@code StatsSnapshot} (hierarchical
   * names such as {@code chip0.nc3.tensor.busy_ps}), plus {@code totals}, each counter summed over
   * the steps times their repeats ({@link Simulator#combinedStats}). For a system step the kernels
   * are those of one layer on one chip, the part of the step that is simulated ({@code scope} says so).
   */
  public static Map<String, Object> stats(SimulationResult r) {
    WorkloadResult w = r instanceof KernelRunResult k ? k.result() : ((SystemRunResult) r).result().layer();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("hardware", r.hardware().name());
    m.put("workload", r instanceof KernelRunResult k ? k.result().workload() : ((SystemRunResult) r).result().workload());
    m.put("scope", r instanceof KernelRunResult ? "the workload on one chip" : "one layer on one chip (simulated)");
    List<Map<String, Object>> steps = new ArrayList<>();
    for (var s : w.steps()) {
      Map<String, Object> sm = new LinkedHashMap<>();
      sm.put("label", s.label());
      sm.put("repeat", s.repeat());
      sm.put("time_s", s.result().timeSeconds());
      sm.put("counters", s.result().stats().values());
      steps.add(sm);
    }
    m.put("steps", steps);
    m.put("totals", Simulator.combinedStats(w).values());
    return m;
  }

  /** The share of a step spent in communication of any parallelism (tp, pp, dp, ep, cp). */
  public static double commShare(LlmResult r) {
    return r.share("tp_comm") + r.share("pp_comm") + r.share("dp_comm") + r.share("ep_comm") + r.share("cp_comm");
  }

  /** {@code "projection": true} on results of projected hardware (e.g. trn4-projection). */
  private static Map<String, Object> withProjection(Map<String, Object> m, SimulationResult r) {
    if (r.hardware().isProjection()) {
      m.put("projection", true);
    }
    return m;
  }
}
