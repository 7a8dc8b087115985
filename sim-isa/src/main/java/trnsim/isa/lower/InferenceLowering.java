package trnsim.isa.lower;

import java.util.ArrayList;
import java.util.List;
import trnsim.isa.ActFunc;
import trnsim.isa.AluOp;
import trnsim.isa.CoreProgram;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.Op;
import trnsim.isa.Program;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.ProgramChain;
import trnsim.isa.TensorRef;
import trnsim.isa.target.TargetSpec;

/**
 * The kernels of a tensor-parallel decoder layer as a compiled inference graph runs them on one
 * chip: every rank (logical core) of the chip runs its own shard (SPMD), so each kernel is lowered
 * for one rank on its {@code coresPerRank} physical cores and replicated on the chip's ranks, which
 * share the chip's HBM and so slow each other down where they stream.
 *
 * <p>Layout: activations are feature-major ({@code [features x tokens]}, Transformers-NeuronX's
 * HSB layout), so the linear layers are {@link WeightStreamGemm}s and the norms and residual adds
 * work on {@code [128 x features/128 x tokens]} tiles (all partitions busy even for one token).
 * Decode attention is the compiled graph's attention over the whole KV buffer
 * ({@link CompiledDecodeAttention}); context encoding uses the compiled graph's causal attention
 * ({@link CompiledPrefillAttention}) or, for stacks with a fused kernel, the flash attention of
 * {@link AttentionLowering}, on the rank's heads.
 *
 * <p>Per layer, in order: rmsnorm, QKV projection, KV-cache write, attention, output projection,
 * [all-reduce], residual add, rmsnorm, gate+up projection, SiLU x up, down projection, [all-reduce],
 * residual add. The all-reduces are not kernels of the chip: the caller charges them on the
 * fabric. Not emitted: RoPE (fuses into the QKV evacuation), the embedding gather.
 */
public final class InferenceLowering {
  private InferenceLowering() {}

  /**
   * One rank's shard of a decoder layer and LM head.
   *
   * @param hidden model width (replicated: norms and residuals run on every rank)
   * @param qHeads query heads on the rank
   * @param kvHeads kv heads on the rank (at least 1: replicated when the tensor-parallel degree exceeds the model's kv heads)
   * @param headDim head width
   * @param ffn MLP width on the rank
   * @param vocab LM-head columns on the rank
   * @param mlp the MLP's kind: gated SiLU (gate+up, SiLU x up, down: three matrices) or GELU (up, GELU, down: two)
   */
  public record RankShard(long hidden, long qHeads, long kvHeads, long headDim, long ffn, long vocab, ModelShape.Mlp mlp) {
    /** A Llama-style shard (SwiGLU MLP). */
    public RankShard(long hidden, long qHeads, long kvHeads, long headDim, long ffn, long vocab) {
      this(hidden, qHeads, kvHeads, headDim, ffn, vocab, ModelShape.Mlp.SWIGLU);
    }

    public long qkvColumns() {
      return (qHeads + 2 * kvHeads) * headDim;
    }

    /** Weight elements of one layer on the rank (linear layers only; norms are negligible). */
    public long layerWeightElements() {
      return hidden * qkvColumns() + qHeads * headDim * hidden + mlp.matrices() * hidden * ffn;
    }
  }

  /**
   * How the graph is built for the chip.
   *
   * @param compute matmul and activation type
   * @param weights storage type of the layers' linear weights (the LM head stays at {@code compute})
   * @param coresPerRank physical cores of one rank (the logical-core size)
   * @param ranksPerChip ranks that share the chip
   * @param dequantEngines SIMD engines that take turns de-quantising weight slabs
   * @param flashPrefill context encoding through a fused flash-attention kernel ({@link AttentionLowering})
   *     instead of the compiled graph's attention ({@link CompiledPrefillAttention})
   * @param fused each graph segment (between all-reduces) runs as one chained program, weight loads
   *     prefetching across kernel boundaries ({@link ProgramChain}); false: every kernel fully synchronised
   */
  public record Options(DType compute, DType weights, int coresPerRank, int ranksPerChip, List<EngineKind> dequantEngines,
      boolean flashPrefill, boolean fused) {
    public Options {
      dequantEngines = List.copyOf(dequantEngines);
    }
  }

  /**
   * What a layer adds to the Llama-style shard: multi-head latent attention ({@code mla}, null for
   * per-head K/V projections) and a mixture-of-experts MLP ({@code moe}: the rank's expert widths,
   * already divided by the tensor-parallel degree, with {@code load} its share of the routed tokens;
   * null for the dense MLP).
   *
   * @param expertWeights storage type of the experts' weights (the model's, e.g. MXFP4, or the layer's)
   * @param window sliding-window width of the layer's attention in context encoding, 0 for full
   *     causal attention ({@link AttentionSpec#windowed}; decode takes its span from the caller)
   */
  public record Variant(ModelShape.Mla mla, ModelShape.Moe moe, MoeLoad load, DType expertWeights, long window) {
    public static final Variant DENSE = new Variant(null, null, null, null);

