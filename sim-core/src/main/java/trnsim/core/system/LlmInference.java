package trnsim.core.system;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import trnsim.core.config.HardwareSpec;
import trnsim.core.energy.EnergyModel;
import trnsim.core.run.RunOptions;
import trnsim.core.run.Targets;
import trnsim.core.run.WorkloadResult;
import trnsim.core.run.WorkloadRunner;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.lower.InferenceLowering;
import trnsim.isa.lower.InferenceLowering.RankShard;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.lower.MoeLoad;
import trnsim.isa.lower.Step;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * {@code llm-infer}: a tensor-parallel model served as Transformers-NeuronX deploys it. Tensor
 * parallelism is counted in ranks (logical NeuronCores, {@link RankLayout}); every chip runs its
 * ranks' shards (SPMD), so one chip is simulated at instruction level with each of its ranks on its
 * own cores, and the step is that chip's kernels x layers plus the per-layer all-reduces on the
 * {@link Fabric} over rank groups, plus the runtime's per-execution cost. Decode runs the compiled
 * token-generation graph, whose attention spans its KV buffer ({@code max_seq} or a bucket of it);
 * context encoding runs the prompt graph. See docs/model.md, "LLM inference as deployed".
 */
final class LlmInference {
  private LlmInference() {}

  /** How the token-generation graph's KV span follows the live context. */
  enum Buckets {
    /** one graph compiled for max_seq: every step attends over the whole buffer (masked) */
    COMPILED,
    /** Transformers-NeuronX's default for an integer n_positions: power-of-two buckets from 128 to max_seq */
    POW2,
    /** the live context only (a dynamic-shape or paged runtime) */
    EXACT
  }

  /** Parsed workload. */
  record Params(String model, String phase, long batch, long prompt, long output, long ctx, long maxSeq, Buckets buckets,
      Integer tp, Integer lnc, DType dtype, DType weights, boolean perStepForm, boolean flashPrefill, boolean fused, boolean medianTpot,
      int ep, MoeLoad.Routing routing) {}

  static final List<String> WEIGHT_TYPES = List.of("bf16", "fp16", "fp8", "int8");

  static Params parse(WorkloadSpec w) {
    String name = w.string("model", null);
    String phase = w.choice("phase", "decode", "prefill", "decode", "generate");
    long batch = w.positive("batch", 8L);
    boolean hasPrompt = w.has("prompt") || w.has("output");
    if (hasPrompt && w.has("ctx")) {
      throw new WorkloadException(w.source(), "llm-infer.ctx", w.params().get("ctx"),
          "give either ctx (one step at that context) or prompt/output (a whole request), not both");
    }
    long ctx = w.positive("ctx", 4096L);
    long prompt = w.positive("prompt", hasPrompt ? 128L : ctx);
    long output = w.positive("output", phase.equals("prefill") ? 1L : 128L);
    if (!hasPrompt && phase.equals("generate")) {
      throw new WorkloadException(w.source(), "llm-infer.phase", phase, "generate needs prompt= and output=");
    }
    if (hasPrompt && !phase.equals("prefill") && output < 2) {
      throw new WorkloadException(w.source(), "llm-infer.output", String.valueOf(output),
          "must be at least 2 (the first token comes from the prompt pass; decode steps make the rest)");
    }
    long need = hasPrompt ? prompt + output : (phase.equals("prefill") ? prompt : ctx);
    long maxSeq = w.positive("max_seq", need);
    if (maxSeq < need) {
      throw new WorkloadException(w.source(), "llm-infer.max_seq", String.valueOf(maxSeq),
          "must hold the " + (hasPrompt ? "prompt + output = " : "context ") + need + " positions");
    }
    // absent: the hardware's serving runtime decides (runtime.kv_buckets, resolved in infer)
    Buckets buckets = w.has("buckets") ? Buckets.valueOf(w.choice("buckets", "pow2", "compiled", "pow2", "exact").toUpperCase(Locale.ROOT))
        : null;
    boolean median = w.choice("tpot", "p50", "p50", "mean").equals("p50");
    boolean flash = w.choice("prefill_attention", "flash", "compiled", "flash").equals("flash");
    boolean fused = w.choice("graph", "fused", "fused", "kernels").equals("fused");
    Integer tp = LlmSystem.optional(w, "tp");
    Integer lnc = LlmSystem.optional(w, "lnc");
    DType dt = w.dtype("dtype", DType.BF16);
    String wt = w.string("weights", dt.label()).toLowerCase(Locale.ROOT);
    if (!WEIGHT_TYPES.contains(wt)) {
      throw new WorkloadException(w.source(), "llm-infer.weights", wt, "unknown weight storage type; known: " + String.join(", ", WEIGHT_TYPES));
    }
    DType weights = DType.parse(wt);
    if (weights.bits() > dt.bits()) {
      throw new WorkloadException(w.source(), "llm-infer.weights", wt, "storage wider than the compute type " + dt.label());
    }
    int ep = (int) Math.min(Integer.MAX_VALUE, w.positive("ep", 1L));
    MoeLoad.Routing routing = routing(w);
    w.finish();
    return new Params(name, phase, batch, prompt, output, ctx, maxSeq, buckets, tp, lnc, dt, weights, !hasPrompt, flash, fused, median, ep,
        routing);
  }

