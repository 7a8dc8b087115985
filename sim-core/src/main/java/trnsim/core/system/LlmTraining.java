package trnsim.core.system;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import trnsim.core.config.ConfigFieldException;
import trnsim.core.config.HardwareSpec;
import trnsim.core.energy.EnergyModel;
import trnsim.core.run.RunOptions;
import trnsim.core.run.Targets;
import trnsim.core.run.WorkloadResult;
import trnsim.core.run.WorkloadRunner;
import trnsim.isa.DType;
import trnsim.isa.lower.GemmLowering;
import trnsim.isa.lower.GemmSpec;
import trnsim.isa.lower.LayerLowering;
import trnsim.isa.lower.LayerLowering.Attention;
import trnsim.isa.lower.LayerLowering.Recompute;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.lower.MoeLoad;
import trnsim.isa.lower.NormLowering;
import trnsim.isa.lower.Step;
import trnsim.isa.lower.StreamLowering;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * {@code llm-train}: one distributed training step as the frameworks run it (see {@link LlmSystem}
 * and docs/model.md, "Training as deployed"). Parallel degrees count collective ranks (NeuronCores
 * on Trainium, {@link RankLayout}); a chip runs the shards of the ranks it holds.
 */
final class LlmTraining {
  private LlmTraining() {}

  /** PyTorch DDP's default gradient bucket ({@code bucket_cap_mb=25}), used when overlap is on. */
  static final long DEFAULT_BUCKET_BYTES = 25L << 20;

  /** The workload's options. */
  record Options(String model, Framework framework, long seq, long mbs, long globalBatch, boolean zero, DType dt,
      Precision precision, int systems, Integer lnc, Integer tp, Integer pp, Integer dp, Integer microbatches, Recompute recompute,
      boolean sp, Attention attention, boolean dropout, boolean dpOverlap, long dpBucketBytes, String collectives,
      boolean tpOverlap, boolean recomputeGiven, boolean fusedOptimizer, Integer ep, MoeLoad.Routing routing, PlanMode plan, int vpp,
      int zeroStage, boolean fp8, int cp) {

    /** Degrees left open are searched for (plan= absent, search or exhaustive), or the default chooser's first plan kept (plan=first). */
    boolean search() {
      return plan != PlanMode.FIRST;
    }

    /** plan=search or plan=exhaustive given explicitly. */
    boolean searchGiven() {
      return plan == PlanMode.SEARCH || plan == PlanMode.EXHAUSTIVE;
    }

    /** Tokens of one sequence on one rank: the sequence split over the context-parallel ranks. */
    long rankSeq() {
      return seq / cp;
    }

    /** The same options with another recomputation mode (chosen by trnsim when the given mode does not fit). */
    Options withRecompute(Recompute r) {
      return new Options(model, framework, seq, mbs, globalBatch, zero, dt, precision, systems, lnc, tp, pp, dp, microbatches, r, sp,
          attention, dropout, dpOverlap, dpBucketBytes, collectives, tpOverlap, recomputeGiven, fusedOptimizer, ep, routing, plan, vpp,
          zeroStage, fp8, cp);
    }

    static Options parse(WorkloadSpec w) {
      String model = w.string("model", null);
      Framework fw = parse(w, "framework", "generic", Framework::parse);
      long seq = w.positive("seq", 4096L);
      long mbs = w.positive("mbs", 1L);
      long gbs = w.positive("global_batch", 1024L);
      int zeroStage = Integer.parseInt(w.choice("zero", fw.zero ? "1" : "0", "0", "1", "2", "3"));
      boolean zero = zeroStage >= 1;
      DType dt = w.dtype("dtype", DType.BF16);
      Precision prec = parse(w, "precision", fw.precision.label(), Precision::parse);
      int systems = (int) w.positive("systems", 1L);
      Integer lnc = LlmSystem.optional(w, "lnc");
      Integer tp = LlmSystem.optional(w, "tp");
      Integer pp = LlmSystem.optional(w, "pp");
      Integer dp = LlmSystem.optional(w, "dp");
      Integer mb = LlmSystem.optional(w, "microbatches");
      boolean rcGiven = w.has("recompute");
      Recompute rc = parse(w, "recompute", fw.recompute.label(), Recompute::parse);
      boolean sp = w.bool("sp", fw.sp);
      Attention at = parse(w, "attn", fw.attention.label(), Attention::parse);
      boolean dropout = w.bool("dropout", false);
      boolean overlap = w.bool("dp_overlap", false);
      boolean tpOverlap = w.bool("tp_overlap", fw.tpOverlap);
      long bucket = w.bytes("dp_bucket", DEFAULT_BUCKET_BYTES);
      boolean fusedOpt = w.choice("optimizer", fw.fusedOptimizer ? "fused" : "unfused", "fused", "unfused").equals("fused");
      String cc = fw.collectives == null ? w.string("collectives", "config") : w.string("collectives", fw.collectives);
      if (!List.of("config", "ring", "neuron").contains(cc)) {
        throw new WorkloadException(w.source(), "llm-train.collectives", cc, "must be config, ring or neuron");
      }
      Integer ep = LlmSystem.optional(w, "ep");
      MoeLoad.Routing routing = LlmInference.routing(w);
      // open degrees are searched (PlanSearch, pruned by lower bounds) unless plan=first asks for the default chooser's plan
      boolean planGiven = w.has("plan");
      String planValue = w.choice("plan", "search", "search", "exhaustive", "first");
      PlanMode plan = planGiven ? PlanMode.valueOf(planValue.toUpperCase(Locale.ROOT)) : null;
      int vpp = (int) Math.min(1024, w.positive("vpp", 1L));
      boolean fp8 = w.bool("fp8", false);
      int cp = (int) Math.min(1024, w.positive("cp", 1L));
      if (cp > 1 && seq % (2L * cp) != 0) {
        throw new WorkloadException(w.source(), "llm-train.cp", String.valueOf(cp), "seq (" + seq + ") must split into 2 x cp equal chunks "
            + "(load-balanced causal context parallelism)");
      }
      if (fp8 && dt != DType.BF16) {
        throw new WorkloadException(w.source(), "llm-train.fp8", "true", "fp8 mixed training runs the projections in fp8 and the rest "
            + "in bf16; it needs dtype=bf16 (got " + dt.label() + ")");
      }
      w.finish();
      return new Options(model, fw, seq, mbs, gbs, zero, dt, prec, systems, lnc, tp, pp, dp, mb, rc, sp, at, dropout, overlap, bucket,
          cc, tpOverlap, rcGiven, fusedOpt, ep, routing, plan, vpp, zeroStage, fp8, cp);
    }

    private static <T> T parse(WorkloadSpec w, String key, String dflt, Function<String, T> f) {
      String v = w.string(key, dflt);
      try {
        return f.apply(v);
      } catch (IllegalArgumentException e) {
        throw new WorkloadException(w.source(), w.kind() + "." + key, v, e.getMessage());
      }
    }

    double actBytes() {
      return dt.bits() / 8.0;
    }
  }

  /**
   * Defaults of the training stacks whose published numbers trnsim is calibrated on; any key given
   * explicitly overrides them. None of them overlaps the data-parallel reduction with the backward:
   * both run it in a separate step after gradient accumulation (XLA graphs end at each microbatch).
   *
   * <ul>
   *   <li>{@code generic}: no sequence parallelism, no recomputation, {@code mixed} precision, flash
   *       attention, ZeRO-1.
   *   <li>{@code nxd}: NeuronX Distributed's Llama pretraining examples (tp_zero1_llama_hf_pretrain,
   *       tp_pp_llama_hf_pretrain): {@code --sequence_parallel_enabled}, selective checkpointing,
   *       {@code --use_flash_attention 1}, ZeRO-1 with fp32 gradient accumulation and master weights
   *       ({@code mixed-fp32acc}). At seq 8192 the TP+PP example also checkpoints the MLP block
   *       ({@code recompute=selective-mlp}: give it explicitly).
   *   <li>{@code megatron-neuron}: the Neuron reference for Megatron-LM
   *       (examples/pretrain_gpt3_6.7B_32layers_bf16.sh): tensor and data parallelism only, no
   *       sequence parallelism (not supported) or recomputation (no checkpointing flags), eager
   *       attention with the softmax's scale and mask as their own passes ({@code attn=eager-unfused}:
   *       no fused kernel; {@code --no-masked-softmax-fusion}), no distributed optimizer,
   *       {@code XLA_USE_BF16=1} with stochastic rounding ({@code bf16-sr}), and torch.optim.AdamW
   *       (megatron/optimizer/__init__.py imports it in place of apex's FusedAdam) run as its
   *       per-tensor op sequence ({@code optimizer=unfused}).
   * </ul>
   *
   * Backward tensor-parallel overlap ({@code tp_overlap}) is off for both. The Megatron-LM
   * reference runs with {@code --no-async-tensor-model-parallel-allreduce}. NeuronX Distributed
   * issues the sequence-parallel regather before the dX matmul and the Trainium CC cores run
   * collectives asynchronously to the compute engines (Neuron "Compute-Communication Overlap" deep
   * dive), so the mechanism could apply; off is a FITTED choice: on
   * trn1-train-llama3.1-8b-nxd-32n-tp32-dp32 it would predict 8.2% more throughput than measured,
   * off 4.8% less.
   *
   * <p>The collective runtime's algorithm policy ({@code collectives=ring|neuron}, default the chip
   * config's) follows the SDKs each stack shipped with: NeuronX Distributed arrived with Neuron SDK
   * 2.12+ (2023) and its benchmarks run on collectives releases with the size-based policy (mesh,
   * RDH, KangaRing; mesh AllReduce since collectives 2.15, 7/2023); the Megatron-LM reference's
   * published numbers are from SDK 2.5-2.6 (late 2022 / early 2023): ring.
   */
  enum Framework {
    GENERIC(false, Recompute.NONE, Precision.MIXED, Attention.FLASH, true, null, false, true),
    NXD(true, Recompute.SELECTIVE, Precision.MIXED_FP32ACC, Attention.FLASH, true, "neuron", false, true),
    MEGATRON_NEURON(false, Recompute.NONE, Precision.BF16_SR, Attention.EAGER_UNFUSED, false, "ring", false, false);

