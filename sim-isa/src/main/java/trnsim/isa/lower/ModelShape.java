package trnsim.isa.lower;

import java.util.Locale;
import trnsim.isa.DType;

/**
 * The shape of a decoder-only transformer, as the lowering and the system model need it. The
 * first eight components describe the Llama family; the rest default to Llama's choices (SwiGLU
 * MLP, RMSNorm, no biases, rotary positions, untied embeddings) and cover GPT-style models
 * (GELU MLP, LayerNorm, biases, learned positions, tied embeddings). The names follow the
 * architectural choices, not a framework, so Hugging Face configs map onto them directly
 * ({@code hidden_act}, {@code rms_norm_eps} vs {@code layer_norm_epsilon}, {@code attention_bias} /
 * {@code mlp_bias}, {@code max_position_embeddings}, {@code tie_word_embeddings}).
 *
 * @param name model name
 * @param layers decoder layers
 * @param hidden model width
 * @param heads attention (query) heads
 * @param kvHeads key/value heads (grouped-query attention when below heads)
 * @param headDim width of one head
 * @param ffn MLP intermediate width
 * @param vocab vocabulary size
 * @param mlp MLP kind: gated SiLU (three matrices) or GELU (two)
 * @param norm normalisation kind
 * @param bias linear layers carry biases (QKV, output projection, MLP)
 * @param positions how token positions enter: rotary (no parameters) or a learned table
 * @param maxPositions rows of the learned position table (0 for rotary)
 * @param tiedEmbeddings the LM head shares the input embedding's matrix
 * @param attention attention variants beyond plain multi-/grouped-query attention ({@link AttentionVariant#STANDARD} for none)
 * @param moe the mixture-of-experts MLP of the sparse layers, or null for a dense model
 */