  /** {@code imbalance=} (busiest expert-parallel rank's load over the mean, default 1) and {@code capacity=} (default dropless). */
  static MoeLoad.Routing routing(WorkloadSpec w) {
    double imbalance = w.number("imbalance", 1.0);
    double capacity = w.number("capacity", 0.0);
    try {
      return new MoeLoad.Routing(imbalance, capacity);
    } catch (IllegalArgumentException e) {
      throw new WorkloadException(w.source(), w.kind() + ".imbalance", String.valueOf(imbalance), e.getMessage());
    }
  }

  /** The ranks' shard of the model at tensor-parallel degree {@code tp}. */
  static RankShard shard(ModelShape m, int tp) {
    long kv = tp <= m.kvHeads() ? m.kvHeads() / tp : 1;
    return new RankShard(m.hidden(), m.heads() / tp, kv, m.headDim(), m.ffn() / tp, LlmSystem.ceilDiv(m.vocab(), tp), m.mlp());
  }

  /**
   * Weight bytes one rank holds: layers at the storage width, LM head and embedding shard at the
   * compute width. Latent attention and MoE layers: every layer's parameters split over the
   * tensor-parallel ranks except the router (replicated, at the compute width); a MoE layer's
   * routed experts also split over the {@code ep} expert-parallel ranks, at the experts' storage
   * width ({@link #expertWeights}).
   */
  static double weightBytesPerRank(ModelShape m, int tp, int ep, DType dt, DType weights) {
    if (!m.isMoe() && m.attention().mla() == null) {
      return weightBytesPerRank(m, tp, dt, weights);
    }
    double wb = weights.bits() / 8.0;
    double layers = m.layers() * (double) m.attentionParameters() / tp * wb
        + (m.layers() - m.moeLayers()) * (double) m.denseMlpParameters() / tp * wb;
    if (m.isMoe()) {
      var e = m.moe();
      double router = (double) m.hidden() * e.experts() * dt.bits() / 8.0;
      double shared = (double) m.mlp().matrices() * m.hidden() * e.sharedFfn() / tp * wb;
      double experts = (double) e.experts() / ep * m.expertParameters() / tp * expertWeights(m, weights).bits() / 8.0;
      layers += m.moeLayers() * (router + shared + experts);
    }
    return layers + embeddingTables(m) * LlmSystem.ceilDiv(m.vocab(), tp) * m.hidden() * dt.bits() / 8.0;
  }

  /** Storage type of the routed experts: the model's own (gpt-oss: MXFP4) when narrower than the layers' {@code weights}. */
  static DType expertWeights(ModelShape m, DType weights) {
    DType own = m.isMoe() ? m.moe().expertWeights() : null;
    return own != null && own.bits() < weights.bits() ? own : weights;
  }

  /** Weight bytes one rank holds for a dense Llama-style model (every linear layer at the storage width). */
  static double weightBytesPerRank(ModelShape m, int tp, DType dt, DType weights) {
    RankShard s = shard(m, tp);
    double layers = (double) s.layerWeightElements() * m.layers() * weights.bits() / 8.0;
    double norms = 2.0 * m.hidden() * m.layers() * dt.bits() / 8.0;
    return layers + norms + embeddingTables(m) * s.vocab() * m.hidden() * dt.bits() / 8.0;
  }

  /** Vocabulary x hidden tables a rank holds: the embedding and the LM head, one when they are tied (GPT-2/3, Llama-3.2 1B/3B). */
  static double embeddingTables(ModelShape m) {
    return m.tiedEmbeddings() ? 1 : 2;
  }

  /** KV-cache bytes one rank holds for {@code batch} sequences of {@code maxSeq} positions (its kv heads, replicated ones included). */
  static double kvBytesPerRank(ModelShape m, int tp, long batch, long maxSeq, DType dt) {
    var a = m.attention();
    if (a.mla() != null) {
      // the latent and the rotary key, replicated on every rank of the group (each rank attends all its heads over it)
      return (double) m.layers() * (a.mla().kvLoraRank() + a.mla().qkRopeDim()) * batch * maxSeq * dt.bits() / 8.0;
    }
    double perPosition = 2.0 * shard(m, tp).kvHeads() * m.headDim() * batch * dt.bits() / 8.0;
    // sliding-window layers keep a ring of the window's positions
    return perPosition * ((double) (m.layers() - a.windowLayers()) * maxSeq + (double) a.windowLayers() * Math.min(maxSeq, a.window()));
  }

  static double memoryPerChip(ModelShape m, int tp, RankLayout layout, Params p) {
    return layout.ranksPerChip() * (weightBytesPerRank(m, tp, p.ep(), p.dtype(), p.weights())
        + kvBytesPerRank(m, tp, p.batch(), p.maxSeq(), p.dtype()));
  }