    final boolean sp;
    final Recompute recompute;
    final Precision precision;
    final Attention attention;
    final boolean zero;
    /** The collective runtime's algorithm policy of the SDKs the stack ran on (null: the chip config's). */
    final String collectives;
    /** Backward tensor-parallel collectives run under independent GEMMs. */
    final boolean tpOverlap;
    /**
     * The optimizer step moves Adam's minimum bytes (a fused multi-tensor kernel); false: one pass per
     * op of torch.optim.AdamW's per-tensor sequence ({@link Precision#unfusedAdamBytes}).
     */
    final boolean fusedOptimizer;

    Framework(boolean sp, Recompute recompute, Precision precision, Attention attention, boolean zero, String collectives,
        boolean tpOverlap, boolean fusedOptimizer) {
      this.sp = sp;
      this.recompute = recompute;
      this.precision = precision;
      this.attention = attention;
      this.zero = zero;
      this.collectives = collectives;
      this.tpOverlap = tpOverlap;
      this.fusedOptimizer = fusedOptimizer;
    }

    static Framework parse(String s) {
      return switch (s.toLowerCase(Locale.ROOT)) {
        case "generic" -> GENERIC;
        case "nxd" -> NXD;
        case "megatron-neuron" -> MEGATRON_NEURON;
        default -> throw new IllegalArgumentException("must be generic, nxd or megatron-neuron");
      };
    }
  }

  /**
   * How open degrees are resolved: {@code search} (also when plan= is absent) composes the fitting
   * plans in the order of their lower bounds and skips those whose bound exceeds the best step found
   * ({@link PlanSearch}); {@code exhaustive} simulates every fitting plan (for checking the prune);
   * {@code first} keeps the default chooser's first fitting plan (the smallest model-parallel group).
   */
  enum PlanMode { SEARCH, EXHAUSTIVE, FIRST }

  /** Degrees in ranks, and microbatches per data-parallel replica. */
  record Plan(int tp, int pp, int dp, int microbatches, int ep) {
    /** A plan without expert parallelism. */
    Plan(int tp, int pp, int dp, int microbatches) {
      this(tp, pp, dp, microbatches, 1);
    }

    int ranks() {
      return tp * pp * dp;
    }

    int layersPerStage(ModelShape m) {
      return (m.layers() + pp - 1) / pp;
    }
  }

  /** One rank's shard of the model: its heads (kv heads replicated when tp exceeds them), MLP columns, vocabulary rows. */
  static ModelShape rankShard(ModelShape m, int tp) {
    ModelShape r = m.withWidths(m.name() + "/tp" + tp, m.heads() / tp, Math.max(1, m.kvHeads() / tp), m.ffn() / tp,
        (int) LlmSystem.ceilDiv(m.vocab(), tp));
    return m.isMoe() ? r.withMoe(r.name(), scaledExperts(m.moe(), 1, tp)) : r;
  }

  /** A MoE's experts with their widths times {@code num / den} (a tensor-parallel shard, or a chip's ranks of one). */
  static ModelShape.Moe scaledExperts(ModelShape.Moe e, int num, int den) {
    return new ModelShape.Moe(e.experts(), e.topK(), e.expertFfn() * num / den, e.sharedFfn() * num / den, e.sharedGate(), e.denseLayers(),
        e.expertBias(), e.routerBias(), e.expertWeights());
  }

  /**
   * Parameters per layer one rank holds (the mean over dense and MoE layers): a MoE layer keeps
   * only its {@code experts / ep} local experts (expert weights shard over ep x tp).
   */
  static double rankLayerParams(ModelShape m, ModelShape rank, int ep) {
    double p = rank.layerParameters();
    if (m.isMoe()) {
      p -= (double) m.moeLayers() / m.layers() * (m.moe().experts() - m.moe().experts() / ep) * rank.expertParameters();
    }
    return p;
  }

  /**
   * Memory per chip of the busiest stage (the first holds the most microbatches in flight, the last
   * the LM head): each rank's memory times the ranks on a chip.
   */
  static TrainMemory.Memory memory(ModelShape m, Plan p, Options o, int ranksPerChip) {
    ModelShape rank = rankShard(m, p.tp());
    int layers = p.layersPerStage(m);
    var acts = new TrainMemory.Activations(o.mbs(), o.rankSeq(), o.sp(), o.recompute(), o.attention(), o.dropout(), o.actBytes());
    boolean only = p.pp() == 1;
    double perLayer = rankLayerParams(m, rank, p.ep());
    double firstParams = TrainMemory.stageParams(m, rank, layers, true, only, only, perLayer);
    var first = TrainMemory.rank(firstParams, o.precision(), p.dp(), o.zeroStage(),
        TrainMemory.stageActivations(rank, p.tp(), acts, layers, Math.min(p.pp(), p.microbatches())), perLayer);
    var last = TrainMemory.rank(TrainMemory.stageParams(m, rank, layers, only, true, only, perLayer), o.precision(), p.dp(), o.zeroStage(),
        TrainMemory.stageActivations(rank, p.tp(), acts, layers, 1), perLayer);
    return (first.total() >= last.total() ? first : last).times(ranksPerChip);
  }

  static LlmResult train(HardwareSpec hw, WorkloadSpec w, Function<String, ModelShape> models, EnergyModel energy,
      RunOptions opts) {
    Options given = Options.parse(w);
    ModelShape m = models.apply(given.model());
    String src = w.source();
    RankLayout layout;
    try {
      layout = RankLayout.of(hw.chip(), given.lnc());
    } catch (ConfigFieldException e) {
      throw new WorkloadException(src, "llm-train.lnc", String.valueOf(given.lnc()), e.getMessage());
    }
    int rpc = layout.ranksPerChip();
    int totalRanks = hw.totalChips() * given.systems() * rpc;
    double capacity = hw.chip().hbm().capacity().bytes();
    checkGiven(m, given, rpc, src);
    if (given.fp8() && !Targets.of(hw).supports(DType.FP8_E4M3)) {
      throw new WorkloadException(src, "llm-train.fp8", "true", hw.name() + "'s tensor engine has no fp8 rate (chip.core.tensor.dtype_rates)");
    }
    List<String> defaulted = new ArrayList<>();
    Options o = given;
    Plan plan = null;
    // Frameworks checkpoint activations when a plan would not fit otherwise: without an explicit recompute=, the
    // framework's mode first, then selective, then full recomputation (the first mode with a plan that fits).
    List<Recompute> modes = new ArrayList<>(List.of(given.recompute()));
    if (!given.recomputeGiven()) {
      for (Recompute r : List.of(Recompute.SELECTIVE, Recompute.FULL)) {
        if (r.ordinal() > given.recompute().ordinal()) {
          modes.add(r);
        }
      }
    }
    WorkloadException first = null;
    for (Recompute r : modes) {
      try {
        o = given.withRecompute(r);
        plan = choose(hw, m, o, rpc, totalRanks, capacity, src);
        break;
      } catch (WorkloadException e) {
        first = first == null ? e : first;
      }
    }
    if (plan == null) {
      throw first;
    }
    if (o.recompute() != given.recompute()) {
      defaulted.add("recompute");
    }
    TrainMemory.Memory mem = memory(m, plan, o, rpc);
    boolean open = o.tp() == null || o.pp() == null || o.dp() == null || m.isMoe() && o.ep() == null;
    if (o.search() && open) {
      return PlanSearch.run(hw, m, o, plan, fitting(hw, m, o, rpc, totalRanks, capacity, src, true),
          enumerate(hw, m, o, rpc, totalRanks, src, true), layout, capacity, energy, opts, w, defaulted(o, defaulted, m));
    }
    if (o.tp() == null) {
      defaulted.add("tp");
    }
    if (o.pp() == null) {
      defaulted.add("pp");
    }
    if (o.dp() == null) {
      defaulted.add("dp");
    }
    if (o.microbatches() == null) {
      defaulted.add("microbatches");
    }
    return new StepModel(hw, m, o, plan, layout, mem, capacity, energy, opts, defaulted, new Sims()).run(w);
  }

  /** The keys trnsim chose: those given as null plus what the caller already defaulted. */
  static List<String> defaulted(Options o, List<String> already, ModelShape m) {
    List<String> out = new ArrayList<>(already);
    for (var e : List.of(java.util.Map.entry("tp", o.tp() == null), java.util.Map.entry("pp", o.pp() == null),
        java.util.Map.entry("dp", o.dp() == null), java.util.Map.entry("microbatches", o.microbatches() == null),
        java.util.Map.entry("ep", m.isMoe() && o.ep() == null))) {
      if (e.getValue()) {
        out.add(e.getKey());
      }
    }
    return out;
  }

  /**
   * Simulated layers and heads shared by the plans of one search: plans with the same chip shard and
   * microbatch run the same kernels, so each distinct one is simulated once.
   */
  static final class Sims {
    private final Map<String, Sim> runs = new java.util.HashMap<>();