    public Variant {
      if ((moe == null) != (load == null)) {
        throw new IllegalArgumentException("a MoE layer needs its load");
      }
    }

    /** Full causal attention. */
    public Variant(ModelShape.Mla mla, ModelShape.Moe moe, MoeLoad load, DType expertWeights) {
      this(mla, moe, load, expertWeights, 0);
    }

    /** The same layer attending within a sliding window of {@code w} keys. */
    public Variant withWindow(long w) {
      return new Variant(mla, moe, load, expertWeights, w);
    }
  }

  /** One decoder layer of one token-generation step: {@code batch} tokens against a KV buffer of {@code span} positions. */
  public static List<Step> decodeLayer(TargetSpec t, RankShard s, long batch, long span, Options o) {
    return decodeLayer(t, s, batch, span, o, Variant.DENSE);
  }

  /**
   * As above for a layer variant. Latent attention decodes in its absorbed form (DeepSeek-V2
   * section 2.1.2): the key up-projection folds into the query ({@code q_absorb}) and the value
   * up-projection into the output ({@code v_absorb}), so attention runs as multi-query attention
   * over the cached latent plus rotary key ({@code kv_lora_rank + qk_rope_head_dim} wide keys,
   * {@code kv_lora_rank} wide values). The compiled decode kernels take heads of at most one
   * partition tile (128), so the scores run as one pass per 128-wide slice of the key (their
   * partial sums accumulate; the accumulation is not charged) and the values as one pass per
   * 128-wide slice of the latent: every slice of the cache is read once for the scores and once for
   * the values, as an unfused kernel pair does.
   */
  public static List<Step> decodeLayer(TargetSpec t, RankShard s, long batch, long span, Options o, Variant v) {
    long scorePasses = 1;
    long valuePasses = 1;
    RankShard attnShard = s;
    if (v.mla() != null) {
      long slice = t.partitions();
      scorePasses = Kernels.ceilDiv(v.mla().kvLoraRank() + v.mla().qkRopeDim(), slice);
      valuePasses = Kernels.ceilDiv(v.mla().kvLoraRank(), slice);
      attnShard = new RankShard(s.hidden(), s.qHeads(), 1, slice, s.ffn(), s.vocab(), s.mlp());
    }
    return decodeLayer(t, s, attnShard, batch, span, o, v, scorePasses, valuePasses);
  }

  private static List<Step> decodeLayer(TargetSpec t, RankShard layer, RankShard s, long batch, long span, Options o, Variant v,
      long scorePasses, long valuePasses) {
    if (s.headDim() > Math.min(t.partitions(), t.peRows()) || s.qHeads() / s.kvHeads() > t.peCols()) {
      return flashDecodeLayer(t, layer, s, batch, span, o, v);
    }
    var whole = perCore(new CompiledDecodeAttention.Shape(batch, s.qHeads(), s.kvHeads(), s.headDim(), span, o.compute()), o.coresPerRank());
    // the [rows x span] score block stays in SBUF; a longer span runs as segments that fit, one after the other
    long maxSpan = CompiledDecodeAttention.maxResidentSpan(t, whole.rows());
    long segments = Kernels.ceilDiv(whole.span(), maxSpan);
    var att = new CompiledDecodeAttention.Shape(whole.batch(), whole.qHeads(), whole.kvHeads(), whole.d(),
        Kernels.ceilDiv(whole.span(), segments), whole.dtype());
    var sc = new ProgramChain.Independent();
    var sm = new ProgramChain.Independent();
    var va = new ProgramChain.Independent();
    Kernel scores = onEveryCore("attn_scores", CompiledDecodeAttention.scores(t, att, sc), sc, o.coresPerRank());
    Kernel softmax = onEveryCore("attn_softmax", CompiledDecodeAttention.softmax(t, att, sm), sm, o.coresPerRank());
    Kernel values = onEveryCore("attn_values", CompiledDecodeAttention.values(t, att, va), va, o.coresPerRank());
    for (Kernel k : List.of(scores, softmax, values)) {
      for (var c : k.program().cores()) {
        if (c.allocatedBytesPerPartition(trnsim.isa.MemSpace.SBUF) > t.sbufBytesPerPartition()) {
          return flashDecodeLayer(t, layer, s, batch, span, o, v);
        }
      }
    }
    List<Kernel> attention = new ArrayList<>();
    for (long i = 0; i < segments; i++) {
      for (long j = 0; j < scorePasses; j++) {
        attention.add(scores);
      }
      attention.add(softmax);
      for (long j = 0; j < valuePasses; j++) {
        attention.add(values);
      }
    }
    return layer(t, layer, batch, o, attention, v, true);
  }