  static String tpProblem(ModelShape m, int tp) {
    return LlmSystem.tpProblem(m, tp);
  }

  /**
   * The KV span policy of a hardware's serving stack when the workload does not name one: the Neuron runtime's
   * power-of-two token-generation buckets, or the live context of a paged KV cache (GPU stacks).
   */
  static Buckets defaultBuckets(HardwareSpec hw) {
    return hw.runtime().bucketedKv() ? Buckets.POW2 : Buckets.EXACT;
  }

  static LlmResult infer(HardwareSpec hw, WorkloadSpec w, Function<String, ModelShape> models, EnergyModel energy, RunOptions opts) {
    Params p = parse(w);
    if (p.buckets() == null) {
      p = new Params(p.model(), p.phase(), p.batch(), p.prompt(), p.output(), p.ctx(), p.maxSeq(), defaultBuckets(hw), p.tp(), p.lnc(),
          p.dtype(), p.weights(), p.perStepForm(), p.flashPrefill(), p.fused(), p.medianTpot(), p.ep(), p.routing());
    }
    ModelShape m = models.apply(p.model());
    String src = w.source();
    RankLayout layout;
    try {
      layout = RankLayout.of(hw.chip(), p.lnc());
    } catch (trnsim.core.config.ConfigFieldException e) {
      throw new WorkloadException(src, "llm-infer.lnc", String.valueOf(p.lnc()), e.getMessage());
    }
    int rpc = layout.ranksPerChip();
    int totalRanks = hw.totalChips() * rpc;
    double capacity = hw.chip().hbm().capacity().bytes();
    checkEp(m, p, src);
    if (p.tp() != null) {
      if (p.ep() > 1 && (totalRanks / p.tp()) % p.ep() != 0) {
        throw new WorkloadException(src, "llm-infer.ep", String.valueOf(p.ep()), "must divide the " + totalRanks / p.tp()
            + " tensor-parallel replicas (ep groups the same rank of ep replicas)");
      }
      if (tpProblem(m, p.tp()) != null) {
        throw new WorkloadException(src, "llm-infer.tp", p.tp().toString(), tpProblem(m, p.tp()));
      }
      if (p.tp() > totalRanks) {
        throw new WorkloadException(src, "llm-infer.tp", p.tp().toString(), hw.name() + " has " + totalRanks + " ranks ("
            + hw.totalChips() + " chips x " + rpc + " logical cores)");
      }
      if (totalRanks % p.tp() != 0 || (p.tp() > rpc && p.tp() % rpc != 0) || (p.tp() < rpc && rpc % p.tp() != 0)) {
        throw new WorkloadException(src, "llm-infer.tp", p.tp().toString(), "must divide the " + totalRanks + " ranks into whole groups of chips");
      }
      double need = memoryPerChip(m, p.tp(), layout, p);
      if (need > LlmSystem.HBM_USABLE * capacity) {
        throw new WorkloadException(src, "llm-infer.tp", p.tp().toString(), String.format(Locale.ROOT,
            "does not fit in HBM: %.1f GiB per chip (weights + KV cache) but %s has %.0f GiB (%.0f%% usable)",
            need / LlmSystem.GIB, hw.name(), capacity / LlmSystem.GIB, 100 * LlmSystem.HBM_USABLE));
      }
    }
    int tp = p.tp() != null ? p.tp() : -1;
    int maxTp = 1;
    for (int t = 1; t <= totalRanks && tp < 0; t *= 2) {
      if (tpProblem(m, t) != null || totalRanks % t != 0 || (totalRanks / t) % p.ep() != 0) {
        continue;
      }
      maxTp = t;
      if (memoryPerChip(m, t, layout, p) <= LlmSystem.HBM_USABLE * capacity) {
        tp = t;
      }
    }
    if (tp < 0) {
      throw new WorkloadException(src, "llm-infer.model", p.model(), String.format(Locale.ROOT,
          "does not fit in HBM: needs %.1f GiB per chip (weights + KV cache for batch %d x max_seq %d) even at tp=%d ranks, "
              + "but %s has %.0f GiB per chip (%.0f%% usable); use a larger system or a smaller batch / max_seq",
          memoryPerChip(m, maxTp, layout, p) / LlmSystem.GIB, p.batch(), p.maxSeq(), maxTp, hw.name(), capacity / LlmSystem.GIB,
          100 * LlmSystem.HBM_USABLE));
    }
    return new Run(hw, m, p, layout, tp, energy, opts).result(w.toString(), p.tp() == null ? List.of("tp") : List.of());
  }