    /** A simulation and its kernels' time and compulsory HBM bytes by label (the programs themselves are not kept). */
    record Sim(WorkloadResult run, Map<String, double[]> kernels) {}

    Sim run(HardwareSpec hw, String key, String label, long tokens, java.util.function.Supplier<List<Step>> steps, RunOptions opts) {
      return runs.computeIfAbsent(key, k -> {
        List<Step> st = steps.get();
        WorkloadResult r = WorkloadRunner.run(hw, new LoweredWorkload(label, st, tokens), opts);
        return new Sim(r, kernels(st, r));
      });
    }
  }

  private static void checkGiven(ModelShape m, Options o, int rpc, String src) {
    boolean routingGiven = o.routing().imbalance() != 1.0 || o.routing().capacityFactor() > 0;
    if (!m.isMoe() && (o.ep() != null || routingGiven)) {
      String key = o.ep() != null ? "ep" : o.routing().imbalance() != 1.0 ? "imbalance" : "capacity";
      String val = o.ep() != null ? o.ep().toString() : String.valueOf(key.equals("imbalance") ? o.routing().imbalance()
          : o.routing().capacityFactor());
      throw new WorkloadException(src, "llm-train." + key, val,
          "ep, imbalance and capacity apply to mixture-of-experts models only; " + m.name() + " is dense");
    }
    if (m.isMoe() && o.ep() != null && m.moe().experts() % o.ep() != 0) {
      throw new WorkloadException(src, "llm-train.ep", o.ep().toString(), "must divide the model's " + m.moe().experts() + " experts");
    }
    if (o.tp() != null && LlmSystem.tpProblem(m, o.tp()) != null) {
      throw new WorkloadException(src, "llm-train.tp", o.tp().toString(), LlmSystem.tpProblem(m, o.tp()));
    }
    if (o.tp() != null && o.tp() % rpc != 0 && rpc % o.tp() != 0) {
      throw new WorkloadException(src, "llm-train.tp", o.tp().toString(), "must be a multiple or a divisor of the " + rpc
          + " ranks per chip (tp counts ranks: logical NeuronCores)");
    }
    if (o.cp() > 1 && o.ep() != null && o.ep() > 1) {
      throw new WorkloadException(src, "llm-train.cp", String.valueOf(o.cp()), "context and expert parallelism together are not modelled");
    }
    if (o.vpp() > 1 && (o.pp() == null || o.pp() < 2 || m.layers() % (o.pp() * o.vpp()) != 0)) {
      throw new WorkloadException(src, "llm-train.vpp", String.valueOf(o.vpp()), "interleaving needs pp >= 2 given and the model's "
          + m.layers() + " layers divisible by pp x vpp");
    }
    if (o.vpp() > 1 && o.microbatches() != null && o.microbatches() % o.pp() != 0) {
      throw new WorkloadException(src, "llm-train.vpp", String.valueOf(o.vpp()), "interleaving needs microbatches divisible by pp ("
          + o.pp() + "), as Megatron-LM's schedule does");
    }
    if (o.pp() != null && o.pp() > m.layers()) {
      throw new WorkloadException(src, "llm-train.pp", o.pp().toString(), "more stages than the model's " + m.layers() + " layers");
    }
    if (o.sp() && o.tp() != null && o.rankSeq() % o.tp() != 0) {
      throw new WorkloadException(src, "llm-train.seq", String.valueOf(o.seq()),
          "must be divisible by tp (" + o.tp() + ") under sequence parallelism");
    }
  }

  /**
   * The given degrees, or the smallest model-parallel group tp x pp (the most data parallelism)
   * whose memory fits, larger tp first at equal size, preferring plans whose data parallelism the
   * global batch can feed; tp a power of two up to max(8, kv heads) chips' worth of ranks that
   * divides heads and ffn, pp a divisor of the layer count, dp the remaining ranks.
   */
  private static Plan choose(HardwareSpec hw, ModelShape m, Options o, int rpc, int totalRanks, double capacity, String src) {
    return fitting(hw, m, o, rpc, totalRanks, capacity, src, false).get(0);
  }

  /** Every plan of the degrees, fitting memory or not, in the default chooser's order of preference (see {@link #fitting}). */
  static List<Plan> enumerate(HardwareSpec hw, ModelShape m, Options o, int rpc, int totalRanks, String src, boolean moreEp) {
    List<Integer> tps = new ArrayList<>();
    if (o.tp() != null) {
      tps.add(o.tp());
    } else {
      for (int tp = 1; tp <= Math.min(Math.max(8, m.kvHeads()) * rpc, totalRanks); tp *= 2) {
        if (LlmSystem.tpProblem(m, tp) == null && (!o.sp() || o.rankSeq() % tp == 0)) {
          tps.add(tp);
        }
      }
    }
    List<Plan> plans = new ArrayList<>();
    for (int tp : tps) {
      for (int pp = 1; pp <= Math.min(m.layers(), totalRanks); pp++) {
        if (o.pp() != null && pp != o.pp() || o.pp() == null && m.layers() % pp != 0) {
          continue;
        }
        if (o.dp() == null && totalRanks % (tp * pp) != 0) {
          continue;
        }
        // context-parallel ranks take their place in the data dimension: dp here counts dp x cp ranks
        int dp = o.dp() != null ? o.dp() * o.cp() : totalRanks / (tp * pp);
        if (dp % o.cp() != 0) {
          continue;
        }
        if ((long) tp * pp * dp > totalRanks || dp == 0) {
          continue;
        }
        int mb = o.microbatches() != null ? o.microbatches()
            : (int) Math.max(1, LlmSystem.ceilDiv(o.globalBatch(), (long) dp / o.cp() * o.mbs()));
        int ep = o.ep() == null ? 1 : o.ep();
        if (dp % ep != 0) {
          continue;
        }
        plans.add(new Plan(tp, pp, dp, mb, ep));
        for (int e = 2; moreEp && o.ep() == null && m.isMoe() && e <= dp; e *= 2) {
          if (dp % e == 0 && m.moe().experts() % e == 0) {
            plans.add(new Plan(tp, pp, dp, mb, e));
          }
        }
      }
    }
    String what = "tp x pp x dp must fit in the " + totalRanks + " ranks (" + hw.totalChips() * o.systems() + " chips x " + rpc
        + " ranks per chip) of " + hw.name() + (o.systems() > 1 ? " x " + o.systems() : "");
    if (o.ep() != null && o.ep() > 1 && plans.isEmpty()) {
      throw new WorkloadException(src, "llm-train.ep", o.ep().toString(), "must divide dp (expert parallelism groups ep data-parallel "
          + "replicas); " + what);
    }
    if (o.tp() != null && plans.isEmpty()) {
      throw new WorkloadException(src, "llm-train.tp", o.tp().toString(), "with the other degrees: " + what);
    }
    if (plans.isEmpty()) {
      throw new WorkloadException(src, o.pp() != null ? "llm-train.pp" : "llm-train.dp", String.valueOf(o.pp() != null ? o.pp() : o.dp()), what);
    }
    // Plans whose data parallelism the global batch can feed (dp x mbs <= global batch) come first.
    java.util.function.ToIntFunction<Plan> starved = p -> (long) p.dp() / o.cp() * o.mbs() > o.globalBatch() ? 1 : 0;
    plans.sort(java.util.Comparator.comparingInt(starved).thenComparingInt((Plan p) -> p.tp() * p.pp())
        .thenComparingInt(p -> -p.tp()));
    return plans;
  }

  /**
   * Every plan whose memory fits, in the default chooser's order of preference (its first is
   * {@link #choose}'s); with {@code moreEp}, MoE plans also at every power-of-two expert-parallel
   * degree that divides dp and the experts (when ep is not given).
   */
  static List<Plan> fitting(HardwareSpec hw, ModelShape m, Options o, int rpc, int totalRanks, double capacity, String src,
      boolean moreEp) {
    List<Plan> plans = enumerate(hw, m, o, rpc, totalRanks, src, moreEp);
    TrainMemory.Memory smallest = null;
    Plan smallestPlan = null;
    List<Plan> fit = new ArrayList<>();
    for (Plan p : plans) {
      TrainMemory.Memory x = memory(m, p, o, rpc);
      if (smallest == null || x.total() < smallest.total()) {
        smallest = x;
        smallestPlan = p;
      }
      if (x.total() <= LlmSystem.HBM_USABLE * capacity) {
        fit.add(p);
      }
    }
    if (!fit.isEmpty()) {
      return fit;
    }
    String key = o.tp() != null ? "llm-train.tp" : o.pp() != null ? "llm-train.pp" : "llm-train.model";
    String val = o.tp() != null ? o.tp().toString() : o.pp() != null ? o.pp().toString() : o.model();
    throw new WorkloadException(src, key, val, String.format(Locale.ROOT,
        "does not fit in HBM: needs %.1f GiB per chip even at tp=%d pp=%d dp=%d (weights %.1f, grads %.1f, optimizer %.1f, "
            + "activations %.1f GiB) but %s has %.0f GiB per chip (%.0f%% usable) and %d chips; use a larger system, "
            + "more pipeline stages, recompute=selective|full, sp=true, or a shorter seq / smaller mbs",
        smallest.total() / LlmSystem.GIB, smallestPlan.tp(), smallestPlan.pp(), smallestPlan.dp(), smallest.weights() / LlmSystem.GIB,
        smallest.grads() / LlmSystem.GIB, smallest.optimizer() / LlmSystem.GIB, smallest.activations() / LlmSystem.GIB, hw.name(),
        capacity / LlmSystem.GIB, 100 * LlmSystem.HBM_USABLE, hw.totalChips() * o.systems()));
  }