  /**
   * A target whose partitions cannot hold a head or the compiled graph's K/V rings (the GPU templates: 64
   * partitions of 3.6 KB) has no compiled XLA graph either: it runs a flash-decoding kernel
   * ({@link DecodeAttention}), as GPU serving stacks do.
   */
  private static List<Step> flashDecodeLayer(TargetSpec t, RankShard layer, RankShard s, long batch, long span, Options o,
      Variant v) {
    var a = new AttentionSpec(batch, s.qHeads(), 1, span, s.headDim(), s.kvHeads(), false, o.compute());
    return layer(t, layer, batch, o, List.of(new Kernel("attention_decode", DecodeAttention.lower(t, a, o.coresPerRank()),
        new ProgramChain.Independent())), v, true);
  }

  /**
   * A rank of several physical cores splits the attention between them: by sequences when there are
   * enough, else by kv heads, else by the span (split-context; the small combine of the partial
   * softmax statistics is not charged).
   */
  static CompiledDecodeAttention.Shape perCore(CompiledDecodeAttention.Shape a, int cores) {
    if (cores <= 1) {
      return a;
    }
    if (a.batch() >= cores) {
      return new CompiledDecodeAttention.Shape(Kernels.ceilDiv(a.batch(), cores), a.qHeads(), a.kvHeads(), a.d(), a.span(), a.dtype());
    }
    if (a.kvHeads() >= cores) {
      long kv = Kernels.ceilDiv(a.kvHeads(), cores);
      return new CompiledDecodeAttention.Shape(a.batch(), kv * a.group(), kv, a.d(), a.span(), a.dtype());
    }
    return new CompiledDecodeAttention.Shape(a.batch(), a.qHeads(), a.kvHeads(), a.d(), Kernels.ceilDiv(a.span(), cores), a.dtype());
  }

  /** A one-core kernel run by each of a rank's {@code cores} cores on its part of the work. */
  static Kernel onEveryCore(String label, Program p, ProgramChain.Independent ind, int cores) {
    if (cores <= 1) {
      return new Kernel(label, p, ind);
    }
    List<CoreProgram> cs = new ArrayList<>();
    var all = new ProgramChain.Independent();
    var sets = ind.sets();
    for (int c = 0; c < cores; c++) {
      cs.add(p.cores().get(0));
      if (!sets.isEmpty()) {
        all.add(c, sets.get(0).toArray(new Op[0]));
      }
    }
    List<String> notes = new ArrayList<>(p.notes());
    notes.add("split over the rank's " + cores + " cores");
    return new Kernel(label, new Program(p.name() + " x" + cores + " cores", cs, notes, p.flops() * cores, p.hbmBytesMin() * cores), all);
  }

  /** One decoder layer of context encoding: {@code batch} prompts of {@code prompt} tokens (causal attention over the prompt). */
  public static List<Step> prefillLayer(TargetSpec t, RankShard s, long batch, long prompt, Options o) {
    return prefillLayer(t, s, batch, prompt, o, Variant.DENSE);
  }

  /**
   * As above for a layer variant. Latent attention runs expanded in context encoding: the latent is
   * up-projected to per-head keys and values ({@code kv_b}) and attention is multi-head over
   * {@code qk_nope + qk_rope} wide heads (values charged at that width too). A sliding-window layer
   * attends within its window ({@link AttentionSpec#windowed}).
   */
  public static List<Step> prefillLayer(TargetSpec t, RankShard s, long batch, long prompt, Options o, Variant v) {
    var a = new AttentionSpec(batch, s.qHeads(), prompt, prompt, s.headDim(), v.mla() != null ? s.qHeads() : s.kvHeads(), true,
        o.compute()).windowed(v.window());
    Program attn = o.flashPrefill() ? AttentionLowering.forward(t, a, o.coresPerRank()) : CompiledPrefillAttention.lower(t, a);
    return layer(t, s, batch * prompt, o, List.of(new Kernel("attention", attn, new ProgramChain.Independent())), v, false);
  }

  /** A rank's kernel and its loads that need nothing from earlier kernels. */
  record Kernel(String label, Program program, ProgramChain.Independent independent) {
    ProgramChain.Link link() {
      return new ProgramChain.Link(program, independent.sets());
    }
  }