public record ModelShape(String name, int layers, int hidden, int heads, int kvHeads, int headDim, int ffn, int vocab,
    Mlp mlp, Norm norm, boolean bias, Positions positions, int maxPositions, boolean tiedEmbeddings,
    AttentionVariant attention, Moe moe) {

  /**
   * Multi-head latent attention (DeepSeek-V2/V3): queries through a low-rank bottleneck
   * ({@code q_lora_rank}, 0 for a full query projection), keys and values through a shared
   * compressed latent of {@code kv_lora_rank} plus one rotary key of {@code qk_rope_head_dim}
   * shared by all heads; each head's key has a no-position part of {@code qk_nope_head_dim} and the
   * rotary part; values are {@code v_head_dim} wide. The KV cache holds the latent and the rotary key
   * only ({@code kv_lora_rank + qk_rope_head_dim} per token and layer).
   */
  public record Mla(int qLoraRank, int kvLoraRank, int qkNopeDim, int qkRopeDim, int vDim) {
    public Mla {
      if (qLoraRank < 0 || kvLoraRank <= 0 || qkNopeDim <= 0 || qkRopeDim <= 0 || vDim <= 0) {
        throw new IllegalArgumentException("MLA ranks and head widths must be positive (q_lora_rank may be 0)");
      }
    }

    /** Query/key width of one head (no-position part + rotary part). */
    public int qkDim() {
      return qkNopeDim + qkRopeDim;
    }

    /** Parameters of one layer's attention (projections and the two latent norms) for {@code heads} heads. */
    long parameters(long hidden, long heads) {
      long q = qLoraRank > 0 ? hidden * qLoraRank + qLoraRank + (long) qLoraRank * heads * qkDim() : hidden * heads * qkDim();
      long kvA = hidden * (kvLoraRank + qkRopeDim) + kvLoraRank;
      long kvB = (long) kvLoraRank * heads * (qkNopeDim + vDim);
      return q + kvA + kvB + heads * vDim * hidden;
    }
  }

  /**
   * Attention beyond plain multi-/grouped-query attention.
   *
   * @param qkvBias only the query/key/value projections carry biases (Qwen2), when {@code bias} is false
   * @param qkNorm a per-head RMSNorm on queries and keys (Qwen3): two head_dim-wide gains per layer
   * @param sinks a learned attention-sink logit per head (gpt-oss): one parameter per head and layer
   * @param window sliding-window width in tokens of the windowed layers, 0 for none
   * @param windowLayers layers that attend within the window (gpt-oss: every other one; Mistral v0.1: all)
   * @param mla multi-head latent attention in place of the per-head K/V projections, or null
   */
  public record AttentionVariant(boolean qkvBias, boolean qkNorm, boolean sinks, int window, int windowLayers, Mla mla) {
    /** Plain attention: no variants. */
    public static final AttentionVariant STANDARD = new AttentionVariant(false, false, false, 0, 0, null);

    public AttentionVariant {
      if (window < 0 || windowLayers < 0 || (window == 0) != (windowLayers == 0)) {
        throw new IllegalArgumentException("a sliding window needs both its width and its layer count");
      }
    }

    /** The context a windowed layer attends over at context {@code ctx}. */
    public long span(long ctx, boolean windowed) {
      return windowed && window > 0 ? Math.min(ctx, window) : ctx;
    }
  }

  /**
   * The mixture-of-experts MLP (Mixtral, Qwen-MoE, gpt-oss, DeepSeek-V3): a router (a
   * {@code hidden x experts} GEMM and top-k selection) sends each token to {@code topK} of
   * {@code experts} routed experts, each an MLP of width {@code expertFfn} of the model's MLP kind;
   * shared experts (total width {@code sharedFfn}, 0 for none) see every token; the first
   * {@code denseLayers} layers keep a dense MLP of width {@code ffn}.
   *
   * @param experts routed experts per layer
   * @param topK experts each token is routed to
   * @param expertFfn intermediate width of one routed expert
   * @param sharedFfn total intermediate width of the shared experts (0: none)
   * @param sharedGate the shared experts' output is scaled by a learned sigmoid gate (Qwen2-MoE: a hidden x 1 projection)
   * @param denseLayers leading layers with a dense MLP (DeepSeek-V3 first_k_dense_replace)
   * @param expertBias the experts' projections carry biases (gpt-oss)
   * @param routerBias the router carries a per-expert bias (gpt-oss's router bias, DeepSeek-V3's score correction)
   * @param expertWeights storage type of the experts' weights, or null for the compute type (gpt-oss: MXFP4)
   */
  public record Moe(int experts, int topK, int expertFfn, int sharedFfn, boolean sharedGate, int denseLayers, boolean expertBias,
      boolean routerBias, DType expertWeights) {
    public Moe {
      if (experts < 2 || topK < 1 || topK > experts || expertFfn <= 0 || sharedFfn < 0 || denseLayers < 0) {
        throw new IllegalArgumentException("a mixture of experts needs experts >= 2, 1 <= top-k <= experts and positive widths");
      }
    }
  }

  /** MLP kinds. */
  public enum Mlp {
    /** SwiGLU: gate and up projections, SiLU(gate) * up, down projection (Llama). */
    SWIGLU(3),
    /** GELU: up projection, GELU, down projection (GPT-2/3). */
    GELU(2);

    private final int matrices;

    Mlp(int matrices) {
      this.matrices = matrices;
    }

    /** Weight matrices of hidden x ffn. */
    public int matrices() {
      return matrices;
    }

    public static Mlp parse(String s) {
      return switch (s.toLowerCase(Locale.ROOT)) {
        case "swiglu", "silu" -> SWIGLU;
        case "gelu" -> GELU;
        default -> throw new IllegalArgumentException("must be swiglu or gelu");
      };
    }
  }

  /** Normalisation kinds. */
  public enum Norm {
    RMSNORM(1), LAYERNORM(2);

    private final int vectors;

    Norm(int vectors) {
      this.vectors = vectors;
    }

    /** Parameter vectors of width hidden (RMSNorm: gain; LayerNorm: gain and bias). */
    public int vectors() {
      return vectors;
    }

    /** The row-kernel name in {@link NormLowering}. */
    public String kernel() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Norm parse(String s) {
      return switch (s.toLowerCase(Locale.ROOT)) {
        case "rmsnorm" -> RMSNORM;
        case "layernorm" -> LAYERNORM;
        default -> throw new IllegalArgumentException("must be rmsnorm or layernorm");
      };
    }
  }

  /** Position encodings. */
  public enum Positions {
    ROPE, LEARNED;

    public static Positions parse(String s) {
      return switch (s.toLowerCase(Locale.ROOT)) {
        case "rope" -> ROPE;
        case "learned" -> LEARNED;
        default -> throw new IllegalArgumentException("must be rope or learned");
      };
    }
  }

  public ModelShape {
    if (mlp == null || norm == null || positions == null || attention == null) {
      throw new IllegalArgumentException("mlp, norm, positions and attention are required");
    }
    if (moe != null && moe.denseLayers() > layers) {
      throw new IllegalArgumentException("more dense layers than layers");
    }
    if (attention.windowLayers() > layers) {
      throw new IllegalArgumentException("more sliding-window layers than layers");
    }
    if (positions == Positions.LEARNED && maxPositions <= 0) {
      throw new IllegalArgumentException("learned positions need max_positions > 0");
    }
  }

  /** A Llama-style shape: SwiGLU, RMSNorm, no biases, rotary positions, untied embeddings. */
  public ModelShape(String name, int layers, int hidden, int heads, int kvHeads, int headDim, int ffn, int vocab) {
    this(name, layers, hidden, heads, kvHeads, headDim, ffn, vocab, Mlp.SWIGLU, Norm.RMSNORM, false, Positions.ROPE, 0, false);
  }

  /** A dense model with plain attention. */
  public ModelShape(String name, int layers, int hidden, int heads, int kvHeads, int headDim, int ffn, int vocab,
      Mlp mlp, Norm norm, boolean bias, Positions positions, int maxPositions, boolean tiedEmbeddings) {
    this(name, layers, hidden, heads, kvHeads, headDim, ffn, vocab, mlp, norm, bias, positions, maxPositions, tiedEmbeddings,
        AttentionVariant.STANDARD, null);
  }

  /** The same architecture with other widths (a tensor-parallel shard, say); a MoE's experts keep their width. */
  public ModelShape withWidths(String newName, int newHeads, int newKvHeads, int newFfn, int newVocab) {
    return new ModelShape(newName, layers, hidden, newHeads, newKvHeads, headDim, newFfn, newVocab, mlp, norm, bias, positions,
        maxPositions, tiedEmbeddings, attention, moe);
  }

  /** The same architecture with another mixture of experts (an expert-parallel shard, say). */
  public ModelShape withMoe(String newName, Moe newMoe) {
    return new ModelShape(newName, layers, hidden, heads, kvHeads, headDim, ffn, vocab, mlp, norm, bias, positions,
        maxPositions, tiedEmbeddings, attention, newMoe);
  }

  /** The model has mixture-of-experts layers. */
  public boolean isMoe() {
    return moe != null;
  }

  /** Layers whose MLP is the mixture of experts (0 for a dense model). */
  public int moeLayers() {
    return moe == null ? 0 : layers - moe.denseLayers();
  }

  /**
   * Parameters of one layer's attention block: projections, (when present) their biases, the
   * per-head q/k norms and sinks, and its norm.
   */
  public long attentionParameters() {
    long q = (long) heads * headDim;
    long kv = (long) kvHeads * headDim;
    long proj = attention.mla() != null ? attention.mla().parameters(hidden, heads) : hidden * (q + 2 * kv) + q * hidden;
    long biases = bias ? q + 2 * kv + hidden : attention.qkvBias() ? q + 2 * kv : 0;
    long extras = (attention.qkNorm() ? 2L * headDim : 0) + (attention.sinks() ? heads : 0);
    return proj + biases + extras + (long) norm.vectors() * hidden;
  }

  /** Parameters of an MLP of intermediate width {@code width} (with biases when {@code biased}). */
  long mlpParameters(long width, boolean biased) {
    return (long) mlp.matrices() * hidden * width + (biased ? (long) (mlp.matrices() - 1) * width + hidden : 0);
  }

  /** Parameters of one dense layer's MLP block (and its norm). */
  public long denseMlpParameters() {
    return mlpParameters(ffn, bias) + (long) norm.vectors() * hidden;
  }

  /** Parameters of one routed expert. */
  public long expertParameters() {
    return mlpParameters(moe.expertFfn(), moe.expertBias());
  }

  /** Parameters of a MoE layer's MLP block with {@code routed} of its routed experts (the router, shared experts and norm included). */
  public long moeMlpParameters(int routed) {
    long router = (long) hidden * moe.experts() + (moe.routerBias() ? moe.experts() : 0);
    long shared = moe.sharedFfn() > 0 ? mlpParameters(moe.sharedFfn(), false) + (moe.sharedGate() ? hidden : 0) : 0;
    return router + shared + routed * expertParameters() + (long) norm.vectors() * hidden;
  }

  /** Parameters of all decoder layers. */
  public long decoderParameters() {
    return layers * attentionParameters() + (long) (layers - moeLayers()) * denseMlpParameters()
        + (moe == null ? 0 : moeLayers() * moeMlpParameters(moe.experts()));
  }

  /** Parameters of all decoder layers a token passes through: every routed layer counts its top-k experts only. */
  public long activeDecoderParameters() {
    return moe == null ? decoderParameters() : layers * attentionParameters() + (long) (layers - moeLayers()) * denseMlpParameters()
        + moeLayers() * moeMlpParameters(moe.topK());
  }

  /**
   * Parameters of one decoder layer: attention, MLP, norms and (when present) biases. For a MoE
   * model the mean over its layers (dense and sparse), every expert counted; exact for dense models.
   */
  public long layerParameters() {
    return decoderParameters() / layers;
  }

  /** Parameters of the input embedding (and learned positions). */
  public long embeddingParameters() {
    return (long) vocab * hidden + (positions == Positions.LEARNED ? (long) maxPositions * hidden : 0);
  }

  /** Parameters of the LM head: zero when tied to the input embedding. */
  public long headParameters() {
    return tiedEmbeddings ? 0 : (long) vocab * hidden;
  }

  public long parameters() {
    return decoderParameters() + embeddingParameters() + headParameters() + (long) norm.vectors() * hidden;
  }

  /**
   * Parameters one token uses: all but the routed experts it is not sent to (embedding, LM head
   * and final norm included). Publishers differ on whether the input embedding counts (a lookup,
   * no FLOPs): subtract {@link #embeddingParameters()} for the convention without it.
   */
  public long activeParameters() {
    return activeDecoderParameters() + embeddingParameters() + headParameters() + (long) norm.vectors() * hidden;
  }
}