  /** Forward, backward and recompute time of a lowered training workload, by kernel label. */
  record Times(double fwd, double bwd, double recompute) {
    /** The per-layer mean of {@code na} layers taking {@code a} and {@code nb} taking {@code b}. */
    static Times mean(Times a, int na, Times b, int nb) {
      double n = na + nb;
      return new Times((a.fwd * na + b.fwd * nb) / n, (a.bwd * na + b.bwd * nb) / n, (a.recompute * na + b.recompute * nb) / n);
    }

    static Times of(WorkloadResult r) {
      double f = 0;
      double b = 0;
      double rc = 0;
      for (var s : r.steps()) {
        double t = s.result().timeSeconds() * s.repeat();
        if (s.label().endsWith(LayerLowering.RECOMPUTE)) {
          rc += t;
        } else if (isBackward(s.label())) {
          b += t;
        } else {
          f += t;
        }
      }
      return new Times(f, b, rc);
    }
  }

  static boolean isBackward(String label) {
    return label.endsWith("_bwd") || label.endsWith("_dx") || label.endsWith("_dw");
  }

  /**
   * The LM head on one chip ({@code hidden x vocabCols} of its ranks), its two backward GEMMs, and
   * the loss: the softmax over the logits (row max, exp and sum, normalise) and its backward
   * (softmax minus one-hot: one read and one write of the logits). Logit rows longer than a
   * partition's share of SBUF are split into chunks (the cross-chunk reductions are not charged).
   */
  static List<Step> headSteps(TargetSpec t, long tokens, long hidden, long vocabCols, DType dt) {
    GemmSpec g = new GemmSpec(tokens, hidden, vocabCols, dt, false, false);
    List<Step> steps = new ArrayList<>();
    steps.addAll(GemmLowering.steps(t, "lm_head", g, t.cores(), 1));
    long chunks = 1;
    while (dt.bytes(LlmSystem.ceilDiv(vocabCols, chunks)) * 4 > t.sbufBytesPerPartition() * 0.8) {
      chunks *= 2;
    }
    long cols = LlmSystem.ceilDiv(vocabCols, chunks);
    steps.add(new Step("loss", NormLowering.lower(t, "softmax", tokens * chunks, cols, dt, t.cores()), 1, dt));
    steps.add(new Step("loss_bwd", StreamLowering.elementwise(t, "exp", tokens * vocabCols, dt, t.cores()), 1, dt));
    steps.addAll(GemmLowering.steps(t, "lm_head_dx", new GemmSpec(tokens, vocabCols, hidden, dt, false, true), t.cores(), 1));
    steps.addAll(GemmLowering.steps(t, "lm_head_dw", new GemmSpec(hidden, tokens, vocabCols, dt, true, false), t.cores(), 1));
    return steps;
  }

  /**
   * A context-parallel rank's layer: each rank holds {@code 2 cp} load-balanced causal chunks' worth
   * of queries (seq / cp of them) against the whole sequence's keys, so its share of the causal
   * attention is {@code 1/cp} of the sequence's: {@code cp} times the causal attention over its own
   * seq / cp tokens that the layer lowering simulated. The attention-core kernels (flash or eager,
   * forward, backward and recompute) are repeated {@code cp} times.
   */
  static List<Step> contextParallel(List<Step> steps, int cp) {
    if (cp == 1) {
      return steps;
    }
    List<Step> out = new ArrayList<>();
    for (Step s : steps) {
      boolean core = s.label().startsWith("attention") || s.label().startsWith("attn_");
      out.add(core ? new Step(s.label(), s.program(), s.repeat() * cp, s.dtype()) : s);
    }
    return out;
  }

  /** Expert-parallel groups: the same (stage, tp rank) of {@code ep} consecutive data-parallel replicas. */
  static List<List<Integer>> epGroups(Plan p) {
    return dataGroups(p, p.ep());
  }

  /** Groups of {@code size} consecutive ranks of the data dimension with the same (stage, tp rank): ep or cp groups. */
  static List<List<Integer>> dataGroups(Plan p, int size) {
    List<List<Integer>> out = new ArrayList<>();
    for (int d0 = 0; d0 < p.dp(); d0 += size) {
      for (int s = 0; s < p.pp(); s++) {
        for (int t = 0; t < p.tp(); t++) {
          List<Integer> g = new ArrayList<>();
          for (int d = d0; d < d0 + size; d++) {
            g.add((d * p.pp() + s) * p.tp() + t);
          }
          out.add(g);
        }
      }
    }
    return out;
  }

  /** The rank groups of a plan. Rank of (replica d, stage s, tp rank t) = (d * pp + s) * tp + t. */
  record Groups(List<List<Integer>> tp, List<List<Integer>> dp, List<List<Integer>> ppPairs) {
    static Groups of(Plan p) {
      List<List<Integer>> tpG = new ArrayList<>();
      List<List<Integer>> dpG = new ArrayList<>();
      List<List<Integer>> pairs = new ArrayList<>();
      for (int d = 0; d < p.dp(); d++) {
        for (int s = 0; s < p.pp(); s++) {
          List<Integer> g = new ArrayList<>();
          for (int t = 0; t < p.tp(); t++) {
            g.add((d * p.pp() + s) * p.tp() + t);
            if (s + 1 < p.pp() && d == 0) {
              pairs.add(List.of((d * p.pp() + s) * p.tp() + t, (d * p.pp() + s + 1) * p.tp() + t));
            }
          }
          tpG.add(g);
        }
      }
      for (int s = 0; s < p.pp(); s++) {
        for (int t = 0; t < p.tp(); t++) {
          List<Integer> g = new ArrayList<>();
          for (int d = 0; d < p.dp(); d++) {
            g.add((d * p.pp() + s) * p.tp() + t);
          }
          dpG.add(g);
        }
      }
      return new Groups(tpG, dpG, pairs);
    }
  }

  /**
   * Tensor-parallel collectives of one microbatch, seconds. Without sequence parallelism a layer
   * all-reduces its activations twice forward (after the output and down projections) and twice
   * backward (the column-parallel layers' input gradients). With it, each all-reduce becomes a
   * reduce-scatter plus an all-gather around the sequence-sharded norms and residuals (forward:
   * all-gather before QKV and before the MLP, reduce-scatter after the output and down projections;
   * backward: the mirror images), and the backward all-gathers each column-parallel layer's input
   * once more for its weight gradient (the forward kept only the sequence shard), as Megatron-LM
   * and NeuronX Distributed do: 10 collectives of the activation size per layer instead of 4.
   * Full recomputation reruns the forward ones; selective-mlp reruns the MLP block's two. The embedding reduces its output (all-reduce, or
   * reduce-scatter under SP); the LM head all-gathers its input under SP (forward and again
   * backward) and reduces its input gradient; the vocabulary-parallel cross-entropy all-reduces
   * three fp32 values per token (max, sum of exponentials, target logit).
   */
  record TpComm(double layerFwd, double layerBwd, double embedding, double headFwd, double headBwd, List<String> lines,
      double linkBytesPerRankPerMicrobatch, Collectives.Result ag, Collectives.Result rs, Collectives.Result ar) {
    TpComm withBackward(double layer, double head) {
      return new TpComm(layerFwd, layer, embedding, headFwd, head, lines, linkBytesPerRankPerMicrobatch, ag, rs, ar);
    }
  }

  static TpComm tpComm(Fabric f, Groups g, Plan p, Options o, ModelShape m, int layers, Collectives.Algo algo) {
    if (p.tp() == 1) {
      return new TpComm(0, 0, 0, 0, 0, List.of(), 0, null, null, null);
    }
    double act = (double) o.mbs() * o.rankSeq() * m.hidden() * o.actBytes();
    int ranks = g.tp().size() * p.tp();
    List<String> lines = new ArrayList<>();
    double lossBytes = 4.0 * o.mbs() * o.rankSeq();
    Collectives.Result loss = Collectives.run(f, Collectives.Op.ALL_REDUCE, g.tp(), lossBytes, algo, DType.FP32, false);
    boolean full = o.recompute() == Recompute.FULL;
    boolean mlpBlock = o.recompute() == Recompute.SELECTIVE_MLP;
    double fwd;
    double bwd;
    double emb;
    double headF;
    double headB;
    double link;
    Collectives.Result ag = null;
    Collectives.Result rs = null;
    Collectives.Result ar = null;
    if (o.sp()) {
      ag = Collectives.run(f, Collectives.Op.ALL_GATHER, g.tp(), act, algo, o.dt(), false);
      rs = Collectives.run(f, Collectives.Op.REDUCE_SCATTER, g.tp(), act, algo, o.dt(), false);
      fwd = 2 * ag.seconds() + 2 * rs.seconds();
      bwd = 4 * ag.seconds() + 2 * rs.seconds() + (full ? fwd : mlpBlock ? ag.seconds() + rs.seconds() : 0);
      emb = rs.seconds();
      headF = ag.seconds() + 3 * loss.seconds();
      headB = ag.seconds() + rs.seconds();
      int ags = full ? 8 : mlpBlock ? 7 : 6;
      int rss = full ? 6 : mlpBlock ? 5 : 4;
      lines.add(LlmSystem.describe("tensor-parallel all-gather (sequence parallel; " + ags + " per layer per microbatch)",
          ag, (long) ags * layers * p.microbatches()));
      lines.add(LlmSystem.describe("tensor-parallel reduce-scatter (sequence parallel; " + rss + " per layer per microbatch)",
          rs, (long) rss * layers * p.microbatches()));
      link = (ag.linkBytes() * ags + rs.linkBytes() * rss) * layers / ranks;
    } else {
      ar = Collectives.run(f, Collectives.Op.ALL_REDUCE, g.tp(), act, algo, o.dt(), false);
      fwd = 2 * ar.seconds();
      bwd = 2 * ar.seconds() + (full ? fwd : mlpBlock ? ar.seconds() : 0);
      emb = ar.seconds();
      headF = 3 * loss.seconds();
      headB = ar.seconds();
      int perLayer = full ? 6 : mlpBlock ? 5 : 4;
      lines.add(LlmSystem.describe("tensor-parallel all-reduce (" + perLayer + " per layer per microbatch)", ar,
          (long) perLayer * layers * p.microbatches()));
      link = ar.linkBytes() * perLayer * layers / ranks;
    }
    lines.add(LlmSystem.describe("vocabulary-parallel cross-entropy all-reduce (3 per microbatch)", loss, 3L * p.microbatches()));
    return new TpComm(fwd, bwd, emb, headF, headB, lines, link, ag, rs, ar);
  }