  /**
   * The layer's kernels, as two graph segments separated by the all-reduces: the attention block
   * (the previous layer's MLP residual add fused with the rmsnorm, QKV, KV-cache write, attention,
   * output projection) and the MLP block (attention residual add fused with the rmsnorm, gate+up,
   * SiLU x up, down). The graph compiler fuses each residual add into the norm that consumes it
   * ({@link #residualRmsnorm}): the sum is written once (the next residual needs it) and never
   * read back. With
   * {@link Options#fused()} each segment is one chained program ({@link ProgramChain}); otherwise
   * every kernel is its own step, fully synchronised.
   */
  private static List<Step> layer(TargetSpec t, RankShard s, long tokens, Options o, List<Kernel> attention, Variant v, boolean decode) {
    DType dt = o.compute();
    List<Kernel> a = new ArrayList<>();
    a.add(new Kernel("residual_rmsnorm_attn", residualRmsnorm(t, s.hidden(), tokens, dt, o.coresPerRank()), new ProgramChain.Independent()));
    if (v.mla() != null) {
      a.addAll(mlaProjections(t, s, tokens, o, v.mla(), decode));
    } else {
      a.add(linearKernel(t, "qkv_proj", tokens, s.hidden(), s.qkvColumns(), o.weights(), o));
      a.add(new Kernel("kv_cache_write", StreamLowering.copy(t, dt.bytes(2 * s.kvHeads() * s.headDim() * tokens), o.coresPerRank()),
          new ProgramChain.Independent()));
    }
    a.addAll(attention);
    if (v.mla() != null && decode) {
      a.add(linearKernel(t, "v_absorb", tokens, v.mla().kvLoraRank(), s.qHeads() * v.mla().vDim(), o.weights(), o));
    }
    long attnOut = s.qHeads() * (v.mla() != null ? v.mla().vDim() : s.headDim());
    a.add(linearKernel(t, "o_proj", tokens, attnOut, s.hidden(), o.weights(), o));
    List<Step> steps = new ArrayList<>();
    segment(t, steps, "attention_block", a, o);
    if (v.moe() != null) {
      moeBlock(t, steps, s, tokens, o, v);
    } else {
      List<Kernel> m = new ArrayList<>();
      m.add(new Kernel("residual_rmsnorm_mlp", residualRmsnorm(t, s.hidden(), tokens, dt, o.coresPerRank()), new ProgramChain.Independent()));
      m.addAll(mlp(t, "", tokens, s.hidden(), s.ffn(), s.mlp(), o.weights(), o));
      segment(t, steps, "mlp_block", m, o);
    }
    return steps;
  }

  /**
   * An MLP of {@code ffn} columns on the rank: SwiGLU (gate+up, SiLU x up, down) or GELU (GPT-2/3:
   * up, GELU, down; its biases are not charged: a bias add is fused into the GEMM's PSUM evacuation).
   */
  private static List<Kernel> mlp(TargetSpec t, String prefix, long tokens, long hidden, long ffn, ModelShape.Mlp kind,
      DType weights, Options o) {
    if (kind == ModelShape.Mlp.GELU) {
      return List.of(linearKernel(t, prefix + "up_proj", tokens, hidden, ffn, weights, o),
          new Kernel(prefix + "gelu", elementwise(t, "gelu", ffn, tokens, o.compute(), o.coresPerRank()), new ProgramChain.Independent()),
          linearKernel(t, prefix + "down_proj", tokens, ffn, hidden, weights, o));
    }
    return List.of(linearKernel(t, prefix + "gate_up_proj", tokens, hidden, 2 * ffn, weights, o),
        new Kernel(prefix + "silu_mul", elementwise(t, "silu_mul", ffn, tokens, o.compute(), o.coresPerRank()), new ProgramChain.Independent()),
        linearKernel(t, prefix + "down_proj", tokens, ffn, hidden, weights, o));
  }

  /**
   * Latent attention's projections: the query through its low-rank bottleneck (q_a, q_b), the
   * compressed latent and rotary key (kv_a, written to the cache), and either the absorbed key
   * up-projection (decode) or the expansion of the latent into per-head keys and values (prefill).
   */
  private static List<Kernel> mlaProjections(TargetSpec t, RankShard s, long tokens, Options o, ModelShape.Mla mla, boolean decode) {
    DType dt = o.compute();
    List<Kernel> k = new ArrayList<>();
    long qIn = s.hidden();
    if (mla.qLoraRank() > 0) {
      k.add(linearKernel(t, "q_a_proj", tokens, s.hidden(), mla.qLoraRank(), o.weights(), o));
      qIn = mla.qLoraRank();
    }
    k.add(linearKernel(t, "q_b_proj", tokens, qIn, s.qHeads() * mla.qkDim(), o.weights(), o));
    long latent = mla.kvLoraRank() + mla.qkRopeDim();
    k.add(linearKernel(t, "kv_a_proj", tokens, s.hidden(), latent, o.weights(), o));
    k.add(new Kernel("kv_cache_write", StreamLowering.copy(t, dt.bytes(latent * tokens), o.coresPerRank()), new ProgramChain.Independent()));
    if (decode) {
      k.add(linearKernel(t, "q_absorb", tokens, s.qHeads() * mla.qkNopeDim(), mla.kvLoraRank(), o.weights(), o));
    } else {
      k.add(linearKernel(t, "kv_b_proj", tokens, mla.kvLoraRank(), s.qHeads() * (mla.qkNopeDim() + mla.vDim()), o.weights(), o));
    }
    return k;
  }