  static void checkEp(ModelShape m, Params p, String src) {
    boolean routingGiven = p.routing().imbalance() != 1.0 || p.routing().capacityFactor() > 0;
    if (!m.isMoe() && (p.ep() > 1 || routingGiven)) {
      String key = p.ep() > 1 ? "ep" : p.routing().imbalance() != 1.0 ? "imbalance" : "capacity";
      String val = p.ep() > 1 ? String.valueOf(p.ep()) : String.valueOf(key.equals("imbalance") ? p.routing().imbalance()
          : p.routing().capacityFactor());
      throw new WorkloadException(src, "llm-infer." + key, val,
          "ep, imbalance and capacity apply to mixture-of-experts models only; " + m.name() + " is dense");
    }
    if (m.isMoe() && m.moe().experts() % p.ep() != 0) {
      throw new WorkloadException(src, "llm-infer.ep", String.valueOf(p.ep()), "must divide the model's " + m.moe().experts() + " experts");
    }
  }

  /** One resolved plan: tp, layout, fabric, the simulated kernels and their composition. */
  static final class Run {
    final HardwareSpec hw;
    final ModelShape m;
    final Params p;
    final RankLayout layout;
    final int tp;
    final int chipsPerGroup;
    final int replicas;
    final int chipsUsed;
    final TargetSpec target;
    final RankShard shard;
    final InferenceLowering.Options opts;
    final RunOptions runOpts;
    final EnergyModel energy;
    final Fabric fabric;
    final List<List<Integer>> groups;
    final double launch;
    final double requestOverhead;
    final Map<String, WorkloadResult> layerRuns = new TreeMap<>();
    final List<Kind> kinds;
    final List<List<Integer>> epGroups;
    WorkloadResult headResult;
    WorkloadResult samplingResult;
    double joules;
    final List<String> collectives = new ArrayList<>();

    Run(HardwareSpec hw, ModelShape m, Params p, RankLayout layout, int tp, EnergyModel energy, RunOptions runOpts) {
      this.hw = hw;
      this.m = m;
      this.p = p;
      this.layout = layout;
      this.tp = tp;
      int rpc = layout.ranksPerChip();
      this.chipsPerGroup = layout.chipsFor(tp);
      int totalRanks = hw.totalChips() * rpc;
      this.replicas = totalRanks / tp;
      this.chipsUsed = hw.totalChips();
      this.target = Targets.of(hw);
      this.shard = shard(m, tp);
      this.opts = new InferenceLowering.Options(p.dtype(), p.weights(), layout.lnc(), rpc, DEQUANT_ENGINES, p.flashPrefill(), p.fused());
      this.runOpts = runOpts;
      this.energy = energy;
      this.fabric = Fabric.of(servingRuntime(hw), 1, layout);
      this.groups = new ArrayList<>();
      for (int r = 0; r < replicas; r++) {
        List<Integer> g = new ArrayList<>();
        for (int i = 0; i < tp; i++) {
          g.add(r * tp + i);
        }
        groups.add(g);
      }
      this.launch = hw.runtime().graphLaunch().seconds();
      this.requestOverhead = hw.runtime().requestOverhead().seconds();
      this.kinds = Kind.of(m);
      this.epGroups = new ArrayList<>();
      for (int r = 0; r < replicas; r += p.ep()) {
        for (int i = 0; i < tp; i++) {
          List<Integer> g = new ArrayList<>();
          for (int e = 0; e < p.ep(); e++) {
            g.add((r + e) * tp + i);
          }
          epGroups.add(g);
        }
      }
    }

    /**
     * The model's distinct layers and how many of each: dense or MoE MLP, full or sliding-window
     * attention (windowed layers assumed spread evenly over the dense and MoE ones).
     */
    record Kind(int count, boolean moe, boolean windowed) {
      static List<Kind> of(ModelShape m) {
        int moe = m.moeLayers();
        int win = m.attention().windowLayers();
        int winMoe = (int) Math.round((double) win * moe / m.layers());
        List<Kind> out = new ArrayList<>();
        for (Kind k : List.of(new Kind(m.layers() - moe - (win - winMoe), false, false), new Kind(win - winMoe, false, true),
            new Kind(moe - winMoe, true, false), new Kind(winMoe, true, true))) {
          if (k.count() > 0) {
            out.add(k);
          }
        }
        return out;
      }

      String label() {
        return (moe ? "moe" : "dense") + (windowed ? ", sliding-window" : "");
      }
    }

    /** The layer variant of a kind for {@code tokens} tokens per rank: its MoE shard over tp and its load over the ep group. */
    InferenceLowering.Variant variant(Kind k, long tokens) {
      var mla = m.attention().mla();
      if (!k.moe()) {
        return new InferenceLowering.Variant(mla, null, null, null);
      }
      var e = m.moe();
      var rankMoe = new ModelShape.Moe(e.experts(), e.topK(), e.expertFfn() / tp, e.sharedFfn() / tp, e.sharedGate(), e.denseLayers(),
          e.expertBias(), e.routerBias(), e.expertWeights());
      return new InferenceLowering.Variant(mla, rankMoe, MoeLoad.of(e, tokens * p.ep(), p.ep(), p.routing()), expertWeights(m, p.weights()));
    }

