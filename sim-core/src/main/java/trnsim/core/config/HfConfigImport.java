package trnsim.core.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import trnsim.isa.DType;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.lower.ModelShape.AttentionVariant;
import trnsim.isa.lower.ModelShape.Mla;
import trnsim.isa.lower.ModelShape.Moe;

/**
 * A model shape from a Hugging Face {@code config.json} as it is downloaded with a model. The
 * architecture comes from {@code model_type} (or, without it, {@code architectures[0]}); each
 * family reads the keys its Transformers configuration class defines, with that class's defaults
 * for the optional ones (num_key_value_heads = num_attention_heads, head_dim = hidden_size /
 * num_attention_heads, tie_word_embeddings false for the Llama family, true for GPT-2). Keys that
 * do not change the shape (token ids, rope scaling, dropout, initialisation) are ignored.
 *
 * <p>Simplified: what the simulator does not represent is dropped here, not approximated: rope
 * scaling and theta (no cost difference), Llama's {@code attention_bias} without {@code mlp_bias}
 * counts the q/k/v biases only (the output projection's hidden-wide bias is not counted),
 * DeepSeek's node-limited group routing ({@code n_group}, {@code topk_group}) and its
 * multi-token-prediction module ({@code num_nextn_predict_layers}, not part of the 671B main model).
 */
public final class HfConfigImport {
  private HfConfigImport() {}

  /** The families trnsim imports, by {@code model_type}. */
  public static final List<String> SUPPORTED = List.of("llama", "mistral", "qwen2", "qwen3", "mixtral", "qwen2_moe", "qwen3_moe",
      "gpt_oss", "deepseek_v3", "gpt2");

  private static final Map<String, String> ARCHITECTURES = Map.ofEntries(Map.entry("LlamaForCausalLM", "llama"),
      Map.entry("MistralForCausalLM", "mistral"), Map.entry("Qwen2ForCausalLM", "qwen2"), Map.entry("Qwen3ForCausalLM", "qwen3"),
      Map.entry("MixtralForCausalLM", "mixtral"), Map.entry("Qwen2MoeForCausalLM", "qwen2_moe"),
      Map.entry("Qwen3MoeForCausalLM", "qwen3_moe"), Map.entry("GptOssForCausalLM", "gpt_oss"),
      Map.entry("DeepseekV3ForCausalLM", "deepseek_v3"), Map.entry("GPT2LMHeadModel", "gpt2"));

  /** True when {@code model} names a config.json file rather than a shipped shape. */
  public static boolean isPath(String model) {
    return model.toLowerCase(Locale.ROOT).endsWith(".json");
  }