  /**
   * A MoE MLP block on the rank: the norm and the router (a replicated {@code hidden x experts}
   * linear layer and the top-k selection, one pass over the logits) as one segment; the routed
   * experts' GEMMs, one per active local expert ({@link MoeLoad}, its tokens as the moving operand,
   * the expert's weights streamed at their storage width), each its own kernel; the weighted
   * combine (one pass over the top-k outputs); the shared experts as a dense MLP segment. The
   * dispatch and combine all-to-alls between expert-parallel ranks are charged by the caller.
   */
  private static void moeBlock(TargetSpec t, List<Step> steps, RankShard s, long tokens, Options o, Variant v) {
    DType dt = o.compute();
    var moe = v.moe();
    MoeLoad load = v.load();
    List<Kernel> r = new ArrayList<>();
    r.add(new Kernel("residual_rmsnorm_mlp", residualRmsnorm(t, s.hidden(), tokens, dt, o.coresPerRank()), new ProgramChain.Independent()));
    r.add(linearKernel(t, "router", tokens, s.hidden(), moe.experts(), dt, o));
    r.add(new Kernel("router_topk", elementwise(t, "add", moe.experts(), tokens, dt, o.coresPerRank()), new ProgramChain.Independent()));
    segment(t, steps, "router_block", r, o);
    long f = moe.expertFfn();
    DType ew = v.expertWeights();
    steps.add(new Step("expert_gate_up", spmd(linearKernel(t, "expert_gate_up", load.tokensPerExpert(), s.hidden(), 2 * f, ew, o).program(),
        o), load.activeExperts(), dt));
    steps.add(new Step("expert_silu_mul", spmd(elementwise(t, "silu_mul", f, load.pairs(), dt, o.coresPerRank()), o), 1, dt));
    steps.add(new Step("expert_down", spmd(linearKernel(t, "expert_down", load.tokensPerExpert(), f, s.hidden(), ew, o).program(), o),
        load.activeExperts(), dt));
    steps.add(new Step("moe_combine", spmd(elementwise(t, "add", s.hidden(), tokens * moe.topK(), dt, o.coresPerRank()), o), 1, dt));
    if (moe.sharedFfn() > 0) {
      segment(t, steps, "shared_expert_block", mlp(t, "shared_", tokens, s.hidden(), moe.sharedFfn(), s.mlp(), o.weights(), o), o);
    }
  }

  private static void segment(TargetSpec t, List<Step> steps, String label, List<Kernel> kernels, Options o) {
    if (!o.fused()) {
      for (Kernel k : kernels) {
        steps.add(new Step(k.label(), spmd(k.program(), o), 1, o.compute()));
      }
      return;
    }
    List<ProgramChain.Link> links = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (Kernel k : kernels) {
      links.add(k.link());
      names.add(k.label());
    }
    Program chained = ProgramChain.chain(label + " (" + String.join(", ", names) + ")", links, t.sbufBytesPerPartition());
    steps.add(new Step(label, spmd(chained, o), 1, o.compute()));
  }

  static Kernel linearKernel(TargetSpec t, String label, long tokens, long k, long n, DType weights, Options o) {
    var spec = new WeightStreamGemm.Spec(label, tokens, k, n, o.compute(), weights);
    if (weights == o.compute() && !WeightStreamGemm.fits(t, spec)) {
      // A target too small to keep X^T resident next to a weight ring (the GPU templates: 3.6 KB per partition
      // against 8 KB of X^T for 32 tokens of an 8192-wide layer) runs the blocked GEMM instead, which streams X
      // and W together in K blocks, as a GPU GEMM library does.
      return new Kernel(label, GemmLowering.lower(t, new GemmSpec(tokens, k, n, o.compute(), false, false), o.coresPerRank()),
          new ProgramChain.Independent());
    }
    var ind = new ProgramChain.Independent();
    return new Kernel(label, WeightStreamGemm.lower(t, spec, o.coresPerRank(), o.dequantEngines(), ind), ind);
  }

  /** After the last layer: final rmsnorm and the LM head for the last token of each of {@code batch} sequences. */
  public static List<Step> head(TargetSpec t, RankShard s, long batch, Options o) {
    DType dt = o.compute();
    List<Step> steps = new ArrayList<>();
    segment(t, steps, "lm_head_block", List.of(
        new Kernel("rmsnorm_final", rmsnorm(t, s.hidden(), batch, dt, o.coresPerRank()), new ProgramChain.Independent()),
        linearKernel(t, "lm_head", batch, s.hidden(), s.vocab(), dt, o)), o);
    return steps;
  }