    /** One execution of the token-generation graph with a KV span of {@code span}: seconds, and its parts. */
    Exec decodeStep(long span) {
      List<Counted> layers = new ArrayList<>();
      for (Kind k : kinds) {
        long s = m.attention().span(span, k.windowed());
        layers.add(new Counted(k, layerRuns.computeIfAbsent("decode " + k.label() + " span " + s, key -> WorkloadRunner.run(hw,
            new LoweredWorkload("llm-infer decode layer (one chip, " + k.label() + ", span " + s + ")",
                InferenceLowering.decodeLayer(target, shard, p.batch(), s, opts, variant(k, p.batch())), p.batch()), runOpts))));
      }
      return exec(layers, p.batch());
    }

    /** Time to first token: the request's fixed runtime cost and one execution of the context-encoding graph. */
    Exec prefill() {
      long tokens = p.batch() * p.prompt();
      List<Counted> layers = new ArrayList<>();
      for (Kind k : kinds) {
        // a sliding-window layer's causal attention covers only its window (block-sparse, AttentionSpec.windowed)
        var v = k.windowed() ? variant(k, tokens).withWindow(m.attention().window()) : variant(k, tokens);
        layers.add(new Counted(k, layerRuns.computeIfAbsent("prefill " + k.label(), key -> WorkloadRunner.run(hw, new LoweredWorkload(
            "llm-infer context-encoding layer (one chip, " + k.label() + ")",
            InferenceLowering.prefillLayer(target, shard, p.batch(), p.prompt(), opts, v), tokens), runOpts))));
      }
      Exec x = exec(layers, tokens);
      return new Exec(x.layers(), x.compute(), x.comm(), x.epComm(), x.launch() + requestOverhead, x.ar(), x.gather(), x.a2a());
    }

    /** A simulated layer and how many layers of the model it stands for. */
    record Counted(Kind kind, WorkloadResult run) {}

    /**
     * A graph execution: launch + layers x (kernels + two all-reduces of {@code tokens} activations)
     * + MoE layers x (dispatch + combine all-to-alls over the expert-parallel group) + LM head,
     * logits gather, sampling. Each rank of a tensor-parallel group dispatches 1/tp of the tokens'
     * top-k copies: {@code tokens x hidden x top-k x dtype bytes / tp} per rank and direction.
     */
    Exec exec(List<Counted> layers, long tokens) {
      if (headResult == null) {
        headResult = WorkloadRunner.run(hw, new LoweredWorkload("llm-infer lm head (one chip)",
            InferenceLowering.head(target, shard, p.batch(), opts), p.batch()), runOpts);
        samplingResult = WorkloadRunner.run(hw, new LoweredWorkload("llm-infer sampling (one chip)",
            InferenceLowering.sampling(target, p.batch(), m.vocab(), opts), p.batch()), runOpts);
      }
      double arBytes = (double) tokens * m.hidden() * p.dtype().bits() / 8.0;
      Collectives.Result ar = inGraph(Collectives.Op.ALL_REDUCE, arBytes);
      double gatherBytes = (double) p.batch() * shard.vocab() * tp * p.dtype().bits() / 8.0;
      Collectives.Result gather = inGraph(Collectives.Op.ALL_GATHER, gatherBytes);
      double compute = headResult.timeSeconds() + samplingResult.timeSeconds();
      for (Counted c : layers) {
        compute += c.kind().count() * c.run().timeSeconds();
      }
      double comm = 2.0 * m.layers() * ar.seconds() + gather.seconds();
      Collectives.Result a2a = null;
      double ep = 0;
      if (p.ep() > 1) {
        a2a = Collectives.run(fabric, Collectives.Op.ALL_TO_ALL, epGroups, a2aBytes(m, tokens, tp, p.dtype()), Collectives.Algo.AUTO,
            p.dtype(), false);
        ep = 2.0 * m.moeLayers() * a2a.seconds();
      }
      return new Exec(layers, compute, comm, ep, launch, ar, gather, a2a);
    }

    /**
     * An in-graph collective over the tensor-parallel groups: the fastest of the algorithms the size-based
     * runtime has for it (the graph's collectives have static sizes, planned when the graph is loaded).
     */
    Collectives.Result inGraph(Collectives.Op op, double bytes) {
      Collectives.Result best = null;
      for (Collectives.Algo a : List.of(Collectives.Algo.AUTO, Collectives.Algo.MESH, Collectives.Algo.RDH, Collectives.Algo.KANGARING)) {
        if (a == Collectives.Algo.RDH && Integer.bitCount(tp) != 1) {
          continue;
        }
        Collectives.Result r = Collectives.run(fabric, op, groups, bytes, a, p.dtype(), false);
        if (best == null || r.seconds() < best.seconds()) {
          best = r;
        }
      }
      return best;
    }

    record Exec(List<Counted> layers, double compute, double comm, double epComm, double launch, Collectives.Result ar,
        Collectives.Result gather, Collectives.Result a2a) {
      double seconds() {
        return compute + comm + epComm + launch;
      }

      /** The layer shown in reports: the kind that stands for the most layers (the last such, so MoE over dense at a tie). */
      WorkloadResult layer() {
        Counted best = layers.get(0);
        for (Counted c : layers) {
          best = c.kind().count() >= best.kind().count() ? c : best;
        }
        return best.run();
      }
    }