  /** A backward collective and the GEMM it may run under (it neither feeds nor waits for it). */
  record Overlap(Collectives.Result cc, int hbmTouches, String gemm) {}

  /**
   * The backward tensor-parallel collectives that do not feed the next kernel, each with the GEMM
   * the CC cores can run it under: with sequence parallelism, the weight-gradient regather of a
   * column-parallel layer's input under that layer's dX GEMM and the reduce-scatter of its dX under
   * its dW GEMM (NeuronX Distributed issues the regather before the dX matmul); without, the
   * all-reduce of dX under the dW GEMM (Megatron-LM's asynchronous tensor-parallel all-reduce).
   * {@code hbmTouches}: HBM accesses per byte a rank sends (all-gather: read and write; reduce-
   * scatter: also the local operand; all-reduce: both halves).
   */
  static List<Overlap> backwardOverlaps(TpComm tc, ModelShape m, boolean sp, boolean head) {
    List<String> column = head ? List.of("lm_head") : List.of(m.mlp() == ModelShape.Mlp.SWIGLU ? "gate_up_proj" : "up_proj", "qkv_proj");
    List<Overlap> out = new ArrayList<>();
    for (String c : column) {
      if (sp) {
        out.add(new Overlap(tc.ag(), 2, c + "_dx"));
        out.add(new Overlap(tc.rs(), 3, c + "_dw"));
      } else {
        out.add(new Overlap(tc.ar(), 5, c + "_dw"));
      }
    }
    return out;
  }

  /**
   * Seconds the overlaps hide. An overlapped pair takes the longest of the GEMM, the collective and
   * the time the chip's HBM needs for both (the compulsory GEMM traffic plus the collective's HBM
   * touches of every rank on the chip): the CC cores are separate engines, but HBM (and the DMA
   * engines in front of it) are shared, so overlap is bounded by that contention. A pair is never
   * slower than running the two back to back.
   */
  static double hidden(List<Overlap> overlaps, Map<String, double[]> gemms, int tp, int ranksPerChip, double hbmBytesPerSecond) {
    double saved = 0;
    for (Overlap x : overlaps) {
      double[] g = gemms.get(x.gemm());
      if (g == null || x.cc() == null) {
        continue;
      }
      double cc = x.cc().seconds();
      double ccBytes = ranksPerChip * x.hbmTouches() * x.cc().bytes() * (tp - 1) / tp;
      double pair = Math.max(Math.max(g[0], cc), (g[1] + ccBytes) / hbmBytesPerSecond);
      saved += Math.max(0, g[0] + cc - pair);
    }
    return saved;
  }

  /** The most the overlaps can hide: each overlap saves at most its collective. */
  static double hiddenAtMost(List<Overlap> overlaps) {
    double saved = 0;
    for (Overlap x : overlaps) {
      saved += x.cc() == null ? 0 : x.cc().seconds();
    }
    return saved;
  }

  /** Time and compulsory HBM bytes of each kernel of lowered steps, by label. */
  static Map<String, double[]> kernels(List<Step> steps, WorkloadResult run) {
    Map<String, double[]> out = new java.util.HashMap<>();
    for (int i = 0; i < steps.size(); i++) {
      var r = run.steps().get(i);
      // a GEMM split into sub-GEMMs is several steps with one label: their sum
      out.merge(r.label(), new double[] {r.result().timeSeconds() * r.repeat(), (double) steps.get(i).program().hbmBytesMin() * steps.get(i).repeat()},
          (a, b) -> new double[] {a[0] + b[0], a[1] + b[1]});
    }
    return out;
  }

  /** The data-parallel synchronisation of one step. */
  record DpSync(double exposed, double total, double contention, List<String> lines, double linkBytesPerRank) {}

  /**
   * ZeRO-1: reduce-scatter of the gradients (at the precision's gradient dtype) and, after the
   * optimizer updates its shard, all-gather of the parameters (at the weight dtype); without ZeRO
   * one all-reduce of the gradients. Once per step, after gradient accumulation. With overlap the
   * reduction runs in buckets during the last microbatch's backward ({@link GradientSync}); the
   * parameter all-gather stays after the optimizer. All stages' groups run at once (sharing links),
   * each charged the largest stage's bytes. Overlapped traffic also crosses HBM, which the
   * backward's kernels use: charged as the reduction's local HBM traffic (read the send buffer,
   * read the local shard, write the result: three touches per byte sent) at the chip's sustained
   * bandwidth, for the overlapped part.
   */
  static DpSync dpSync(Fabric f, Groups g, Plan p, Options o, double paramsPerRank, double lastBackward, double hbmBytesPerSecond,
      int rpc) {
    return dpSync(f, g, p, o, paramsPerRank, lastBackward, hbmBytesPerSecond, rpc, false);
  }

  /**
   * As above; {@code bound}: a lower bound for the plan search (the backward is a lower bound, and a
   * longer backward hides more of an overlapped reduction): the overlapped reduction's exposed time
   * plus its HBM contention, {@code e + (1 - e / R) C} for exposed {@code e} in {@code [0, R]}, is at
   * least {@code min(C, R)}.
   */
  static DpSync dpSync(Fabric f, Groups g, Plan p, Options o, double paramsPerRank, double lastBackward, double hbmBytesPerSecond,
      int rpc, boolean bound) {
    if (p.dp() == 1) {
      return new DpSync(0, 0, 0, List.of(), 0);
    }
    Precision prec = o.precision();
    double gradBytes = paramsPerRank * prec.gradBytes();
    DType gradType = prec.gradBytes() == 4 ? DType.FP32 : DType.BF16;
    DType weightType = prec.weightBytes() == 4 ? DType.FP32 : DType.BF16;
    int ranks = g.dp().size() * p.dp();
    List<String> lines = new ArrayList<>();
    if (o.zeroStage() == 3) {
      return new DpSync(0, 0, 0, List.of(), 0); // per layer, in the stages (ZeroComm)
    }
    Collectives.Op reduceOp = o.zero() ? Collectives.Op.REDUCE_SCATTER : Collectives.Op.ALL_REDUCE;
    Collectives.Result whole = Collectives.run(f, reduceOp, g.dp(), gradBytes, Collectives.Algo.AUTO, gradType, false);
    if (o.zeroStage() == 2) {
      // ZeRO-2 keeps only its gradient shard: every microbatch's backward reduce-scatters its gradients (DeepSpeed reduces at
      // each micro-step), then the step all-gathers the updated parameters as ZeRO-1 does
      Collectives.Result ag = Collectives.run(f, Collectives.Op.ALL_GATHER, g.dp(), paramsPerRank * prec.weightBytes(),
          Collectives.Algo.AUTO, weightType, false);
      double t = p.microbatches() * whole.seconds() + ag.seconds();
      List<String> z2 = List.of(LlmSystem.describe("data-parallel gradient reduce-scatter (ZeRO-2, every microbatch)", whole,
          p.microbatches()), LlmSystem.describe("data-parallel parameter all-gather (ZeRO-2)", ag, 1));
      return new DpSync(t, t, 0, z2, (whole.linkBytes() * p.microbatches() + ag.linkBytes()) / ranks);
    }
    double reduce = whole.seconds();
    double exposedReduce = reduce;
    double contention = 0;
    double link = whole.linkBytes() / ranks;
    String how = o.zero() ? "data-parallel gradient reduce-scatter (ZeRO-1)" : "data-parallel gradient all-reduce";
    if (o.dpOverlap()) {
      int n = (int) Math.max(1, LlmSystem.ceilDiv((long) Math.ceil(gradBytes), o.dpBucketBytes()));
      double bucket = Math.min(gradBytes, o.dpBucketBytes());
      double lastBucket = gradBytes - bucket * (n - 1);
      Collectives.Result full = Collectives.run(f, reduceOp, g.dp(), bucket, Collectives.Algo.AUTO, gradType, false);
      Collectives.Result rest = Collectives.run(f, reduceOp, g.dp(), lastBucket, Collectives.Algo.AUTO, gradType, false);
      double[] times = new double[n];
      for (int i = 0; i < n; i++) {
        times[i] = i == n - 1 ? rest.seconds() : full.seconds();
      }
      reduce = full.seconds() * (n - 1) + rest.seconds();
      exposedReduce = GradientSync.exposed(lastBackward, times);
      double overlapped = reduce > 0 ? (reduce - exposedReduce) / reduce : 0;
      double touched = 3 * gradBytes * (p.dp() - 1) / p.dp() * rpc;
      contention = overlapped * touched / hbmBytesPerSecond;
      if (bound) {
        exposedReduce = 0;
        contention = Math.min(touched / hbmBytesPerSecond, reduce);
      }
      link = (full.linkBytes() * (n - 1) + rest.linkBytes()) / ranks;
      lines.add(LlmSystem.describe(how + ", overlapped with the last backward in " + n + " buckets", full, n));
    } else {
      lines.add(LlmSystem.describe(how, whole, 1));
    }
    double gather = 0;
    if (o.zero()) {
      Collectives.Result ag = Collectives.run(f, Collectives.Op.ALL_GATHER, g.dp(), paramsPerRank * prec.weightBytes(),
          Collectives.Algo.AUTO, weightType, false);
      gather = ag.seconds();
      link += ag.linkBytes() / ranks;
      lines.add(LlmSystem.describe("data-parallel parameter all-gather (ZeRO-1)", ag, 1));
    }
    return new DpSync(exposedReduce + gather + contention, reduce + gather, contention, lines, link);
  }