  /**
   * At most {@code wanted} elements per partition such that {@code copies} tiles of them fit 90% of an
   * SBUF partition (small-SBUF targets such as the GPU templates; on Trainium the wanted size fits).
   */
  static long fitting(TargetSpec t, long wanted, int copies, DType dt) {
    return Math.max(1, Math.min(wanted, (long) (0.9 * t.sbufBytesPerPartition()) / (copies * dt.bytes(1))));
  }

  /**
   * Greedy selection of the next token on every rank from the gathered logits of {@code batch}
   * sequences over {@code vocab} entries, spread over all partitions: vector max-reduces along the
   * free axis chunk by chunk, then a tensor-engine transpose of the per-partition maxima and a last
   * reduce.
   */
  public static List<Step> sampling(TargetSpec t, long batch, long vocab, Options o) {
    DType dt = o.compute();
    int parts = t.partitions();
    ProgramBuilder pb = new ProgramBuilder("sampling argmax b=" + batch + " vocab=" + vocab, t.dmaQueues());
    var c = pb.core(0);
    long perPartition = Kernels.ceilDiv(batch * vocab, parts);
    long chunk = Math.min(perPartition, fitting(t, StreamLowering.TILE_FREE, 3, dt));
    // the per-chunk maxima (4 B each) share the partition with the ring
    while (chunk > 1 && 3 * dt.bytes(chunk) + 4 * Kernels.ceilDiv(perPartition, chunk) > t.sbufBytesPerPartition()) {
      chunk = chunk * 7 / 8;
    }
    long chunks = Kernels.ceilDiv(perPartition, chunk);
    c.alloc(MemSpace.SBUF, "logit chunks (ring of 3), maxima", parts, 3 * dt.bytes(chunk) + 4 * chunks);
    int lq = Kernels.loadQueues(t.dmaQueues());
    Op[] reader = new Op[3];
    Op last = null;
    for (long i = 0; i < chunks; i++) {
      long w = Math.min(chunk, perPartition - i * chunk);
      int slot = (int) (i % 3);
      Op[] load = reader[slot] == null ? Kernels.spreadDma(c, 0, lq, MemSpace.HBM, MemSpace.SBUF, parts, dt.bytes(w))
          : Kernels.spreadDma(c, 0, lq, MemSpace.HBM, MemSpace.SBUF, parts, dt.bytes(w), reader[slot]);
      last = c.add(new Instruction.TensorReduce(EngineKind.VECTOR, TensorRef.sbuf(parts, w, dt), TensorRef.sbuf(parts, 1, DType.FP32),
          AluOp.MAX), load);
      reader[slot] = last;
    }
    Op tr = c.add(new Instruction.Transpose(EngineKind.TENSOR, TensorRef.sbuf(parts, chunks, DType.FP32), TensorRef.psum((int) Math.min(parts,
        chunks), parts, DType.FP32)), last);
    Op fin = c.add(new Instruction.TensorReduce(EngineKind.VECTOR, TensorRef.psum((int) Math.min(parts, chunks), parts, DType.FP32),
        TensorRef.sbuf((int) Math.min(parts, chunks), 1, DType.FP32), AluOp.MAX), tr);
    Kernels.spreadDma(c, lq, t.dmaQueues() - lq, MemSpace.SBUF, MemSpace.HBM, 1, 4 * batch, fin);
    pb.flops(0).hbmBytesMin(dt.bytes(batch * vocab));
    pb.note("greedy next token: max-reduce over the " + vocab + "-entry logits of each sequence, spread over all partitions");
    return List.of(new Step("sampling", spmd(pb.build(), o), 1, dt));
  }

  /** DMA queues for loads when a kernel loads {@code loads} bytes and stores {@code stores}: in proportion, at least one each. */
  static int loadShare(int queues, double loads, double stores) {
    if (queues <= 1) {
      return queues;
    }
    return (int) Math.max(1, Math.min(queues - 1, Math.round(queues * loads / (loads + stores))));
  }

  /**
   * The chip's program when each of its {@code ranksPerChip} ranks runs {@code rank} (lowered for one
   * rank's cores): rank {@code i} takes cores {@code [i x coresPerRank, (i+1) x coresPerRank)}.
   */
  public static Program spmd(Program rank, Options o) {
    if (o.ranksPerChip() == 1) {
      return rank;
    }
    List<CoreProgram> cores = new ArrayList<>();
    CoreProgram idle = null;
    for (int r = 0; r < o.ranksPerChip(); r++) {
      for (int c = 0; c < o.coresPerRank(); c++) {
        if (c < rank.cores().size()) {
          cores.add(rank.cores().get(c));
        } else {
          if (idle == null) {
            var pb = new ProgramBuilder("idle", Math.max(1, rank.cores().get(0).queues().size() - CoreProgram.FIRST_DMA));
            pb.core(0);
            idle = pb.build().cores().get(0);
          }
          cores.add(idle);
        }
      }
    }
    List<String> notes = new ArrayList<>(rank.notes());
    notes.add("SPMD: " + o.ranksPerChip() + " ranks of " + o.coresPerRank() + " core(s) each run this kernel on their own shard");
    return new Program(rank.name() + " x" + o.ranksPerChip() + " ranks", cores, notes, rank.flops() * o.ranksPerChip(),
        rank.hbmBytesMin() * o.ranksPerChip());
  }