  /** The shape in {@code file}, named after its directory (a downloaded model's folder) or, for another file name, the file. */
  public static ModelShape load(Path file) {
    String where = file.toString();
    if (!Files.isRegularFile(file)) {
      throw new ConfigException("--workload", "model", where, "no such file (model= takes a shipped name or a Hugging Face config.json)");
    }
    JsonNode root;
    try {
      ObjectMapper json = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
      root = json.readTree(Files.readString(file));
    } catch (JsonProcessingException e) {
      var loc = e.getLocation();
      throw new ConfigException(where, null, null, "not valid JSON" + (loc == null ? "" : " at line " + loc.getLineNr()
          + ", column " + loc.getColumnNr()) + ": " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new ConfigException(where, null, null, "cannot read: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new ConfigException(where, null, null, "must be a JSON object (a Hugging Face config.json)");
    }
    String name = file.getFileName().toString().equals("config.json") && file.toAbsolutePath().getParent() != null
        ? file.toAbsolutePath().getParent().getFileName().toString()
        : file.getFileName().toString().replaceFirst("(?i)\\.json$", "");
    return new Reader(where, root).shape(name);
  }

  /** Typed access to one config's keys, every failure naming the file and the key. */
  private record Reader(String file, JsonNode root) {
    ModelShape shape(String name) {
      String type = family();
      return switch (type) {
        case "llama", "mistral", "qwen2", "qwen3", "mixtral", "qwen2_moe", "qwen3_moe" -> llamaFamily(name, type);
        case "gpt_oss" -> gptOss(name);
        case "deepseek_v3" -> deepseek(name);
        case "gpt2" -> gpt2(name);
        default -> throw new IllegalStateException(type);
      };
    }

    String family() {
      JsonNode t = root.get("model_type");
      if (t != null && !t.isNull()) {
        if (!t.isTextual() || !SUPPORTED.contains(t.asText())) {
          throw new ConfigException(file, "model_type", t.asText(t.toString()), "unsupported architecture; supported model_type: "
              + String.join(", ", SUPPORTED));
        }
        return t.asText();
      }
      JsonNode a = root.get("architectures");
      if (a == null || !a.isArray() || a.isEmpty() || !a.get(0).isTextual()) {
        throw new ConfigException(file, "model_type", null, "missing required key (or architectures); supported model_type: "
            + String.join(", ", SUPPORTED));
      }
      String arch = a.get(0).asText();
      String type = ARCHITECTURES.get(arch);
      if (type == null) {
        throw new ConfigException(file, "architectures", arch, "unsupported architecture; supported: "
            + String.join(", ", ARCHITECTURES.keySet().stream().sorted().toList()));
      }
      return type;
    }

    /** Llama, Mistral, Qwen2/3 and their MoE versions: GQA, RoPE, SwiGLU, RMSNorm. */
    ModelShape llamaFamily(String name, String type) {
      requireSilu("hidden_act");
      int hidden = positive("hidden_size");
      int layers = positive("num_hidden_layers");
      int heads = positive("num_attention_heads");
      int kv = optionalPositive("num_key_value_heads", heads);
      int headDim = optionalPositive("head_dim", divide(hidden, heads, "head_dim"));
      int vocab = positive("vocab_size");
      boolean tied = bool("tie_word_embeddings", false);
      boolean attnBias = bool("attention_bias", false);
      boolean mlpBias = bool("mlp_bias", false);
      boolean qwen2 = type.startsWith("qwen2");
      boolean qwen3 = type.startsWith("qwen3");
      int window = window(type, layers);
      var attn = new AttentionVariant(qwen2 || attnBias && !mlpBias, qwen3, false, window, window > 0 ? windowLayers(type, layers) : 0,
          null);
      Moe moe = switch (type) {
        case "mixtral" -> new Moe(atLeast("num_local_experts", 2), positive("num_experts_per_tok"), positive("intermediate_size"), 0,
            false, 0, false, false, null);
        case "qwen2_moe", "qwen3_moe" -> qwenMoe(type);
        default -> null;
      };
      int ffn = moe != null && !root.has("intermediate_size") ? moe.expertFfn() : positive("intermediate_size");
      checkHeads(heads, kv);
      return build(() -> new ModelShape(name, layers, hidden, heads, kv, headDim, ffn, vocab, ModelShape.Mlp.SWIGLU,
          ModelShape.Norm.RMSNORM, attnBias && mlpBias, ModelShape.Positions.ROPE, 0, tied, attn, moe));
    }

    /** Qwen2-MoE (shared expert behind a sigmoid gate) and Qwen3-MoE (routed experts only); every layer sparse. */
    Moe qwenMoe(String type) {
      int step = optionalPositive("decoder_sparse_step", 1);
      if (step != 1) {
        throw new ConfigException(file, "decoder_sparse_step", String.valueOf(step), "only 1 (every layer a mixture of experts) is supported");
      }
      JsonNode only = root.get("mlp_only_layers");
      if (only != null && !only.isNull() && !(only.isArray() && only.isEmpty())) {
        throw new ConfigException(file, "mlp_only_layers", only.toString(), "only an empty list is supported");
      }
      int shared = type.equals("qwen2_moe") ? optionalNonNegative("shared_expert_intermediate_size", 0) : 0;
      return new Moe(atLeast("num_experts", 2), positive("num_experts_per_tok"), positive("moe_intermediate_size"), shared, shared > 0,
          0, false, false, null);
    }

    /** Sliding window: Mistral's applies to every layer; Qwen's only with use_sliding_window, above max_window_layers. */
    int window(String type, int layers) {
      JsonNode w = root.get("sliding_window");
      if (w == null || w.isNull()) {
        return 0;
      }
      if (type.startsWith("qwen") && !bool("use_sliding_window", false)) {
        return 0;
      }
      int width = positive("sliding_window");
      return windowLayers(type, layers) > 0 ? width : 0;
    }

    int windowLayers(String type, int layers) {
      if (type.startsWith("qwen")) {
        return Math.max(0, layers - optionalNonNegative("max_window_layers", layers));
      }
      return layers;
    }

    /** gpt-oss: MoE in every layer, alternating sliding-window and full attention, sinks, MXFP4 experts. */
    ModelShape gptOss(String name) {
      requireSilu("hidden_act");
      int hidden = positive("hidden_size");
      int layers = positive("num_hidden_layers");
      int heads = positive("num_attention_heads");
      int kv = optionalPositive("num_key_value_heads", heads);
      int headDim = optionalPositive("head_dim", divide(hidden, heads, "head_dim"));
      int experts = atLeast("num_local_experts", 2);
      int topK = root.has("num_experts_per_tok") ? positive("num_experts_per_tok") : positive("experts_per_token");
      int ffn = positive("intermediate_size");
      int window = optionalNonNegative("sliding_window", 0);
      int windowed = window == 0 ? 0 : layerTypes(layers);
      JsonNode q = root.path("quantization_config").path("quant_method");
      DType expertWeights = q.isTextual() && q.asText().equalsIgnoreCase("mxfp4") ? DType.MXFP4 : null;
      var attn = new AttentionVariant(false, false, true, windowed == 0 ? 0 : window, windowed, null);
      var moe = new Moe(experts, topK, ffn, 0, false, 0, true, true, expertWeights);
      checkHeads(heads, kv);
      return build(() -> new ModelShape(name, layers, hidden, heads, kv, headDim, ffn, positive("vocab_size"), ModelShape.Mlp.SWIGLU,
          ModelShape.Norm.RMSNORM, bool("attention_bias", true), ModelShape.Positions.ROPE, 0, bool("tie_word_embeddings", false),
          attn, moe));
    }

    /** Layers marked sliding_attention in layer_types (gpt-oss: every other layer when absent). */
    int layerTypes(int layers) {
      JsonNode t = root.get("layer_types");
      if (t == null || t.isNull()) {
        return layers / 2;
      }
      if (!t.isArray() || t.size() != layers) {
        throw new ConfigException(file, "layer_types", t.toString(), "must list one type per layer (" + layers + ")");
      }
      int n = 0;
      for (JsonNode x : t) {
        String s = x.asText();
        if (!s.equals("sliding_attention") && !s.equals("full_attention")) {
          throw new ConfigException(file, "layer_types", s, "supported: sliding_attention, full_attention");
        }
        n += s.equals("sliding_attention") ? 1 : 0;
      }
      return n;
    }

    /** DeepSeek-V3: MLA, shared + routed experts, the first layers dense. */
    ModelShape deepseek(String name) {
      requireSilu("hidden_act");
      int hidden = positive("hidden_size");
      int layers = positive("num_hidden_layers");
      int heads = positive("num_attention_heads");
      JsonNode qr = root.get("q_lora_rank");
      int qLora = qr == null || qr.isNull() ? 0 : positive("q_lora_rank");
      var mla = new Mla(qLora, positive("kv_lora_rank"), positive("qk_nope_head_dim"), positive("qk_rope_head_dim"),
          positive("v_head_dim"));
      int freq = optionalPositive("moe_layer_freq", 1);
      if (freq != 1) {
        throw new ConfigException(file, "moe_layer_freq", String.valueOf(freq), "only 1 (every layer after the dense ones sparse) is supported");
      }
      int expertFfn = positive("moe_intermediate_size");
      int shared = optionalNonNegative("n_shared_experts", 0);
      String topkMethod = root.path("topk_method").asText("greedy");
      var moe = new Moe(atLeast("n_routed_experts", 2), positive("num_experts_per_tok"), expertFfn, shared * expertFfn, false,
          optionalNonNegative("first_k_dense_replace", 0), false, topkMethod.equals("noaux_tc"), null);
      if (moe.denseLayers() > layers) {
        throw new ConfigException(file, "first_k_dense_replace", String.valueOf(moe.denseLayers()), "more than num_hidden_layers (" + layers + ")");
      }
      // Heads attend with q/k of qk_nope + qk_rope wide; num_key_value_heads is the heads (MLA expands the latent per head).
      var attn = new AttentionVariant(false, false, false, 0, 0, mla);
      return build(() -> new ModelShape(name, layers, hidden, heads, heads, mla.qkDim(), positive("intermediate_size"), positive("vocab_size"),
          ModelShape.Mlp.SWIGLU, ModelShape.Norm.RMSNORM, bool("attention_bias", false), ModelShape.Positions.ROPE, 0,
          bool("tie_word_embeddings", false), attn, moe));
    }

    /** GPT-2 (and GPT-3-style configs in its format): LayerNorm, GELU MLP, biases, learned positions, tied embeddings. */
    ModelShape gpt2(String name) {
      JsonNode act = root.get("activation_function");
      if (act != null && !act.isNull() && !act.asText().toLowerCase(Locale.ROOT).startsWith("gelu")) {
        throw new ConfigException(file, "activation_function", act.asText(), "supported: gelu, gelu_new, gelu_pytorch_tanh");
      }
      int hidden = positive("n_embd");
      int heads = positive("n_head");
      JsonNode inner = root.get("n_inner");
      int ffn = inner == null || inner.isNull() ? 4 * hidden : positive("n_inner");
      return build(() -> new ModelShape(name, positive("n_layer"), hidden, heads, heads, divide(hidden, heads, "n_head"), ffn,
          positive("vocab_size"), ModelShape.Mlp.GELU, ModelShape.Norm.LAYERNORM, true, ModelShape.Positions.LEARNED,
          positive("n_positions"), bool("tie_word_embeddings", true)));
    }

    /** The shape's own consistency checks (layer counts, widths), reported against the file. */
    ModelShape build(java.util.function.Supplier<ModelShape> s) {
      try {
        return s.get();
      } catch (IllegalArgumentException e) {
        throw new ConfigException(file, null, null, e.getMessage());
      }
    }

    void checkHeads(int heads, int kv) {
      if (heads % kv != 0) {
        throw new ConfigException(file, "num_key_value_heads", String.valueOf(kv), "must divide num_attention_heads (" + heads + ")");
      }
    }

    void requireSilu(String key) {
      JsonNode a = root.get(key);
      if (a != null && !a.isNull() && !a.asText().equals("silu")) {
        throw new ConfigException(file, key, a.asText(), "supported: silu (a SwiGLU MLP)");
      }
    }

    int divide(int a, int b, String key) {
      if (a % b != 0) {
        throw new ConfigException(file, key, null, "missing, and hidden width " + a + " is not a multiple of " + b + " heads");
      }
      return a / b;
    }

    int positive(String key) {
      JsonNode v = root.get(key);
      if (v == null || v.isNull()) {
        throw new ConfigException(file, key, null, "missing required key");
      }
      return checked(key, v, 1);
    }

    int atLeast(String key, int min) {
      int v = positive(key);
      if (v < min) {
        throw new ConfigException(file, key, String.valueOf(v), "must be at least " + min);
      }
      return v;
    }

    int optionalPositive(String key, int dflt) {
      JsonNode v = root.get(key);
      return v == null || v.isNull() ? dflt : checked(key, v, 1);
    }

    int optionalNonNegative(String key, int dflt) {
      JsonNode v = root.get(key);
      return v == null || v.isNull() ? dflt : checked(key, v, 0);
    }

    int checked(String key, JsonNode v, int min) {
      if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min) {
        throw new ConfigException(file, key, v.toString(), min == 0 ? "must be a non-negative integer" : "must be a positive integer");
      }
      return v.asInt();
    }

    boolean bool(String key, boolean dflt) {
      JsonNode v = root.get(key);
      if (v == null || v.isNull()) {
        return dflt;
      }
      if (!v.isBoolean()) {
        throw new ConfigException(file, key, v.toString(), "must be true or false");
      }
      return v.asBoolean();
    }
  }
}