  /**
   * The runtime's fixed cost per execution of a compiled graph: for now the host launch the
   * collective model fitted to nccom-test's floor (an nccom-test collective is one graph execution).
   * The single place to switch to a shared runtime parameter (the inference work's
   * {@code runtime.graph_launch}) once both are on one branch.
   */
  static double graphLaunchSeconds(Fabric f) {
    return f.costs().launchSeconds();
  }

  /** The fabric of the plan's systems, with the collective algorithm policy the workload asks for. */
  static Fabric fabric(HardwareSpec hw, Options o, RankLayout layout) {
    Fabric f = Fabric.of(hw, o.systems(), layout);
    CollectiveCosts c = f.costs();
    boolean sizeBased = o.collectives().equals("config") ? c.sizeBasedAlgorithms() : o.collectives().equals("neuron");
    if (sizeBased == c.sizeBasedAlgorithms()) {
      return f;
    }
    CollectiveCosts policy = new CollectiveCosts(sizeBased, c.launchSeconds(), c.transferOverheadSeconds(), c.dmaRings(),
        c.ringBytesPerSecond(), c.packetBytes(), c.hbmBytesPerSecond(), c.reduceElementsPerSecond(), c.modelsDma());
    return new Fabric(hw.system(), o.systems(), layout.ranksPerChip(),
        hw.chip().hbm().sustainedBytesPerSecond() / layout.ranksPerChip(), policy);
  }

