package trnsim.isa.lower;

import java.util.Locale;

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
 */
public record ModelShape(String name, int layers, int hidden, int heads, int kvHeads, int headDim, int ffn, int vocab,
    Mlp mlp, Norm norm, boolean bias, Positions positions, int maxPositions, boolean tiedEmbeddings) {

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
    if (mlp == null || norm == null || positions == null) {
      throw new IllegalArgumentException("mlp, norm and positions are required");
    }
    if (positions == Positions.LEARNED && maxPositions <= 0) {
      throw new IllegalArgumentException("learned positions need max_positions > 0");
    }
  }

  /** A Llama-style shape: SwiGLU, RMSNorm, no biases, rotary positions, untied embeddings. */
  public ModelShape(String name, int layers, int hidden, int heads, int kvHeads, int headDim, int ffn, int vocab) {
    this(name, layers, hidden, heads, kvHeads, headDim, ffn, vocab, Mlp.SWIGLU, Norm.RMSNORM, false, Positions.ROPE, 0, false);
  }

  /** The same architecture with other widths (a tensor-parallel shard, say). */
  public ModelShape withWidths(String newName, int newHeads, int newKvHeads, int newFfn, int newVocab) {
    return new ModelShape(newName, layers, hidden, newHeads, newKvHeads, headDim, newFfn, newVocab, mlp, norm, bias, positions,
        maxPositions, tiedEmbeddings);
  }

  /** Parameters of one decoder layer: attention, MLP, norms and (when present) biases. */
  public long layerParameters() {
    long q = (long) heads * headDim;
    long kv = (long) kvHeads * headDim;
    long attn = hidden * (q + 2 * kv) + q * hidden;
    long mlpW = (long) mlp.matrices() * hidden * ffn;
    long norms = 2L * norm.vectors() * hidden;
    long biases = bias ? (q + 2 * kv) + hidden + (long) (mlp.matrices() - 1) * ffn + hidden : 0;
    return attn + mlpW + norms + biases;
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
    return layers * layerParameters() + embeddingParameters() + headParameters() + (long) norm.vectors() * hidden;
  }
}