    /** Bucketed KV span of a step whose live context is {@code c}. */
    long span(long c) {
      return switch (p.buckets()) {
        case COMPILED -> p.maxSeq();
        case EXACT -> c;
        case POW2 -> {
          long b = 128;
          while (b < c) {
            b *= 2;
          }
          yield Math.min(b, p.maxSeq());
        }
      };
    }

    /**
     * Mean decode step over the contexts {@code first..last} (inclusive): exact over buckets (each
     * distinct span simulated once), piecewise linear between simulated points for exact spans.
     */
    Mean meanDecode(long first, long last) {
      long steps = last - first + 1;
      if (p.buckets() != Buckets.EXACT) {
        Map<Long, Long> count = new TreeMap<>();
        for (long c = first; c <= last; ) {
          long sp = span(c);
          long end = last;
          if (p.buckets() == Buckets.POW2 && sp < p.maxSeq()) {
            end = Math.min(last, sp);
          }
          count.merge(sp, end - c + 1, Long::sum);
          c = end + 1;
        }
        double sum = 0;
        Exec any = null;
        for (var e : count.entrySet()) {
          Exec x = decodeStep(e.getKey());
          sum += x.seconds() * e.getValue();
          any = x;
        }
        return new Mean(sum / steps, any, count);
      }
      List<Long> points = samplePoints(first, last);
      double[] t = new double[points.size()];
      Exec any = null;
      for (int i = 0; i < points.size(); i++) {
        any = decodeStep(points.get(i));
        t[i] = any.seconds();
      }
      return new Mean(integrate(points, t, first, last) / steps, any, Map.of());
    }

    record Mean(double seconds, Exec sample, Map<Long, Long> stepsPerSpan) {}