  /** The step of one resolved plan. */
  record StepModel(HardwareSpec hw, ModelShape m, Options o, Plan plan, RankLayout layout, TrainMemory.Memory mem,
      double capacity, EnergyModel energy, RunOptions opts, List<String> defaulted, Sims sims) {

    LlmResult run(WorkloadSpec w) {
      return compose(w, simulate(chipWork()));
    }

    /**
     * A lower bound on this plan's step time: the same composition over {@link StepBound}'s closed-form
     * kernel bounds instead of simulated kernels, with every overlappable tensor-parallel collective
     * taken as hidden, an overlapped data-parallel reduction at the least its exposed time and HBM
     * contention can sum to, and interleaved stages' transfers left out. Every other term of the step
     * is non-decreasing in the kernel times, so this never exceeds {@link #run}'s step.
     */
    double lowerBoundSeconds(WorkloadSpec w) {
      return compose(w, bound(chipWork())).seconds();
    }

    /**
     * What one chip computes of one layer and one microbatch. The chip holds g = min(tp, ranks per
     * chip) ranks of one tensor-parallel group (their shards side by side) and, when tp is smaller,
     * ranks per chip / tp replicas of it (their microbatches side by side).
     */
    record ChipWork(ModelShape shard, LayerLowering.TrainLayer spec, MoeLoad load, long tokens, int g, int replicas, String key) {}

    /** Kernel times a step is composed from: simulated (with the runs and kernels) or lower bounds (runs null). */
    record Kernels(Times layer, Times head, WorkloadResult layerRun, WorkloadResult headRun, Map<String, double[]> layerKernels,
        Map<String, double[]> headKernels) {
      boolean bound() {
        return layerRun == null;
      }
    }

    ChipWork chipWork() {
      int tp = plan.tp();
      ModelShape rank = rankShard(m, tp);
      int g = Math.min(tp, layout.ranksPerChip());
      int replicas = layout.ranksPerChip() / g;
      ModelShape chipShard = m.withWidths(m.name() + "/tp" + tp + "x" + g, rank.heads() * g, rank.kvHeads() * g, rank.ffn() * g,
          rank.vocab() * g);
      if (m.isMoe()) {
        chipShard = chipShard.withMoe(chipShard.name(), scaledExperts(m.moe(), g, tp));
      }
      long batch = o.mbs() * replicas;
      long tokensChip = batch * o.rankSeq();
      long normTokens = o.sp() ? LlmSystem.ceilDiv(tokensChip * g, tp) : tokensChip;
      var layerSpec = new LayerLowering.TrainLayer(batch, o.rankSeq(), normTokens, o.recompute(), o.attention(),
          o.fp8() ? DType.FP8_E4M3 : null);
      MoeLoad load = m.isMoe() ? MoeLoad.of(m.moe(), tokensChip * plan.ep(), plan.ep(), o.routing()) : null;
      return new ChipWork(chipShard, layerSpec, load, tokensChip, g, replicas, chipShard + " " + layerSpec + " " + o.dt() + " " + load);
    }

    /** Sliding-window layers run their own (cheaper) flash attention: the model's windowed layers when the window is shorter than a rank's sequence. */
    private boolean windows() {
      return m.attention().windowLayers() > 0 && o.attention() == Attention.FLASH && m.attention().window() < o.rankSeq();
    }

    /** 1. One layer and the LM head of one microbatch on one chip, at instruction level. */
    Kernels simulate(ChipWork c) {
      TargetSpec target = Targets.of(hw);
      int cp = o.cp();
      ModelShape shardForSim = c.shard();
      long tokensChip = c.tokens();
      var layerSim = sims.run(hw, "layer " + c.key(), "llm-train layer (one microbatch, one chip)", tokensChip,
          () -> contextParallel(LayerLowering.trainSteps(target, shardForSim, c.spec(), o.dt(), c.load()), cp), opts);
      var headSim = sims.run(hw, "head " + tokensChip + " " + shardForSim.vocab() + " " + o.dt(),
          "llm-train LM head and loss (one microbatch, one chip)", tokensChip,
          () -> headSteps(target, tokensChip, m.hidden(), shardForSim.vocab(), o.dt()), opts);
      Times layer = Times.of(layerSim.run());
      if (m.isMoe() && m.moe().denseLayers() > 0) {
        // the leading dense layers: simulated too, the per-layer time the mean over the model's layers
        WorkloadResult dense = sims.run(hw, "dense " + c.key(), "llm-train dense layer (one microbatch, one chip)", tokensChip,
            () -> LayerLowering.trainSteps(target, shardForSim, c.spec(), o.dt(), null), opts).run();
        layer = Times.mean(layer, m.moeLayers(), Times.of(dense), m.moe().denseLayers());
      }
      int windowLayers = m.attention().windowLayers();
      if (windows()) {
        // sliding-window layers (gpt-oss: every other one; Mistral v0.1: all): their flash attention covers only the
        // window, the rest of the layer as above; the per-layer time is the mean over the model's layers
        var windowed = c.spec().withWindow(m.attention().window());
        Times win = Times.of(sims.run(hw, "windowed layer " + c.key(), "llm-train sliding-window layer (one microbatch, one chip)", tokensChip,
            () -> contextParallel(LayerLowering.trainSteps(target, shardForSim, windowed, o.dt(), c.load()), cp), opts).run());
        layer = windowLayers == m.layers() ? win : Times.mean(layer, m.layers() - windowLayers, win, windowLayers);
      }
      return new Kernels(layer, Times.of(headSim.run()), layerSim.run(), headSim.run(), layerSim.kernels(), headSim.kernels());
    }

    /** The closed-form lower bounds of {@link #simulate}'s times (the same layer mix). */
    Kernels bound(ChipWork c) {
      StepBound b = new StepBound(hw);
      Times layer = b.layer(c.shard(), c.spec(), o.dt(), c.load(), o.cp(), false);
      if (m.isMoe() && m.moe().denseLayers() > 0) {
        layer = Times.mean(layer, m.moeLayers(), b.layer(c.shard(), c.spec(), o.dt(), null, o.cp(), false), m.moe().denseLayers());
      }
      int windowLayers = m.attention().windowLayers();
      if (windows()) {
        Times win = b.layer(c.shard(), c.spec(), o.dt(), c.load(), o.cp(), true);
        layer = windowLayers == m.layers() ? win : Times.mean(layer, m.layers() - windowLayers, win, windowLayers);
      }
      return new Kernels(layer, b.head(c.tokens(), m.hidden(), c.shard().vocab(), o.dt()), null, null, null, null);
    }

    private LlmResult compose(WorkloadSpec w, Kernels k) {
      int tp = plan.tp();
      int pp = plan.pp();
      int dp = plan.dp();
      int mbCount = plan.microbatches();
      int rpc = layout.ranksPerChip();
      int chips = layout.chipsFor(plan.ranks());
      List<String> notes = new ArrayList<>();
      int cp = o.cp();
      long sequences = (long) dp / cp * mbCount * o.mbs();
      if (sequences != o.globalBatch()) {
        notes.add(String.format(Locale.ROOT, "global batch %d sequences is not dp x microbatches x mbs = %d x %d x %d; "
            + "the step runs %d sequences", o.globalBatch(), dp / cp, mbCount, o.mbs(), sequences));
      }
      int layers = plan.layersPerStage(m);
      if (m.layers() % pp != 0) {
        notes.add("layers do not divide evenly over " + pp + " stages; every stage is charged " + layers + " layers");
      }
      ModelShape rank = rankShard(m, tp);
      ChipWork c = chipWork();
      int g = c.g();
      int replicas = c.replicas();
      long tokensChip = c.tokens();
      WorkloadResult layerRun = k.layerRun();
      WorkloadResult headRun = k.headRun();
      Times layer = k.layer();
      Times head = k.head();

      // 2. Collectives over rank groups on the fabric (cores of a chip, chips of an instance, instances over EFA).
      Fabric fabric = fabric(hw, o, layout);
      Groups groups = Groups.of(plan);
      List<String> coll = new ArrayList<>();
      TpComm tc = tpComm(fabric, groups, plan, o, m, layers, Collectives.Algo.AUTO);
      double hbm = hw.chip().hbm().sustainedBytesPerSecond();
      double tpHidden = 0;
      if (o.tpOverlap() && tp > 1) {
        // a bound takes every overlappable collective as hidden (an overlap saves at most the collective)
        double layerHidden = k.bound() ? hiddenAtMost(backwardOverlaps(tc, m, o.sp(), false))
            : hidden(backwardOverlaps(tc, m, o.sp(), false), k.layerKernels(), tp, rpc, hbm);
        double headHidden = k.bound() ? hiddenAtMost(backwardOverlaps(tc, m, o.sp(), true))
            : hidden(backwardOverlaps(tc, m, o.sp(), true), k.headKernels(), tp, rpc, hbm);
        tpHidden = mbCount * (layers * layerHidden + (pp == 1 ? headHidden : 0));
        tc = tc.withBackward(tc.layerBwd() - layerHidden, tc.headBwd() - headHidden);
        notes.add(String.format(Locale.ROOT, "tp_overlap: backward tensor-parallel collectives under independent GEMMs hide %s "
            + "per step (bounded by the chip's HBM bandwidth shared with the GEMMs)", LlmSystem.seconds(tpHidden)));
      }
      coll.addAll(tc.lines());
      double linkBytesPerRank = tc.linkBytesPerRankPerMicrobatch() * mbCount;
      // Expert-parallel dispatch and combine: two all-to-alls per MoE layer forward, two backward (two more when the forward is rerun).
      double z3Fwd = 0;
      double z3Bwd = 0;
      if (o.zeroStage() == 3 && dp > 1) {
        // ZeRO-3: each layer's parameters are gathered before its forward and again before its backward (and its
        // recompute), and its gradients reduce-scattered after its backward, every microbatch; on the critical path
        // (the prefetch that would hide them behind the previous layer is not modelled)
        double perLayerParams = rankLayerParams(m, rank, plan.ep());
        DType wt = o.precision().weightBytes() == 4 ? DType.FP32 : DType.BF16;
        DType gt = o.precision().gradBytes() == 4 ? DType.FP32 : DType.BF16;
        Collectives.Result ag = Collectives.run(fabric, Collectives.Op.ALL_GATHER, groups.dp(), perLayerParams * o.precision().weightBytes(),
            Collectives.Algo.AUTO, wt, false);
        Collectives.Result rs = Collectives.run(fabric, Collectives.Op.REDUCE_SCATTER, groups.dp(), perLayerParams * o.precision().gradBytes(),
            Collectives.Algo.AUTO, gt, false);
        z3Fwd = ag.seconds();
        z3Bwd = (o.recompute() == Recompute.FULL ? 2 : 1) * ag.seconds() + rs.seconds();
        coll.add(LlmSystem.describe("ZeRO-3 parameter all-gather (per layer, forward and backward)", ag,
            (long) (o.recompute() == Recompute.FULL ? 3 : 2) * layers * mbCount));
        coll.add(LlmSystem.describe("ZeRO-3 gradient reduce-scatter (per layer)", rs, (long) layers * mbCount));
        linkBytesPerRank += (ag.linkBytes() * (o.recompute() == Recompute.FULL ? 3 : 2) + rs.linkBytes()) / (groups.dp().size() * dp)
            * layers * mbCount;
      }
      // Context parallelism: each layer gathers the other ranks' keys and values of the sequence before its attention
      // (forward, and again for the backward and a full recompute) and reduce-scatters their gradients after it; exposed
      // (the ring's overlap with the attention blocks is not modelled)
      double cpFwd = 0;
      double cpBwd = 0;
      if (cp > 1) {
        double kv = 2.0 * o.mbs() * o.seq() * rank.kvHeads() * m.headDim() * o.actBytes();
        var cpg = dataGroups(plan, cp);
        Collectives.Result ag = Collectives.run(fabric, Collectives.Op.ALL_GATHER, cpg, kv, Collectives.Algo.AUTO, o.dt(), false);
        Collectives.Result rs = Collectives.run(fabric, Collectives.Op.REDUCE_SCATTER, cpg, kv, Collectives.Algo.AUTO, o.dt(), false);
        cpFwd = ag.seconds();
        cpBwd = (o.recompute() == Recompute.FULL ? 2 : 1) * ag.seconds() + rs.seconds();
        int ags = o.recompute() == Recompute.FULL ? 3 : 2;
        coll.add(LlmSystem.describe("context-parallel K/V all-gather (" + ags + " per layer per microbatch)", ag, (long) ags * layers * mbCount));
        coll.add(LlmSystem.describe("context-parallel dK/dV reduce-scatter (1 per layer per microbatch)", rs, (long) layers * mbCount));
        linkBytesPerRank += (ag.linkBytes() * ags + rs.linkBytes()) / (cpg.size() * cp) * layers * mbCount;
      }
      double a2aFwd = 0;
      double a2aBwd = 0;
      double moeLayersPerStage = (double) layers * m.moeLayers() / m.layers();
      if (plan.ep() > 1) {
        Collectives.Result a2a = Collectives.run(fabric, Collectives.Op.ALL_TO_ALL, epGroups(plan),
            LlmInference.a2aBytes(m, o.mbs() * o.rankSeq(), tp, o.dt()), Collectives.Algo.AUTO, o.dt(), false);
        a2aFwd = 2 * a2a.seconds();
        a2aBwd = (o.recompute() == Recompute.FULL ? 4 : 2) * a2a.seconds();
        long perStep = Math.round(moeLayersPerStage * (o.recompute() == Recompute.FULL ? 6 : 4) * mbCount);
        coll.add(LlmSystem.describe("expert-parallel all-to-all (dispatch + combine per MoE layer, forward and backward)", a2a, perStep));
        linkBytesPerRank += a2a.linkBytes() / (epGroups(plan).size() * plan.ep()) * perStep;
      }
      double transfer = 0;
      if (pp > 1) {
        Collectives.Result p2p = Collectives.run(fabric, Collectives.Op.SEND_RECV, groups.ppPairs().subList(0, tp),
            (double) o.mbs() * o.rankSeq() * m.hidden() * o.actBytes() / tp, Collectives.Algo.AUTO);
        transfer = p2p.seconds();
        coll.add(LlmSystem.describe("pipeline send/recv per microbatch and direction (1/tp of the activations per rank)", p2p,
            2L * mbCount));
        linkBytesPerRank += p2p.linkBytes() / tp * 2 * mbCount;
      }
      boolean only = pp == 1;
      double perLayer = rankLayerParams(m, rank, plan.ep());
      double firstParams = TrainMemory.stageParams(m, rank, layers, true, only, only, perLayer);
      double lastParams = TrainMemory.stageParams(m, rank, layers, only, true, only, perLayer);
      double paramsPerRank = Math.max(firstParams, lastParams);
      Precision prec = o.precision();
      // Gradient accumulation: from the second microbatch on, each weight gradient is added into the accumulation
      // buffer (read the fresh gradient, read and write the buffer), at the chip's sustained HBM bandwidth.
      double accumPerMb = mbCount > 1 ? rpc * paramsPerRank * (prec.weightBytes() + 2.0 * prec.gradBytes()) / hbm : 0;

      // 3. The 1F1B pipeline of stages made of simulated layers plus their collectives.
      double[] fwd = new double[pp];
      double[] bwd = new double[pp];
      double[] work = new double[pp];
      for (int s = 0; s < pp; s++) {
        boolean first = s == 0;
        boolean last = s == pp - 1;
        fwd[s] = layers * (layer.fwd() + tc.layerFwd() + z3Fwd + cpFwd) + moeLayersPerStage * a2aFwd + (first ? tc.embedding() : 0)
            + (last ? head.fwd() + tc.headFwd() : 0);
        bwd[s] = layers * (layer.bwd() + layer.recompute() + tc.layerBwd() + z3Bwd + cpBwd) + moeLayersPerStage * a2aBwd
            + (last ? head.bwd() + tc.headBwd() : 0)
            + accumPerMb * (mbCount - 1) / mbCount;
        work[s] = fwd[s] + bwd[s];
      }
      int critical = 0;
      for (int s = 1; s < pp; s++) {
        critical = work[s] > work[critical] ? s : critical;
      }
      Pipeline1F1B.Schedule sched = Pipeline1F1B.run(fwd, bwd, mbCount, transfer);
      Pipeline1F1B.Schedule noTransfer = Pipeline1F1B.run(fwd, bwd, mbCount, 0);
      boolean cFirst = critical == 0;
      boolean cLast = critical == pp - 1;
      double compute = mbCount * (layers * (layer.fwd() + layer.bwd()) + (cLast ? head.fwd() + head.bwd() : 0));
      double recompute = mbCount * layers * layer.recompute();
      double tpTime = mbCount * (layers * (tc.layerFwd() + tc.layerBwd()) + (cFirst ? tc.embedding() : 0)
          + (cLast ? tc.headFwd() + tc.headBwd() : 0));
      double accum = accumPerMb * (mbCount - 1);
      double epTime = mbCount * moeLayersPerStage * (a2aFwd + a2aBwd);
      double bubble = Math.max(0, noTransfer.seconds() - mbCount * work[critical]);
      double ppComm = sched.seconds() - noTransfer.seconds();
      double pipeline = sched.seconds();
      if (o.vpp() > 1) {
        // Interleaved 1F1B (Narayanan et al. 2021, section 2.2.2): each device runs vpp model chunks of layers/(pp x vpp)
        // layers, so warm-up and drain shrink by vpp (bubble (p-1)/(v m) of the ideal) while each microbatch crosses vpp
        // times as many stage boundaries (vpp times the transfers on the critical path).
        bubble /= o.vpp();
        // a bound leaves the transfers out: with shorter stages more of them may show, so they are not monotone
        ppComm = k.bound() ? 0 : ppComm * o.vpp();
        pipeline = mbCount * work[critical] + bubble + ppComm;
      }

      // 4. Data-parallel synchronisation and the optimizer.
      DpSync dps = dpSync(fabric, groups, plan, o, paramsPerRank, bwd[0], hbm, rpc, k.bound());
      coll.addAll(dps.lines());
      linkBytesPerRank += dps.linkBytesPerRank();
      // Adam on each rank's optimizer shard (state, gradient, weights), the gradient-norm read of the shard for
      // clipping, and zeroing the whole accumulation buffer for the next step, at the sustained HBM bandwidth.
      double shard = paramsPerRank / (o.zero() ? dp : 1);
      double gradsHeld = o.zeroStage() >= 2 ? shard : paramsPerRank;
      int adam = o.fusedOptimizer() ? prec.adamBytes() : prec.unfusedAdamBytes();
      double optTime = rpc * (shard * (adam + prec.gradBytes()) + gradsHeld * prec.gradBytes()) / hbm;

      // Graph launches: each microbatch's forward + backward is one compiled graph, the optimizer step another
      // (PyTorch/XLA marks a step per microbatch); each execution pays the runtime's host launch, the same
      // per-NEFF cost a standalone collective pays (chip.collectives.launch).
      double runtime = (mbCount + 1) * graphLaunchSeconds(fabric);
      double step = pipeline + dps.exposed() + optTime + runtime;
      Map<String, Double> breakdown = new LinkedHashMap<>();
      breakdown.put("compute", compute);
      breakdown.put("recompute", recompute);
      breakdown.put("tp_comm", tpTime);
      if (plan.ep() > 1) {
        breakdown.put("ep_comm", epTime);
      }
      if (cp > 1) {
        breakdown.put("cp_comm", mbCount * layers * (cpFwd + cpBwd));
      }
      breakdown.put("pp_comm", ppComm);
      breakdown.put("pipeline_bubble", bubble);
      breakdown.put("grad_accum", accum);
      breakdown.put("dp_comm", dps.exposed() + mbCount * layers * (z3Fwd + z3Bwd));
      breakdown.put("optimizer", optTime);
      breakdown.put("runtime", runtime);
      // The pipeline's own sum differs from its parts by the rounding residue of a bubble-free schedule.
      double residue = step - breakdown.values().stream().mapToDouble(Double::doubleValue).sum();
      breakdown.put("pipeline_bubble", bubble + residue);

      addNotes(notes, layerRun, dps, layers, tokensChip, g, replicas, rpc, bubble, noTransfer);
      double tokens = (double) sequences * o.seq();
      double modelFlops = modelFlopsPerToken(m, o.seq()) * tokens;
      double mfu = modelFlops / (step * chips * LlmSystem.peak(hw, o.dt()));

      Map<String, Double> memory = new LinkedHashMap<>();
      memory.put("weights", mem.weights());
      memory.put("gradients", mem.grads());
      memory.put("optimizer", mem.optimizer());
      memory.put("activations", mem.activations());
      memory.put("total", mem.total());
      memory.put("capacity", capacity);

      double joules = k.bound() ? Double.NaN : energy(List.of(layerRun, headRun), layerRun, layers, mbCount, step, chips, linkBytesPerRank * rpc);
      double cost = step * chips * hw.system().pricePerChipHourUsd() / 3600;
      Map<String, Integer> par = new LinkedHashMap<>();
      par.put("tp", tp);
      par.put("pp", pp);
      par.put("dp", dp / cp);
      if (cp > 1) {
        par.put("cp", cp);
      }
      if (m.isMoe()) {
        par.put("ep", plan.ep());
      }
      par.put("microbatches", mbCount);
      par.put("mbs", (int) o.mbs());
      par.put("systems", o.systems());
      par.put("ranks_per_chip", rpc);
      return new LlmResult(hw.name(), w.toString(), "train", par, defaulted, chips, step, tokens, breakdown, memory, mfu,
          modelFlops, joules, cost, layerRun, coll, notes);
    }

    private void addNotes(List<String> notes, WorkloadResult layerRun, DpSync dps, int layers, long tokensChip, int g, int replicas,
        int rpc, double bubble, Pipeline1F1B.Schedule noTransfer) {
      int pp = plan.pp();
      if (pp > 1) {
        notes.add(String.format(Locale.ROOT, "1F1B: %d stages, %d microbatches: bubble %.1f%% of the pipeline "
            + "(balanced-stage formula (p-1)/(m+p-1) = %.1f%%; the last stage also runs the LM head)",
            pp, plan.microbatches(), 100 * bubble / noTransfer.seconds(), 100.0 * (pp - 1) / (plan.microbatches() + pp - 1)));
        if (o.vpp() > 1) {
          notes.add(String.format(Locale.ROOT, "interleaved 1F1B: %d model chunks per stage; bubble (p-1)/(v m) = %.1f%% of the ideal "
              + "pipeline, %dx the stage-boundary transfers", o.vpp(), 100.0 * (pp - 1) / (o.vpp() * plan.microbatches()), o.vpp()));
        }
      }
      notes.add(String.format(Locale.ROOT, "ranks: tp=%d pp=%d dp=%d = %d ranks at %d per chip (lnc=%d) on %d chips; a chip runs %d "
          + "rank shard%s of its tensor-parallel group%s", plan.tp(), pp, plan.dp(), plan.ranks(), rpc, layout.lnc(),
          layout.chipsFor(plan.ranks()), g, g == 1 ? "" : "s", replicas > 1 ? " for " + replicas + " replicas" : ""));
      notes.add("training as deployed: framework " + o.framework().name().toLowerCase(Locale.ROOT).replace('_', '-') + ", precision "
          + o.precision().label() + " (" + o.precision().weightBytes() + " B weights, "
          + o.precision().gradBytes() + " B gradients, " + o.precision().stateBytes() + " B optimizer state per parameter), recompute="
          + o.recompute().label() + ", sp=" + o.sp() + ", attn=" + o.attention().name().toLowerCase(Locale.ROOT)
          + ", zero=" + o.zeroStage() + ", dp_overlap=" + o.dpOverlap()
          + (dps.contention() > 0 ? String.format(Locale.ROOT, " (HBM contention of the overlapped reduction %s)",
              LlmSystem.seconds(dps.contention())) : ""));
      notes.add("simulated: one " + plan.tp() + "-way-sharded layer (forward + backward, " + tokensChip
          + " tokens) and the LM head with its loss on one chip; composed: x" + layers + " layers per stage, x" + plan.microbatches()
          + " microbatches, collectives on the " + hw.system().topology().type() + " fabric"
          + (o.systems() > 1 ? " and EFA between " + o.systems() + " systems" : ""));
      notes.add("not overlapped: tensor-parallel collectives are on the critical path; embedding lookup and RoPE are not charged; "
          + "optimizer and gradient accumulation are HBM-bandwidth time");
    }

    private double energy(List<WorkloadResult> parts, WorkloadResult layerRun, int layers, int mbCount, double step, int chips,
        double linkBytesPerChip) {
      if (energy == null) {
        return Double.NaN;
      }
      double perChip = 0;
      double kernelTime = 0;
      for (WorkloadResult part : parts) {
        for (var s : part.steps()) {
          long times = s.repeat() * (long) mbCount * (part == layerRun ? layers : 1);
          perChip += energy.report(s.result().stats(), s.result().timeSeconds()).totalEnergyJ() * times;
          kernelTime += s.result().timeSeconds() * times;
        }
      }
      perChip += energy.staticPowerW() * Math.max(0, step - kernelTime);
      if (energy.table().link() != null) {
        perChip += linkBytesPerChip * energy.energyPj("link.byte") * 1e-12;
      }
      return perChip * chips;
    }
  }

  /**
   * Model FLOPs per trained token: 6 x (the layers' parameters + the LM head's matmul), plus causal
   * attention 6 x layers x seq x heads x head_dim (half of the 12 L s d_attn of full attention).
   * Recomputation is not model work, so it does not count.
   */
  static double modelFlopsPerToken(ModelShape m, long seq) {
    // active parameters: a MoE token runs its top-k experts only
    double dense = (double) m.activeDecoderParameters() + (double) m.vocab() * m.hidden();
    return 6.0 * dense + 6.0 * m.layers() * seq * m.heads() * m.headDim();
  }
}
