package trnsim.core.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import trnsim.core.config.HardwareSpec;
import trnsim.core.energy.EnergyModel;
import trnsim.core.run.RunOptions;
import trnsim.core.system.InferenceCosts;
import trnsim.core.trace.TraceSink;
import trnsim.isa.DType;
import trnsim.isa.lower.ModelShape;

/**
 * A model served on a system: the replica plan (tensor-parallel degree, replicas, KV capacity) and
 * memoised iteration costs, reused by every run of a rate sweep. The power limit is not applied
 * (iterations run at the full clock). The chips holding replicas are priced for the run's span
 * (their share of the system's price): chips without a replica are free to serve other work, so a
 * run of one replica costs what that replica's chips cost, and a full system what the system costs.
 */
public final class ServePlan {
  /** Share of requests that must meet both SLOs for a rate to count as meeting them (DistServe's attainment target). */
  public static final double SLO_ATTAINMENT = 0.9;

  private final HardwareSpec hw;
  private final InferenceCosts target;
  private final SimulatedIterationCosts costs;
  private final ServeConfig config;

  /**
   * @param maxSeq the longest request (prompt + output) the run will see
   * @param tp tensor-parallel degree, or null to pick the smallest that leaves KV room for one {@code maxSeq} request
   * @param replicas replicas, or null for as many as the system holds
   * @param chunk token budget per iteration (Sarathi's chunk; vLLM's max_num_batched_tokens), or null for the default
   */
  public static ServePlan of(HardwareSpec hw, Function<String, ModelShape> models, String model, Integer tp, Integer replicas, Integer lnc,
      DType dtype, DType weights, ServeConfig.Scheduler scheduler, int maxBatch, Integer chunk, ServeConfig.Dispatch dispatch,
      ServeConfig.Speculative speculative, long maxSeq, long seed, EnergyModel energy) {
    int k = speculative == null ? 0 : speculative.k();
    long seqMax = maxSeq + k;
    RunOptions quiet = new RunOptions(null, RunOptions.DEFAULT_MAX_EVENTS);
    // the longest request plus two blocks of slack for the rounding of its allocation to whole blocks
    long minKv = seqMax + 2L * ServeConfig.BLOCK_TOKENS;
    InferenceCosts t = InferenceCosts.of(hw, models.apply(model), tp, lnc, seqMax, minKv, dtype, weights, energy, quiet);
    InferenceCosts draft = null;
    if (speculative != null) {
      draft = InferenceCosts.of(hw, models.apply(speculative.draft()), t.tp(), lnc, seqMax, 0, dtype, weights, energy, quiet);
    }
    int reps = replicas == null ? t.maxReplicas() : replicas;
    if (reps > t.maxReplicas()) {
      throw new IllegalArgumentException("replicas " + reps + ": " + hw.name() + " holds " + t.maxReplicas() + " replicas at tp " + t.tp());
    }
    long kv = t.kvTokensPerReplica();
    if (draft != null) {
      // the draft's weight shard shares each rank's HBM, and every token holds KV in both models
      double tokenBytes = t.kvBytesPerTokenPerRank() + draft.kvBytesPerTokenPerRank();
      kv = (long) Math.floor((kv * t.kvBytesPerTokenPerRank() - draft.weightBytesPerRank()) / tokenBytes);
      if (kv < minKv) {
        throw new IllegalArgumentException("draft " + speculative.draft() + ": with the draft's weights the KV cache holds " + Math.max(0, kv)
            + " tokens, fewer than the longest request's " + seqMax + " (+ two blocks)");
      }
    }
    long budget = chunk != null ? chunk : scheduler == ServeConfig.Scheduler.SARATHI ? 512 : Math.max(2048, seqMax);
    if (scheduler == ServeConfig.Scheduler.VLLM && budget < seqMax) {
      throw new IllegalArgumentException("chunk " + budget + ": the vllm scheduler prefills whole prompts, so the token budget must hold the"
          + " longest request's " + seqMax + " tokens (or use --scheduler sarathi)");
    }
    return new ServePlan(hw, t, new SimulatedIterationCosts(t, draft),
        new ServeConfig(scheduler, maxBatch, budget, reps, dispatch, kv, speculative, seed));
  }

