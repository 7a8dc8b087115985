package trnsim.core.system;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import trnsim.core.config.ConfigFieldException;
import trnsim.core.config.HardwareSpec;
import trnsim.core.energy.EnergyModel;
import trnsim.core.run.RunOptions;
import trnsim.isa.DType;
import trnsim.isa.lower.ModelShape;

/**
 * The graph executions of {@code llm-infer} as building blocks for a serving simulation: one
 * tensor-parallel replica's decode step at a batch and KV span, and its context-encoding pass of
 * one prompt, each exactly as {@code llm-infer} simulates it (the same {@link LlmInference.Run}
 * kernels, collectives and runtime costs), plus the replica's memory budget. Nothing is bucketed
 * or memoised here beyond what {@code Run} does; the caller decides which shapes to ask for.
 */
public final class InferenceCosts {
  private final HardwareSpec hw;
  private final ModelShape m;
  private final RankLayout layout;
  private final int tp;
  private final long maxSeq;
  private final DType dtype;
  private final DType weights;
  private final EnergyModel energy;
  private final RunOptions opts;
  private final Map<Long, LlmInference.Run> runsByBatch = new HashMap<>();

  /**
   * One graph execution: its time, the energy of the chips of one replica during it (NaN without an
   * energy table), and the time of one of its decoder layers (the part that grows with the context).
   */
  public record Exec(double seconds, double joules, double layerSeconds) {}

  private InferenceCosts(HardwareSpec hw, ModelShape m, RankLayout layout, int tp, long maxSeq, DType dtype, DType weights,
      EnergyModel energy, RunOptions opts) {
    this.hw = hw;
    this.m = m;
    this.layout = layout;
    this.tp = tp;
    this.maxSeq = maxSeq;
    this.dtype = dtype;
    this.weights = weights;
    this.energy = energy;
    this.opts = opts;
  }

  /**
   * Costs of {@code m} on {@code hw} at tensor-parallel degree {@code tp} (null: the smallest power of
   * two whose weights leave room in HBM for {@code minKvTokens} tokens of KV cache). Throws
   * IllegalArgumentException with a one-line reason when the plan is impossible.
   */
  public static InferenceCosts of(HardwareSpec hw, ModelShape m, Integer tp, Integer lnc, long maxSeq, long minKvTokens, DType dtype,
      DType weights, EnergyModel energy, RunOptions opts) {
    RankLayout layout;
    try {
      layout = RankLayout.of(hw.chip(), lnc);
    } catch (ConfigFieldException e) {
      throw new IllegalArgumentException(e.getMessage());
    }
    int totalRanks = hw.totalChips() * layout.ranksPerChip();
    if (tp != null) {
      String problem = LlmSystem.tpProblem(m, tp);
      if (problem == null && tp > totalRanks) {
        problem = hw.name() + " has " + totalRanks + " ranks";
      }
      if (problem == null && (totalRanks % tp != 0 || (tp > layout.ranksPerChip() && tp % layout.ranksPerChip() != 0)
          || (tp < layout.ranksPerChip() && layout.ranksPerChip() % tp != 0))) {
        problem = "must divide the " + totalRanks + " ranks into whole groups of chips";
      }
      if (problem != null) {
        throw new IllegalArgumentException("tp " + tp + ": " + problem);
      }
      InferenceCosts c = new InferenceCosts(hw, m, layout, tp, maxSeq, dtype, weights, energy, opts);
      if (c.kvTokensPerReplica() < minKvTokens) {
        throw new IllegalArgumentException(String.format(Locale.ROOT, "tp %d: the weights (%.1f GiB per chip) leave KV-cache room for %d tokens"
            + " per replica, fewer than the %d the longest request needs", tp, c.weightBytesPerChip() / LlmSystem.GIB, c.kvTokensPerReplica(), minKvTokens));
      }
      return c;
    }
    for (int t = 1; t <= totalRanks; t *= 2) {
      if (LlmSystem.tpProblem(m, t) == null && totalRanks % t == 0) {
        InferenceCosts c = new InferenceCosts(hw, m, layout, t, maxSeq, dtype, weights, energy, opts);
        if (c.kvTokensPerReplica() >= minKvTokens) {
          return c;
        }
      }
    }
    throw new IllegalArgumentException(String.format(Locale.ROOT, "%s does not fit on %s with KV-cache room for a %d-token request at any"
        + " tensor-parallel degree up to %d ranks", m.name(), hw.name(), minKvTokens, totalRanks));
  }

  public int tp() {
    return tp;
  }

  /** Most replicas the system holds at this tp. */
  public int maxReplicas() {
    return hw.totalChips() * layout.ranksPerChip() / tp;
  }

  /** Chips one replica occupies (a fraction when several replicas share a chip). */
  public double chipsPerReplica() {
    return (double) tp / layout.ranksPerChip();
  }

  public double weightBytesPerRank() {
    return LlmInference.weightBytesPerRank(m, tp, dtype, weights);
  }

  public double weightBytesPerChip() {
    return layout.ranksPerChip() * LlmInference.weightBytesPerRank(m, tp, dtype, weights);
  }

  /** KV-cache bytes one rank holds per token of context (its kv heads, replicated ones included). */
  public double kvBytesPerTokenPerRank() {
    return LlmInference.kvBytesPerRank(m, tp, 1, 1, dtype);
  }