    LlmResult result(String workload, List<String> defaulted) {
      Map<String, Double> breakdown = new LinkedHashMap<>();
      List<String> notes = new ArrayList<>();
      double seconds;
      double tokens;
      double processed;
      WorkloadResult shown;
      String phaseLabel = p.phase();
      Exec sample;
      if (p.phase().equals("prefill")) {
        Exec x = prefill();
        sample = x;
        shown = x.layer();
        seconds = x.seconds();
        tokens = (double) p.batch() * p.prompt() * replicas;
        processed = tokens;
        breakdown.put("compute", x.compute());
        breakdown.put("tp_comm", x.comm());
        putEp(breakdown, x.epComm());
        breakdown.put("runtime", x.launch());
        notes.add("time = time to first token: one context-encoding pass of the batch's " + p.prompt() + "-token prompts, which yields the first token");
      } else if (p.phase().equals("decode") && p.perStepForm()) {
        Exec x = decodeStep(span(p.ctx()));
        sample = x;
        shown = x.layer();
        seconds = x.seconds();
        tokens = (double) p.batch() * replicas;
        processed = tokens;
        breakdown.put("compute", x.compute());
        breakdown.put("tp_comm", x.comm());
        putEp(breakdown, x.epComm());
        breakdown.put("runtime", x.launch());
        notes.add("time = one decode step at context " + p.ctx() + " with a KV span of " + span(p.ctx()) + " positions");
      } else {
        long first = p.prompt() + 1;
        long last = p.prompt() + p.output() - 1;
        boolean median = p.phase().equals("decode") && p.medianTpot();
        Mean mean = median ? null : meanDecode(first, last);
        double decodeSteps = p.output() - 1;
        if (median) {
          // the median step: step time grows with the span and the span with the context, so it is the step at the median context
          long mid = first + (last - first) / 2;
          Exec x = decodeStep(span(mid));
          sample = x;
          shown = x.layer();
          seconds = x.seconds();
          tokens = (double) p.batch() * replicas;
          processed = tokens;
          breakdown.put("compute", x.compute());
          breakdown.put("tp_comm", x.comm());
          breakdown.put("runtime", x.launch());
          notes.add(String.format(Locale.ROOT, "time = median (P50) time per output token over the %d decode steps (contexts %d..%d): the step at"
              + " context %d (KV span %d); tpot=mean gives the mean", (long) decodeSteps, first, last, mid, span(mid)));
        } else if (p.phase().equals("decode")) {
          sample = mean.sample();
          shown = mean.sample().layer();
          seconds = mean.seconds();
          tokens = (double) p.batch() * replicas;
          processed = tokens;
          double f = mean.seconds() / mean.sample().seconds();
          breakdown.put("compute", mean.sample().compute() * f);
          breakdown.put("tp_comm", mean.sample().comm() * f);
          putEp(breakdown, mean.sample().epComm() * f);
          breakdown.put("runtime", mean.sample().launch() * f);
          notes.add("time = mean time per output token over the " + (long) decodeSteps + " decode steps (contexts " + first + ".." + last + ")");
        } else {
          sample = mean.sample();
          shown = mean.sample().layer();
          Exec pre = prefill();
          seconds = pre.seconds() + decodeSteps * mean.seconds();
          tokens = (double) p.batch() * p.output() * replicas;
          processed = (double) p.batch() * (p.prompt() + decodeSteps) * replicas;
          double f = decodeSteps * mean.seconds() / mean.sample().seconds();
          breakdown.put("prefill", pre.seconds());
          breakdown.put("compute", mean.sample().compute() * f);
          breakdown.put("tp_comm", mean.sample().comm() * f);
          putEp(breakdown, mean.sample().epComm() * f);
          breakdown.put("runtime", mean.sample().launch() * f);
          notes.add(String.format(Locale.ROOT, "time = whole request: time to first token %s + %d decode steps x %s mean; tokens = batch x output",
              LlmSystem.seconds(pre.seconds()), (long) decodeSteps, LlmSystem.seconds(mean.seconds())));
        }
        notes.add(spanNote(mean == null ? Map.of() : mean.stepsPerSpan()));
      }
      collectives.add(LlmSystem.describe("tensor-parallel all-reduce (2 per layer)", sample.ar(), 2L * m.layers()));
      collectives.add(LlmSystem.describe("logits all-gather", sample.gather(), 1));
      if (sample.a2a() != null) {
        collectives.add(LlmSystem.describe("expert-parallel all-to-all (dispatch + combine per MoE layer)", sample.a2a(), 2L * m.moeLayers()));
      }
      if (m.isMoe()) {
        notes.add(moeNote(sample));
      }
      notes.add(0, String.format(Locale.ROOT, "simulated: one chip running %d rank shard(s) of a %d-rank tensor-parallel group (%d kv head(s) per rank%s, %s"
              + " weights%s); composed: x%d layers, all-reduces over %d ranks on %d chip(s), x%d independent replicas",
          layout.ranksPerChip(), tp, shard.kvHeads(), tp > m.kvHeads() ? ", replicated " + tp / m.kvHeads() + "x" : "", p.weights().label(),
          p.weights() != p.dtype() ? " de-quantised to " + p.dtype().label() + " on " + DEQUANT_ENGINES : "", m.layers(), tp, chipsPerGroup,
          replicas));
      notes.add(String.format(Locale.ROOT, "runtime: %s per graph execution (runtime.graph_launch)%s", LlmSystem.seconds(launch),
          p.phase().equals("decode") ? "" : String.format(Locale.ROOT, " + %s per request before its first token (runtime.request_overhead)",
              LlmSystem.seconds(requestOverhead))));
      // active parameters only: a MoE token runs its top-k experts
      double modelFlops = 2.0 * (m.activeParameters() - (double) m.vocab() * m.hidden()) * processed;
      double mfu = modelFlops / (seconds * chipsUsed * LlmSystem.peak(hw, p.dtype()));
      Map<String, Double> memory = new LinkedHashMap<>();
      memory.put("weights", layout.ranksPerChip() * weightBytesPerRank(m, tp, p.ep(), p.dtype(), p.weights()));
      memory.put("kv_cache", layout.ranksPerChip() * kvBytesPerRank(m, tp, p.batch(), p.maxSeq(), p.dtype()));
      memory.put("total", memoryPerChip(m, tp, layout, p));
      memory.put("capacity", (double) hw.chip().hbm().capacity().bytes());
      double joulesTotal = energy == null ? Double.NaN : energyOf(sample, seconds);
      double cost = seconds * chipsUsed * hw.system().pricePerChipHourUsd() / 3600;
      Map<String, Integer> par = new LinkedHashMap<>();
      par.put("tp", tp);
      par.put("pp", 1);
      par.put("dp", replicas);
      par.put("batch", (int) p.batch());
      par.put("ctx", (int) (p.perStepForm() ? p.ctx() : p.prompt()));
      if (!p.perStepForm()) {
        par.put("prompt", (int) p.prompt());
        par.put("output", (int) p.output());
      }
      par.put("max_seq", (int) p.maxSeq());
      par.put("lnc", layout.lnc());
      if (m.isMoe()) {
        par.put("ep", p.ep());
      }
      par.put("chips_per_group", chipsPerGroup);
      return new LlmResult(hw.name(), workload, phaseLabel, par, defaulted, chipsUsed, seconds, tokens, breakdown, memory, mfu, modelFlops,
          joulesTotal, cost, shown, collectives, notes);
    }

    static void putEp(Map<String, Double> breakdown, double seconds) {
      if (seconds > 0) {
        breakdown.put("ep_comm", seconds);
      }
    }

    String moeNote(Exec x) {
      var e = m.moe();
      MoeLoad load = variant(new Kind(1, true, false), p.batch()).load();
      return String.format(Locale.ROOT, "mixture of experts: %d of %d layers route each token to %d of %d experts (%d per rank at ep=%d, "
          + "widths / tp=%d%s); decode: %d of the rank's experts active, %d token(s) each (%s)%s", m.moeLayers(), m.layers(), e.topK(),
          e.experts(), load.localExperts(), p.ep(), tp, e.sharedFfn() > 0 ? ", shared experts " + e.sharedFfn() + " wide" : "",
          load.activeExperts(), load.tokensPerExpert(), p.routing().describe(),
          expertWeights(m, p.weights()) != p.weights() ? "; expert weights stored " + expertWeights(m, p.weights()).label() : "");
    }

