package trnsim.isa.lower;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import trnsim.isa.DType;
import trnsim.isa.Program;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * One decoder layer on one chip (all its cores), as a sequence of kernels: norm (RMSNorm or
 * LayerNorm), QKV projection, attention, output projection, residual add, norm, then the MLP
 * (SwiGLU: gate+up projection, SiLU*mul, down projection; GELU: up projection, GELU, down
 * projection), residual add. Prefill runs causal flash attention over
 * {@code seq}; decode runs one token per sequence against a KV cache of {@code ctx}; train runs the
 * prefill forward and then the backward kernels in reverse order (every GEMM's backward is dX = dY
 * W^T and dW = X^T dY, each with the forward's FLOPs; attention backward; element-wise and norm
 * backward kernels modelled by their forward kernels, which move the same bytes).
 *
 * <p>Simplified: no tensor parallelism (the whole layer on one chip), no KV-cache write in decode,
 * RoPE and the softmax scale are not emitted (both fuse into neighbouring kernels on real
 * hardware), SiLU*mul is emitted as the element-wise multiply (the SiLU rides the scalar engine
 * during the multiply's load), biases (GPT-style models) are separate element-wise passes after
 * their GEMMs (their gradients ride with the weight gradients), and kernel boundaries are full
 * synchronisation points (no fusion across kernels).
 */
public final class LayerLowering {
  private LayerLowering() {}

  public static LoweredWorkload lower(TargetSpec t, WorkloadSpec w, Function<String, ModelShape> models) {
    String name = w.string("model", null);
    String phase = w.choice("phase", null, "prefill", "decode", "train");
    long batch = w.positive("batch", 1L);
    long seq = phase.equals("decode") ? 1 : w.positive("seq", 2048L);
    long ctx = phase.equals("decode") ? w.positive("ctx", 4096L) : 0;
    DType dt = w.dtype("dtype", DType.BF16);
    long ep = w.positive("ep", 1L);
    double imbalance = w.number("imbalance", 1.0);
    double capacity = w.number("capacity", 0.0);
    boolean windowed = w.bool("windowed", false);
    w.finish();
    ModelShape m = models == null ? null : models.apply(name);
    if (m == null) {
      throw new WorkloadException(w.source(), "layer.model", name, "unknown model" + (models == null ? " (no model table given)" : ""));
    }
    if (m.attention().mla() != null && phase.equals("decode")) {
      throw new WorkloadException(w.source(), "layer.phase", phase,
          "latent-attention (MLA) decode runs in its absorbed form in llm-infer only (prefill and train run here)");
    }
    MoeLoad load = null;
    if (m.isMoe()) {
      if (m.moe().experts() % ep != 0) {
        throw new WorkloadException(w.source(), "layer.ep", String.valueOf(ep), "must divide the model's " + m.moe().experts() + " experts");
      }
      try {
        load = MoeLoad.of(m.moe(), batch * seq * ep, (int) ep, new MoeLoad.Routing(imbalance, capacity));
      } catch (IllegalArgumentException e) {
        throw new WorkloadException(w.source(), "layer." + (e.getMessage().startsWith("imbalance") ? "imbalance" : "capacity"),
            String.valueOf(e.getMessage().startsWith("imbalance") ? imbalance : capacity), e.getMessage());
      }
    } else if (ep != 1 || w.has("imbalance") || w.has("capacity")) {
      throw new WorkloadException(w.source(), "layer.ep", String.valueOf(ep), "ep, imbalance and capacity apply to mixture-of-experts models only");
    }
    if (windowed && m.attention().window() == 0) {
      throw new WorkloadException(w.source(), "layer.windowed", "true", "the model has no sliding-window layers");
    }
    long span = phase.equals("decode") ? m.attention().span(ctx, windowed) : ctx;
    long window = windowed && !phase.equals("decode") ? m.attention().window() : 0;
    return new LoweredWorkload(w.toString(), steps(t, m, phase, batch, seq, span, dt, load, window), batch * seq);
  }

  /** How a layer's attention core is computed. */
  public enum Attention {
    /** One fused flash-attention kernel (scores stay on chip; its backward recomputes them). */
    FLASH,
    /**
     * Eager attention as frameworks without a fused kernel run it: a batched QK^T GEMM, a softmax
     * kernel over the materialised {@code s x s} scores, and a batched PV GEMM, per query head.
     */
    EAGER,
    /**
     * Eager attention whose softmax scale and causal mask run as their own element-wise passes over
     * the materialised scores, forward and backward, as Megatron-LM's unfused softmax path issues them
     * ({@code --no-masked-softmax-fusion}: FusedScaleMaskSoftmax.forward_torch_softmax multiplies by
     * the query-key layer-scaling coefficient, then masked_fill, then softmax).
     */
    EAGER_UNFUSED;

    public static Attention parse(String s) {
      return switch (s.toLowerCase(java.util.Locale.ROOT)) {
        case "flash" -> FLASH;
        case "eager" -> EAGER;
        case "eager-unfused", "eager_unfused" -> EAGER_UNFUSED;
        default -> throw new IllegalArgumentException("must be flash, eager or eager-unfused");
      };
    }

    /** The workload value. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  /** Activation recomputation in the backward pass. */
  public enum Recompute {
    /** Every activation the backward needs is kept. */
    NONE,
    /**
     * The cheap, memory-heavy parts are recomputed (Korthikanti et al. 2022, "selective"): the
     * attention core (QK^T, softmax, PV) just before its backward, and the gated MLP's activation
     * SiLU(gate) * up just before its backward (as NeuronX Distributed's selective checkpointing
     * does). A flash-attention kernel already recomputes its scores inside its backward and keeps
     * only its output and row statistics, so selective adds no attention kernel there.
     */
    SELECTIVE,
    /**
     * Selective plus the whole MLP block (its projections and activation) rerun before its
     * backward, keeping only the block's input: NeuronX Distributed's Llama TP+PP example
     * checkpoints {@code (CoreAttention, LlamaMLP)} at sequence length 8192 "as it produces large
     * activation maps".
     */
    SELECTIVE_MLP,
    /** Only each layer's input is kept; its whole forward is rerun before its backward. */
    FULL;

    public static Recompute parse(String s) {
      return switch (s.toLowerCase(java.util.Locale.ROOT)) {
        case "none" -> NONE;
        case "selective" -> SELECTIVE;
        case "selective-mlp" -> SELECTIVE_MLP;
        case "full" -> FULL;
        default -> throw new IllegalArgumentException("must be none, selective, selective-mlp or full");
      };
    }

    /** The workload value. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /** Recomputes the attention core and the gated MLP activation (selective and above). */
    public boolean selective() {
      return this == SELECTIVE || this == SELECTIVE_MLP;
    }
  }

  /**
   * One training layer's work on one chip.
   *
   * @param batch sequences whose layer this chip computes (a microbatch, times the data-parallel
   *     replicas that share the chip when ranks are cores)
   * @param seq tokens per sequence
   * @param normTokens tokens the hidden-wide element-wise kernels (norms, residual adds) run over:
   *     {@code batch x seq}, or {@code / tp} of it per rank under sequence parallelism
   * @param recompute what the backward recomputes
   * @param attention flash or eager attention core
   * @param gemmDtype type of the projections' GEMMs, forward and backward (fp8 mixed training:
   *     FP8_E4M3 with the attention core, norms and element-wise kernels at the layer's type), or
   *     null for the layer's type
   * @param window sliding-window width of the layer's flash attention ({@link AttentionSpec#windowed}), 0 for full causal
   */
  public record TrainLayer(long batch, long seq, long normTokens, Recompute recompute, Attention attention, DType gemmDtype,
      long window) {
    public TrainLayer {
      if (batch <= 0 || seq <= 0 || normTokens <= 0 || window < 0) {
        throw new IllegalArgumentException("batch, seq and normTokens must be positive, window not negative");
      }
    }

    /** Full causal attention. */
    public TrainLayer(long batch, long seq, long normTokens, Recompute recompute, Attention attention, DType gemmDtype) {
      this(batch, seq, normTokens, recompute, attention, gemmDtype, 0);
    }

    /** The same layer attending within a sliding window of {@code w} keys. */
    public TrainLayer withWindow(long w) {
      return new TrainLayer(batch, seq, normTokens, recompute, attention, gemmDtype, w);
    }

    /** GEMMs at the layer's type. */
    public TrainLayer(long batch, long seq, long normTokens, Recompute recompute, Attention attention) {
      this(batch, seq, normTokens, recompute, attention, null);
    }

    /** No recomputation, no sequence parallelism, flash attention. */
    public static TrainLayer plain(long batch, long seq) {
      return new TrainLayer(batch, seq, batch * seq, Recompute.NONE, Attention.FLASH);
    }
  }

  /** Suffix of the kernels a training layer reruns in its backward pass (recomputation). */
  public static final String RECOMPUTE = "_recompute";

  /** The kernels of one layer in execution order. */
  public static List<Step> steps(TargetSpec t, ModelShape m, String phase, long batch, long seq, long ctx, DType dt) {
    return steps(t, m, phase, batch, seq, ctx, dt, null);
  }

  /** As above; {@code moe}: the MLP is the mixture of experts with this rank's load (null: the dense MLP). */
  public static List<Step> steps(TargetSpec t, ModelShape m, String phase, long batch, long seq, long ctx, DType dt, MoeLoad moe) {
    return steps(t, m, phase, batch, seq, ctx, dt, moe, 0);
  }

  /** As above; {@code window}: prefill and train attend within a sliding window of this many keys (0: full causal). */
  public static List<Step> steps(TargetSpec t, ModelShape m, String phase, long batch, long seq, long ctx, DType dt, MoeLoad moe,
      long window) {
    if (phase.equals("train")) {
      return trainSteps(t, m, TrainLayer.plain(batch, seq).withWindow(window), dt, moe);
    }
    return forward(t, m, phase, batch, seq, batch * seq, ctx, Attention.FLASH, dt, moe, dt, window).steps;
  }

  /**
   * A training layer: the forward kernels, then the backward kernels in reverse order, with the
   * recomputed forward kernels (labels ending in {@link #RECOMPUTE}) where the backward reruns them.
   * Every GEMM's backward is dX = dY W^T and dW = X^T dY, each with the forward's FLOPs; element-wise
   * and norm backward kernels are modelled by their forward kernels, which move the same bytes.
   */
  public static List<Step> trainSteps(TargetSpec t, ModelShape m, TrainLayer o, DType dt) {
    return trainSteps(t, m, o, dt, null);
  }

  /** As above; {@code moe}: the MLP is the mixture of experts with this chip's load ({@link MoeLowering}), null for dense. */
  public static List<Step> trainSteps(TargetSpec t, ModelShape m, TrainLayer o, DType dt, MoeLoad moe) {
    int cores = t.cores();
    Forward f = forward(t, m, "train", o.batch(), o.seq(), o.normTokens(), 0, o.attention(), dt, moe,
        o.gemmDtype() == null ? dt : o.gemmDtype(), o.window());
    List<Step> steps = new ArrayList<>(f.steps);
    if (o.recompute() == Recompute.FULL) {
      for (Step s : f.steps) {
        steps.add(new Step(s.label() + RECOMPUTE, s.program(), s.repeat(), s.dtype()));
      }
    }
    boolean selective = o.recompute().selective();
    boolean mlpBlock = o.recompute() == Recompute.SELECTIVE_MLP;
    String norm = m.norm().kernel();
    steps.add(new Step("residual_mlp_bwd", f.residual, 1, dt));
    if (mlpBlock) {
      for (Step s : f.mlp) {
        steps.add(new Step(s.label() + RECOMPUTE, s.program(), s.repeat(), s.dtype()));
      }
    }
    if (moe != null) {
      steps.addAll(MoeLowering.backward(t, m, moe, o.batch() * o.seq(), dt, selective && !mlpBlock));
    } else {
      denseMlpBackward(t, steps, m, f, o, dt, selective && !mlpBlock);
    }
    steps.add(new Step(norm + "_mlp_bwd", f.norm, 1, dt));
    attentionBackward(t, steps, m, f, o, dt);
    return steps;
  }

  /** The dense MLP's backward: down projection, activation (recomputed first when selective), up projection. */
  private static void denseMlpBackward(TargetSpec t, List<Step> steps, ModelShape m, Forward f, TrainLayer o, DType dt,
      boolean recomputeActivation) {
    int cores = t.cores();
    boolean gated = m.mlp() == ModelShape.Mlp.SWIGLU;
    addGemmBackward(t, steps, "down_proj", f.down, cores);
    if (gated) {
      if (recomputeActivation) {
        steps.add(new Step("silu_mul" + RECOMPUTE, f.activation, 1, dt));
      }
      steps.add(new Step("silu_mul_bwd", f.activation, 2, dt));
      addGemmBackward(t, steps, "gate_up_proj", f.up, cores);
    } else {
      // GELU'(x) * dY: reads the saved input and the gradient, writes one tensor (the bytes of a binary op).
      steps.add(new Step("gelu_bwd", StreamLowering.elementwise(t, "mul", o.batch() * o.seq() * m.ffn(), dt, cores), 1, dt));
      addGemmBackward(t, steps, "up_proj", f.up, cores);
    }
  }

  private static void attentionBackward(TargetSpec t, List<Step> steps, ModelShape m, Forward f, TrainLayer o, DType dt) {
    int cores = t.cores();
    String norm = m.norm().kernel();
    boolean selective = o.recompute().selective();
    steps.add(new Step("residual_attn_bwd", f.residual, 1, dt));
    addGemmBackward(t, steps, "o_proj", f.oProj, cores);
    if (o.attention() == Attention.FLASH) {
      steps.addAll(AttentionSplit.steps(t, "attention_bwd", f.attn, cores, true));
    } else {
      if (selective) {
        for (Step s : f.eager) {
          steps.add(new Step(s.label() + RECOMPUTE, s.program(), s.repeat(), s.dtype()));
        }
      }
      addEagerBackward(t, steps, f.attn, cores, o.attention() == Attention.EAGER_UNFUSED);
    }
    for (int i = f.projections.size() - 1; i >= 0; i--) {
      Projection p = f.projections.get(i);
      if (p.latentNorm() != null) {
        steps.add(new Step(p.label() + "_norm_bwd", p.latentNorm(), 1, dt));
      }
      addGemmBackward(t, steps, p.label(), p.gemm(), cores);
    }
    steps.add(new Step(norm + "_attn_bwd", f.norm, 1, dt));
  }

  /** A layer's forward kernels and the pieces its backward reuses. */
  private record Forward(List<Step> steps, Program norm, Program residual, Program activation, List<Projection> projections,
      GemmSpec oProj, GemmSpec up, GemmSpec down, AttentionSpec attn, List<Step> eager, List<Step> mlp) {}

  /** One of the projections into attention, in execution order, with the RMSNorm on its output (MLA's latents) or null. */
  private record Projection(String label, GemmSpec gemm, Program latentNorm) {}

  /**
   * The projections into attention: one fused QKV GEMM, or latent attention's chain (DeepSeek-V2
   * section 2.1, the training form, keys and values expanded per head): q_a (hidden to the query
   * latent) and its RMSNorm, q_b (to every head's query), kv_a (to the KV latent plus the shared
   * rotary key) and its RMSNorm, kv_b (the latent to every head's no-position key and value).
   * Under tensor parallelism the down projections (q_a, kv_a) run whole on every rank, as the
   * parameter count of a shard has them; the up projections split by heads.
   */
  private static List<Projection> projections(TargetSpec t, ModelShape m, long tokens, DType gemm, DType dt) {
    ModelShape.Mla mla = m.attention().mla();
    if (mla == null) {
      long qkvN = (m.heads() + 2L * m.kvHeads()) * m.headDim();
      return List.of(new Projection("qkv_proj", new GemmSpec(tokens, m.hidden(), qkvN, gemm, false, false), null));
    }
    int cores = t.cores();
    List<Projection> p = new ArrayList<>();
    long qIn = m.hidden();
    if (mla.qLoraRank() > 0) {
      p.add(new Projection("q_a_proj", new GemmSpec(tokens, m.hidden(), mla.qLoraRank(), gemm, false, false),
          NormLowering.lower(t, "rmsnorm", tokens, mla.qLoraRank(), dt, cores)));
      qIn = mla.qLoraRank();
    }
    p.add(new Projection("q_b_proj", new GemmSpec(tokens, qIn, (long) m.heads() * mla.qkDim(), gemm, false, false), null));
    p.add(new Projection("kv_a_proj", new GemmSpec(tokens, m.hidden(), mla.kvLoraRank() + mla.qkRopeDim(), gemm, false, false),
        NormLowering.lower(t, "rmsnorm", tokens, mla.kvLoraRank(), dt, cores)));
    p.add(new Projection("kv_b_proj",
        new GemmSpec(tokens, mla.kvLoraRank(), (long) m.heads() * (mla.qkNopeDim() + mla.vDim()), gemm, false, false), null));
    return p;
  }

  /**
   * Head width the attention kernels run at. Latent attention's keys are {@code qk_nope + qk_rope}
   * wide and its values {@code v_head_dim}: the kernel runs at their mean, which keeps QK^T + PV's
   * FLOPs and the K + V bytes exact (the split between the two products is what is simplified).
   */
  private static long attentionWidth(ModelShape m) {
    ModelShape.Mla mla = m.attention().mla();
    return mla == null ? m.headDim() : (mla.qkDim() + mla.vDim()) / 2;
  }

  private static Forward forward(TargetSpec t, ModelShape m, String phase, long batch, long seq, long normTokens, long ctx,
      Attention attention, DType dt, MoeLoad moe, DType gemm, long window) {
    int cores = t.cores();
    long tokens = batch * seq;
    long hd = attentionWidth(m);
    long attnOut = (long) m.heads() * (m.attention().mla() != null ? m.attention().mla().vDim() : m.headDim());
    boolean gated = m.mlp() == ModelShape.Mlp.SWIGLU;
    List<Projection> projections = projections(t, m, tokens, gemm, dt);
    GemmSpec oProj = new GemmSpec(tokens, attnOut, m.hidden(), gemm, false, false);
    GemmSpec up = new GemmSpec(tokens, m.hidden(), (gated ? 2L : 1L) * m.ffn(), gemm, false, false);
    GemmSpec down = new GemmSpec(tokens, m.ffn(), m.hidden(), gemm, false, false);
    String normName = m.norm().kernel();
    Program norm = NormLowering.lower(t, normName, normTokens, m.hidden(), dt, cores);
    Program residual = StreamLowering.elementwise(t, "add", normTokens * m.hidden(), dt, cores);
    Program activation = gated ? StreamLowering.elementwise(t, "mul", tokens * m.ffn(), dt, cores)
        : StreamLowering.elementwise(t, "gelu", tokens * m.ffn(), dt, cores);
    AttentionSpec a = null;
    List<Step> eager = List.of();
    List<Step> steps = new ArrayList<>();
    steps.add(new Step(normName + "_attn", norm, 1, dt));
    for (Projection p : projections) {
      steps.addAll(GemmLowering.steps(t, p.label(), p.gemm(), cores, 1));
      if (p.latentNorm() != null) {
        steps.add(new Step(p.label() + "_norm", p.latentNorm(), 1, dt));
      }
    }
    addBias(t, steps, m, "qkv", tokens * projections.get(0).gemm().n(), dt);
    if (phase.equals("decode")) {
      Program attn = DecodeAttention.lower(t, new AttentionSpec(batch, m.heads(), 1, ctx, hd, m.kvHeads(), false, dt), cores);
      steps.add(new Step("attention_decode", attn, 1, dt));
    } else {
      a = new AttentionSpec(batch, m.heads(), seq, seq, hd, m.kvHeads(), true, dt);
      if (attention == Attention.FLASH) {
        a = a.windowed(window); // a fused kernel skips the blocks outside the window; eager attention computes all scores
        steps.addAll(AttentionSplit.steps(t, "attention", a, cores, false));
      } else {
        eager = eagerForward(t, a, cores, attention == Attention.EAGER_UNFUSED);
        steps.addAll(eager);
      }
    }
    steps.addAll(GemmLowering.steps(t, "o_proj", oProj, cores, 1));
    addBias(t, steps, m, "o", normTokens * m.hidden(), dt);
    steps.add(new Step("residual_attn", residual, 1, dt));
    steps.add(new Step(normName + "_mlp", norm, 1, dt));
    List<Step> mlp = new ArrayList<>();
    if (moe != null) {
      mlp.addAll(MoeLowering.forward(t, m, moe, tokens, dt));
    } else {
      mlp.addAll(GemmLowering.steps(t, gated ? "gate_up_proj" : "up_proj", up, cores, 1));
      addBias(t, mlp, m, "up", tokens * up.n(), dt);
      mlp.add(new Step(gated ? "silu_mul" : "gelu", activation, 1, dt));
      mlp.addAll(GemmLowering.steps(t, "down_proj", down, cores, 1));
      addBias(t, mlp, m, "down", normTokens * m.hidden(), dt);
    }
    steps.addAll(mlp);
    steps.add(new Step("residual_mlp", residual, 1, dt));
    return new Forward(steps, norm, residual, activation, projections, oProj, up, down, a, eager, mlp);
  }

  /**
   * A linear layer's bias (models with biases): one element-wise pass over its output, as a
   * framework that does not fuse it into the GEMM runs it (Megatron-LM's {@code --no-bias-gelu-fusion}
   * / {@code --no-bias-dropout-fusion}). A row-parallel layer adds it after the reduction, on the
   * whole (or sequence-parallel) hidden-wide output. The bias gradient (a column sum of dY) rides
   * with the weight gradient and is not charged.
   */
  private static void addBias(TargetSpec t, List<Step> steps, ModelShape m, String layer, long numel, DType dt) {
    if (m.bias()) {
      steps.add(new Step(layer + "_bias", StreamLowering.elementwise(t, "bias", numel, dt, t.cores()), 1, dt));
    }
  }

  /**
   * Eager attention forward, per (sequence, query head): S = Q K^T ([s x d] x [d x s]), a row softmax
   * over the materialised scores (scale and mask fused into it, or with {@code unfused} each one
   * element-wise pass over the scores before it), O = P V. The full {@code s x s} is computed even when
   * causal (no block skipping), as an unfused framework does.
   */
  static List<Step> eagerForward(TargetSpec t, AttentionSpec a, int cores, boolean unfused) {
    long heads = a.b() * a.h();
    DType dt = a.dtype();
    List<Step> steps = new ArrayList<>();
    steps.addAll(GemmLowering.steps(t, "attn_scores", new GemmSpec(a.s(), a.d(), a.sKv(), dt, false, true), cores, heads));
    if (unfused) {
      // scores x coefficient, then masked_fill: one read and one write of the scores each (the mask is shared by the heads)
      steps.add(new Step("attn_scale", StreamLowering.elementwise(t, "bias", heads * a.s() * a.sKv(), dt, cores), 1, dt));
      steps.add(new Step("attn_mask", StreamLowering.elementwise(t, "bias", heads * a.s() * a.sKv(), dt, cores), 1, dt));
    }
    steps.add(new Step("attn_softmax", NormLowering.lower(t, "softmax", heads * a.s(), a.sKv(), dt, cores), 1, dt));
    steps.addAll(GemmLowering.steps(t, "attn_context", new GemmSpec(a.s(), a.sKv(), a.d(), dt, false, false), cores, heads));
    return steps;
  }

  /**
   * Eager attention backward: dP = dO V^T and dV = P^T dO (the context GEMM's dX and dW), the softmax
   * backward dS = P * (dP - rowsum(P * dP)) as one element-wise pass over P and dP (the bytes it
   * moves; the row sum rides along), with {@code unfused} the mask's and the scale's backward (one
   * pass over the gradient each: zero the masked positions, multiply by the coefficient), then
   * dQ = dS K and dK = dS^T Q (the scores GEMM's).
   */
  static void addEagerBackward(TargetSpec t, List<Step> steps, AttentionSpec a, int cores, boolean unfused) {
    long heads = a.b() * a.h();
    DType dt = a.dtype();
    long s = a.s();
    long k = a.sKv();
    long d = a.d();
    steps.addAll(GemmLowering.steps(t, "attn_context_dx", new GemmSpec(s, d, k, dt, false, true), cores, heads));
    steps.addAll(GemmLowering.steps(t, "attn_context_dw", new GemmSpec(k, s, d, dt, true, false), cores, heads));
    steps.add(new Step("attn_softmax_bwd", StreamLowering.elementwise(t, "mul", heads * s * k, dt, cores), 1, dt));
    if (unfused) {
      steps.add(new Step("attn_mask_bwd", StreamLowering.elementwise(t, "bias", heads * s * k, dt, cores), 1, dt));
      steps.add(new Step("attn_scale_bwd", StreamLowering.elementwise(t, "bias", heads * s * k, dt, cores), 1, dt));
    }
    steps.addAll(GemmLowering.steps(t, "attn_scores_dx", new GemmSpec(s, k, d, dt, false, false), cores, heads));
    steps.addAll(GemmLowering.steps(t, "attn_scores_dw", new GemmSpec(k, s, d, dt, true, false), cores, heads));
  }

  /** dX[M,K] = dY[M,N] W^T and dW[K,N] = X^T dY: the same FLOPs as the forward GEMM each. */
  static void addGemmBackward(TargetSpec t, List<Step> steps, String label, GemmSpec g, int cores) {
    GemmSpec dx = new GemmSpec(g.m(), g.n(), g.k(), g.dtype(), false, true);
    GemmSpec dw = new GemmSpec(g.k(), g.m(), g.n(), g.dtype(), true, false);
    steps.addAll(GemmLowering.steps(t, label + "_dx", dx, cores, 1));
    steps.addAll(GemmLowering.steps(t, label + "_dw", dw, cores, 1));
  }
}