  /**
   * RMSNorm of {@code [features x tokens]} (feature-major): squares on the scalar engine, the sum over
   * features by ones-vector matmuls (a reduction across partitions), rsqrt, a matmul broadcast of the
   * per-token factor to all partitions, and {@code (x * factor) * gain} as one vector-engine
   * scalar_tensor_tensor instruction.
   */
  static final int NORM_SLOTS = 4;

  public static Program rmsnorm(TargetSpec t, long features, long tokens, DType dt, int cores) {
    return rmsnorm(t, features, tokens, dt, cores, false);
  }

  /**
   * The residual add fused into the RMSNorm that consumes it, as a graph compiler fuses an
   * element-wise producer into its consumer: per chunk it loads the block output and the residual
   * (on separate load queues), adds them on the vector engine, stores the sum (the next residual)
   * and normalises it in SBUF as {@link #rmsnorm} does, storing the normalised tokens. HBM traffic
   * is four tensor passes (two reads, two writes) against five for a separate add and norm (the
   * add's output read back by the norm).
   */
  public static Program residualRmsnorm(TargetSpec t, long features, long tokens, DType dt, int cores) {
    return rmsnorm(t, features, tokens, dt, cores, true);
  }

  private static Program rmsnorm(TargetSpec t, long features, long tokens, DType dt, int cores, boolean residual) {
    int parts = t.partitions();
    long ft = Kernels.ceilDiv(features, parts);
    long tc = Math.max(1, Math.min(Math.min(tokens, t.maxMovingFree()),
        fitting(t, StreamLowering.TILE_FREE, NORM_SLOTS * (residual ? 3 : 2), dt) / ft));
    long chunks = Kernels.ceilDiv(tokens, tc);
    Kernels.guard("rmsnorm", chunks * (ft * 2 + 8 + 2.0 * t.dmaQueues()));
    String name = residual ? "residual add + rmsnorm" : "rmsnorm";
    ProgramBuilder pb = new ProgramBuilder(name + " (feature-major) features=" + features + " tokens=" + tokens, t.dmaQueues());
    int used = (int) Math.max(1, Math.min(Math.min(cores, t.cores()), chunks));
    int lq = residual ? loadShare(t.dmaQueues(), 2, 2) : loadShare(t.dmaQueues(), 1, 1);
    int tiles = residual ? 3 : 2;
    for (int ci = 0; ci < used; ci++) {
      var c = pb.core(ci);
      c.alloc(MemSpace.SBUF, (residual ? "x, residual, x^2 (" : "x, x^2 (") + NORM_SLOTS + " chunks in flight)", parts,
          NORM_SLOTS * tiles * dt.bytes(ft * tc));
      c.alloc(MemSpace.PSUM, "sums, broadcast", parts, t.psumBytesPerPartition() / 2);
      Op[][] store = new Op[NORM_SLOTS][];
      for (long ch = ci; ch < chunks; ch += used) {
        long w = Math.min(tc, tokens - ch * tc);
        int slot = (int) ((ch / used) % NORM_SLOTS);
        Op[] war = store[slot] == null ? new Op[0] : store[slot];
        TensorRef xt = TensorRef.sbuf(parts, ft * w, dt);
        Op[] x;
        Op[] sumStore = new Op[0];
        if (residual) {
          Op[] a = Kernels.spreadDma(c, 0, lq / 2, MemSpace.HBM, MemSpace.SBUF, parts, dt.bytes(ft * w), war);
          Op[] r = Kernels.spreadDma(c, lq / 2, lq - lq / 2, MemSpace.HBM, MemSpace.SBUF, parts, dt.bytes(ft * w), war);
          Op sum = c.add(new Instruction.TensorTensor(EngineKind.VECTOR, xt, xt, xt, AluOp.ADD), Kernels.concat(a, r));
          sumStore = Kernels.spreadDma(c, lq, t.dmaQueues() - lq, MemSpace.SBUF, MemSpace.HBM, parts, dt.bytes(ft * w), sum);
          x = new Op[] {sum};
        } else {
          x = Kernels.spreadDma(c, 0, lq, MemSpace.HBM, MemSpace.SBUF, parts, dt.bytes(ft * w), war);
        }
        Op sq = c.add(new Instruction.Activation(xt, xt, ActFunc.SQUARE, false), x);
        Op ss = null;
        // the partition sum as ones-matmuls, in pieces of the rows the PE array contracts (one piece on Trainium)
        int kc = Math.min(parts, t.kPerMatmul(dt));
        for (long f = 0; f < ft; f++) {
          for (int p0 = 0; p0 < parts; p0 += kc) {
            int kp = Math.min(kc, parts - p0);
            ss = c.add(new Instruction.MatMul(TensorRef.sbuf(kp, 1, dt), TensorRef.sbuf(kp, w, dt), TensorRef.psum(1, w, DType.FP32),
                f > 0 || p0 > 0), sq);
          }
        }
        Op rstd = c.add(new Instruction.Activation(TensorRef.psum(1, w, DType.FP32), TensorRef.sbuf(1, w, dt), ActFunc.RSQRT, false), ss);
        Op bc = c.add(new Instruction.MatMul(TensorRef.sbuf(1, parts, dt), TensorRef.sbuf(1, w, dt), TensorRef.psum(parts, w, DType.FP32),
            false), rstd);
        // (x * rstd) * gain: one scalar_tensor_tensor instruction (two tensor inputs: the binary rate)
        Op g = c.add(new Instruction.TensorTensor(EngineKind.VECTOR, xt, TensorRef.psum(parts, ft * w, DType.FP32), xt, AluOp.MULTIPLY),
            bc);
        store[slot] = Kernels.concat(sumStore,
            Kernels.spreadDma(c, lq, t.dmaQueues() - lq, MemSpace.SBUF, MemSpace.HBM, parts, dt.bytes(ft * w), g));
      }
    }
    pb.flops(0).hbmBytesMin((residual ? 4 : 2) * dt.bytes(features * tokens));
    pb.note("feature-major " + name + ": " + chunks + " chunks of " + tc + " tokens x " + ft + " feature tiles");
    return pb.build();
  }