    String spanNote(Map<Long, Long> stepsPerSpan) {
      return switch (p.buckets()) {
        case COMPILED -> "KV span: every decode step attends over the compiled max_seq = " + p.maxSeq()
            + " positions (buckets=compiled: one token-generation graph)";
        case POW2 -> "KV span: Transformers-NeuronX's power-of-two token-generation buckets (128 .. max_seq " + p.maxSeq() + ")"
            + (stepsPerSpan.isEmpty() ? "" : ", decode steps per bucket " + stepsPerSpan);
        case EXACT -> "KV span: the live context (buckets=exact; the default where runtime.kv_buckets is none, a paged KV cache),"
            + " mean integrated piecewise linearly between simulated contexts";
      };
    }

    /** Energy of the run: the sampled execution's kernels per execution, static power for the rest, over the chips used. */
    double energyOf(Exec x, double seconds) {
      double perChip = 0;
      double kernelTime = 0;
      List<Counted> parts = new ArrayList<>(x.layers());
      parts.add(new Counted(new Kind(1, false, false), headResult));
      parts.add(new Counted(new Kind(1, false, false), samplingResult));
      for (Counted c : parts) {
        long times = c.kind().count();
        for (var s : c.run().steps()) {
          perChip += energy.report(s.result().stats(), s.result().timeSeconds()).totalEnergyJ() * s.repeat() * times;
          kernelTime += s.result().timeSeconds() * s.repeat() * times;
        }
      }
      double execs = seconds / x.seconds();
      perChip *= execs;
      kernelTime *= execs;
      perChip += energy.staticPowerW() * Math.max(0, seconds - kernelTime);
      return perChip * chipsUsed;
    }
  }

  /** All-to-all send buffer of one rank for one direction: its 1/tp share of the tokens' top-k copies. */
  static double a2aBytes(ModelShape m, long tokens, int tp, DType dt) {
    return (double) tokens * m.hidden() * m.moe().topK() * dt.bits() / 8.0 / tp;
  }

  /**
   * The hardware as the serving stacks run it: their collective runtime is the size-based one (mesh,
   * RDH, KangaRing; R-INTRA), whatever policy the chip config's standalone collectives use (trn1's
   * {@code ring} describes the 2023 nccom-test runtime; mesh all-reduce arrived in collectives 2.15,
   * 7/2023, before every inference stack modelled here).
   */
  static HardwareSpec servingRuntime(HardwareSpec hw) {
    var chip = hw.chip();
    var cc = chip.collectives();
    if (cc == null || cc.sizeBasedAlgorithms()) {
      return hw;
    }
    var cc2 = new trnsim.core.config.CollectiveSpec("neuron", cc.launch(), cc.transferOverhead(), cc.dmaRingsPerCore(), cc.packet(),
        cc.reduceElementsPerNsPerCore());
    var chip2 = new trnsim.core.config.ChipSpec(chip.cores(), chip.core(), chip.hbm(), chip.l2(), chip.power(), chip.lnc(), cc2);
    return new HardwareSpec(hw.name(), hw.description(), chip2, hw.system(), hw.runtime(), hw.projection());
  }

  /** Engines that take turns de-quantising weight slabs (int8/fp8 storage, bf16 matmuls). */
  static final List<EngineKind> DEQUANT_ENGINES = List.of(EngineKind.VECTOR, EngineKind.GPSIMD);

  /** Up to 9 contexts spread evenly over {@code [first, last]}, both ends included. */
  static List<Long> samplePoints(long first, long last) {
    List<Long> pts = new ArrayList<>();
    int n = (int) Math.min(9, last - first + 1);
    for (int i = 0; i < n; i++) {
      long c = n == 1 ? first : first + Math.round((double) (last - first) * i / (n - 1));
      if (pts.isEmpty() || pts.get(pts.size() - 1) != c) {
        pts.add(c);
      }
    }
    return pts;
  }

  /**
   * Sum over the integer contexts {@code first..last} of the piecewise-linear interpolation of
   * {@code t} at {@code points} (exact for a per-step time linear in the context between points).
   */
  static double integrate(List<Long> points, double[] t, long first, long last) {
    if (points.size() == 1) {
      return t[0] * (last - first + 1);
    }
    double sum = 0;
    for (int i = 0; i + 1 < points.size(); i++) {
      long a = points.get(i);
      long b = points.get(i + 1);
      // contexts a..b-1 belong to this segment (b to the next, the last point to the last segment)
      long hi = i + 2 == points.size() ? b : b - 1;
      long n = hi - a + 1;
      // sum of t(a) + (t(b) - t(a)) (c - a) / (b - a) over c = a..hi
      double slope = (t[i + 1] - t[i]) / (b - a);
      sum += n * t[i] + slope * (double) (hi - a) * (hi - a + 1) / 2.0;
    }
    return sum;
  }
}