  private ServePlan(HardwareSpec hw, InferenceCosts target, SimulatedIterationCosts costs, ServeConfig config) {
    this.hw = hw;
    this.target = target;
    this.costs = costs;
    this.config = config;
  }

  public ServeConfig config() {
    return config;
  }

  public int tp() {
    return target.tp();
  }

  /** Graph shapes simulated so far (the memo's size). */
  public int simulatedShapes() {
    return costs.simulatedShapes();
  }

  /** Chips holding replicas (a fraction of a chip when replicas share one). */
  public double chipsServing() {
    return config.replicas() * target.chipsPerReplica();
  }

  /** Price per hour of the chips holding replicas (NaN: unpriced). */
  public double servingUsdPerHour() {
    return hw.system().pricePerChipHourUsd() * chipsServing();
  }

  public ServeResult run(List<Request> requests, TraceSink trace) {
    return ServeSimulator.run(requests, config, costs, trace);
  }

  public ServeSummary summary(ServeResult r, double sloTtftS, double sloTpotS) {
    return ServeSummary.of(r, sloTtftS, sloTpotS, servingUsdPerHour(), costs.idlePowerW());
  }

  /** One point of a rate sweep. */
  public record RatePoint(double ratePerS, ServeSummary summary, boolean meetsSlo) {}

  /**
   * The latency-throughput curve over {@code rates}, and the highest rate meeting the SLOs
   * ({@link #SLO_ATTAINMENT} of requests meeting both): the highest passing grid rate refined by
   * {@code bisections} halvings of the gap to the next (failing) grid rate; NaN when the lowest rate fails.
   */
  public Sweep sweep(List<Double> rates, Function<Double, List<Request>> requests, double sloTtftS, double sloTpotS, int bisections) {
    List<RatePoint> points = new ArrayList<>();
    for (double r : rates) {
      points.add(point(r, requests, sloTtftS, sloTpotS));
    }
    int best = -1;
    for (int i = 0; i < points.size() && points.get(i).meetsSlo(); i++) {
      best = i;
    }
    double lo = best < 0 ? Double.NaN : rates.get(best);
    if (best >= 0 && best + 1 < rates.size()) {
      double hi = rates.get(best + 1);
      for (int i = 0; i < bisections; i++) {
        double mid = (lo + hi) / 2;
        if (point(mid, requests, sloTtftS, sloTpotS).meetsSlo()) {
          lo = mid;
        } else {
          hi = mid;
        }
      }
    }
    return new Sweep(points, lo, best >= 0 && best + 1 == rates.size());
  }

  /**
   * @param points the grid
   * @param maxRatePerS highest rate found meeting the SLOs (NaN: none)
   * @param atGridEnd the highest grid rate passed, so the true limit may be higher
   */
  public record Sweep(List<RatePoint> points, double maxRatePerS, boolean atGridEnd) {}

  private RatePoint point(double rate, Function<Double, List<Request>> requests, double sloTtftS, double sloTpotS) {
    ServeSummary s = summary(run(requests.apply(rate), TraceSink.NONE), sloTtftS, sloTpotS);
    return new RatePoint(rate, s, s.sloMet() >= SLO_ATTAINMENT);
  }

  /** One line describing the plan. */
  public String describe(String model) {
    return String.format(Locale.ROOT, "%s on %s: tp=%d x %d replica(s), %s scheduler, max batch %d, token budget %d, KV cache %d tokens per replica",
        model, hw.name(), target.tp(), config.replicas(), config.scheduler().name().toLowerCase(Locale.ROOT), config.maxBatch(),
        config.tokenBudget(), config.kvTokensPerReplica());
  }
}