  /** {@code add} (residual), {@code silu_mul} (SiLU of the gate times up) or {@code gelu} (one operand) of {@code [features x tokens]} tensors. */
  public static Program elementwise(TargetSpec t, String op, long features, long tokens, DType dt, int cores) {
    int parts = t.partitions();
    long ft = Kernels.ceilDiv(features, parts);
    long total = ft * tokens;
    long tile = Math.min(total, fitting(t, StreamLowering.TILE_FREE, 6, dt));
    long tiles = Kernels.ceilDiv(total, tile);
    Kernels.guard(op, tiles * (4 + 3.0 * t.dmaQueues()));
    ProgramBuilder pb = new ProgramBuilder(op + " (feature-major) features=" + features + " tokens=" + tokens, t.dmaQueues());
    int used = (int) Math.max(1, Math.min(Math.min(cores, t.cores()), tiles));
    int lq = loadShare(t.dmaQueues(), 2, 1);
    for (int ci = 0; ci < used; ci++) {
      var c = pb.core(ci);
      c.alloc(MemSpace.SBUF, "operands (three tiles in flight)", parts, 3 * 2 * dt.bytes(tile));
      Op[][] store = new Op[3][];
      int k = 0;
      for (long i = ci; i < tiles; i += used) {
        long w = Math.min(tile, total - i * tile);
        int slot = k++ % 3;
        Op[] war = store[slot] == null ? new Op[0] : store[slot];
        TensorRef x = TensorRef.sbuf(parts, w, dt);
        Op out;
        if (op.equals("gelu")) {
          // one operand: the up projection's output, loaded over every load queue
          Op[] a = Kernels.spreadDma(c, 0, lq, MemSpace.HBM, MemSpace.SBUF, parts, dt.bytes(w), war);
          out = c.add(new Instruction.Activation(x, x, ActFunc.GELU, false), a);
          store[slot] = Kernels.spreadDma(c, lq, t.dmaQueues() - lq, MemSpace.SBUF, MemSpace.HBM, parts, dt.bytes(w), out);
          continue;
        }
        Op[] a = Kernels.spreadDma(c, 0, lq / 2, MemSpace.HBM, MemSpace.SBUF, parts, dt.bytes(w), war);
        Op[] b = Kernels.spreadDma(c, lq / 2, lq - lq / 2, MemSpace.HBM, MemSpace.SBUF, parts, dt.bytes(w), war);
        if (op.equals("silu_mul")) {
          Op act = c.add(new Instruction.Activation(x, x, ActFunc.SILU, false), a);
          out = c.add(new Instruction.TensorTensor(EngineKind.VECTOR, x, x, x, AluOp.MULTIPLY), Kernels.concat(b, act));
        } else {
          out = c.add(new Instruction.TensorTensor(EngineKind.VECTOR, x, x, x, AluOp.ADD), Kernels.concat(a, b));
        }
        store[slot] = Kernels.spreadDma(c, lq, t.dmaQueues() - lq, MemSpace.SBUF, MemSpace.HBM, parts, dt.bytes(w), out);
      }
    }
    pb.flops(0).hbmBytesMin((op.equals("gelu") ? 2 : 3) * dt.bytes(features * tokens));
    return pb.build();
  }
}