  /**
   * Tokens of KV cache one replica can hold: each rank's share of the usable HBM
   * ({@link LlmSystem#HBM_USABLE}) minus its weight shard, over its KV bytes per token. Every rank of a
   * replica holds every token of the replica (for its heads), so the replica's capacity is one rank's.
   */
  public long kvTokensPerReplica() {
    double perRank = LlmSystem.HBM_USABLE * hw.chip().hbm().capacity().bytes() / layout.ranksPerChip()
        - LlmInference.weightBytesPerRank(m, tp, dtype, weights);
    return perRank <= 0 ? 0 : (long) Math.floor(perRank / kvBytesPerTokenPerRank());
  }

  public int layers() {
    return m.layers();
  }

  /** The token-generation graph's KV span for live context {@code ctx}: llm-infer's power-of-two buckets from 128, capped at max_seq. */
  public long span(long ctx) {
    return run(1).span(ctx);
  }

  public long maxSeq() {
    return maxSeq;
  }

  /** The runtime's per-request cost before its first token (runtime.request_overhead). */
  public double requestOverheadSeconds() {
    return hw.runtime().requestOverhead().seconds();
  }

  /**
   * Trainium's fixed kernel tiles (128-row query tiles, 512-key attention tiles, 128 x 512 GEMM output
   * tiles) make a context-encoding pass's time periodic in the prompt length with this period: a step
   * just past every multiple (a new partial tile), the same shape within each period. 0 on targets that
   * do not take those tiles (small-SBUF, GPU-shaped ones), whose lowering picks its own.
   */
  public long prefillPeriodTokens() {
    trnsim.isa.target.TargetSpec t = trnsim.core.run.Targets.of(hw);
    return t.partitions() >= 128 && t.peRows() >= 128 && t.peCols() >= 128 && t.maxMovingFree() >= 512 ? 512 : 0;
  }

  /** Static power of the chips of one replica, W (NaN without an energy table). */
  public double staticPowerWPerReplica() {
    return energy == null ? Double.NaN : energy.staticPowerW() * chipsPerReplica();
  }

  /**
   * One execution of the token-generation graph compiled for {@code batch} sequences with KV span {@code span}.
   * Where the span is the live context (a paged KV cache: {@link LlmInference#defaultBuckets}), it is simulated at
   * the power-of-two spans around it (128 .. max_seq) and interpolated linearly between them: a decode step's
   * context-dependent work (the K and V read, the scores) is linear in the span, and a serving run then
   * simulates as many spans as a bucketed one instead of one per distinct context.
   */
  public Exec decode(long batch, long span) {
    LlmInference.Run r = run(batch);
    long lo = Math.max(128, Long.highestOneBit(span));
    long hi = Math.min(2 * lo, maxSeq);
    if (r.p.buckets() != LlmInference.Buckets.EXACT || span <= lo || span >= hi) {
      return exec(r, r.decodeStep(span));
    }
    Exec a = exec(r, r.decodeStep(lo));
    Exec b = exec(r, r.decodeStep(hi));
    double f = (double) (span - lo) / (hi - lo);
    return new Exec(a.seconds() + f * (b.seconds() - a.seconds()), a.joules() + f * (b.joules() - a.joules()),
        a.layerSeconds() + f * (b.layerSeconds() - a.layerSeconds()));
  }

  /** One execution of the context-encoding graph over one {@code tokens}-token prompt (no per-request overhead). */
  public Exec prefill(long tokens) {
    LlmInference.Run r = prefillRun(tokens);
    LlmInference.Run.Exec x = r.prefill();
    LlmInference.Run base = run(1);
    if (base.headResult == null) {
      base.headResult = r.headResult;
      base.samplingResult = r.samplingResult;
    }
    return exec(r, new LlmInference.Run.Exec(x.layers(), x.compute(), x.comm(), x.epComm(), x.launch() - r.requestOverhead, x.ar(), x.gather(),
        x.a2a()));
  }

  /**
   * A batch-1 plan for a {@code tokens}-token prompt. The LM head and sampling kernels depend only on
   * the batch, so every prompt length shares the batch-1 decode plan's simulations of them.
   */
  private LlmInference.Run prefillRun(long tokens) {
    LlmInference.Run base = run(1);
    LlmInference.Run r = new LlmInference.Run(hw, m, params(1, tokens), layout, tp, energy, opts);
    r.headResult = base.headResult;
    r.samplingResult = base.samplingResult;
    return r;
  }

  private LlmInference.Run run(long batch) {
    return runsByBatch.computeIfAbsent(batch, b -> new LlmInference.Run(hw, m, params(b, 1), layout, tp, energy, opts));
  }

  private LlmInference.Params params(long batch, long prompt) {
    return new LlmInference.Params(m.name(), "decode", batch, prompt, 1, 1, Math.max(maxSeq, prompt), LlmInference.defaultBuckets(hw), tp,
        layout.lnc(), dtype, weights, true, true, true, true, 1, trnsim.isa.lower.MoeLoad.Routing.UNIFORM);
  }

  private Exec exec(LlmInference.Run r, LlmInference.Run.Exec x) {
    if (energy == null) {
      return new Exec(x.seconds(), Double.NaN, x.layer().timeSeconds());
    }
    // energyOf covers the simulated chip (all its ranks); one replica's share of it is tp / ranks-per-chip chips
    return new Exec(x.seconds(), r.energyOf(x, x.seconds()) / r.chipsUsed * chipsPerReplica(), x.layer().timeSeconds());
  }

}
