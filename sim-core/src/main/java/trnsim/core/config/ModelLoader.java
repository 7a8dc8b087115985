package trnsim.core.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import trnsim.isa.lower.ModelShape;

/**
 * Loads model shapes ({@code configs/workloads/models/NAME.yaml}) and named workloads
 * ({@code configs/workloads/NAME.yaml} with a {@code workload:} string or a {@code workloads:} list),
 * with the same strict checking as hardware configs.
 */
public final class ModelLoader {
  private final Path root;
  private final ObjectMapper yaml = HardwareLoader.yamlMapper();
  private final ObjectMapper binder = HardwareLoader.bindingMapper(yaml);
  private final Map<String, ModelShape> cache = new HashMap<>();

  /**
   * Shape as bound from YAML. The eight width keys are required; the architecture keys default to
   * Llama's choices: {@code mlp: swiglu}, {@code norm: rmsnorm}, {@code bias: false},
   * {@code positions: rope}, {@code tied_embeddings: false} ({@code max_positions} is required with
   * learned positions).
   */
  record ModelYaml(String name, Integer layers, Integer hidden, Integer heads, Integer kvHeads, Integer headDim,
      Integer ffn, Integer vocab, String mlp, String norm, Boolean bias, String positions, Integer maxPositions,
      Boolean tiedEmbeddings, AttentionYaml attention, MoeYaml moe) {
    ModelYaml {
      Require.present(name, "name");
      Require.positive(layers, "layers");
      Require.positive(hidden, "hidden");
      Require.positive(heads, "heads");
      Require.positive(kvHeads, "kv_heads");
      Require.positive(headDim, "head_dim");
      Require.positive(ffn, "ffn");
      Require.positive(vocab, "vocab");
      if (heads % kvHeads != 0) {
        throw new ConfigFieldException("kv_heads", kvHeads, "must divide heads (" + heads + ")");
      }
      parse(mlp, "mlp", ModelShape.Mlp::parse);
      parse(norm, "norm", ModelShape.Norm::parse);
      ModelShape.Positions p = parse(positions, "positions", ModelShape.Positions::parse);
      if (p == ModelShape.Positions.LEARNED) {
        Require.positive(maxPositions, "max_positions");
      } else if (maxPositions != null) {
        throw new ConfigFieldException("max_positions", maxPositions, "only applies to positions: learned");
      }
    }

    static <T> T parse(String value, String field, java.util.function.Function<String, T> f) {
      if (value == null) {
        return null;
      }
      try {
        return f.apply(value);
      } catch (IllegalArgumentException e) {
        throw new ConfigFieldException(field, value, e.getMessage());
      }
    }

    ModelShape shape() {
      ModelShape.Mlp m = mlp == null ? ModelShape.Mlp.SWIGLU : ModelShape.Mlp.parse(mlp);
      ModelShape.Norm n = norm == null ? ModelShape.Norm.RMSNORM : ModelShape.Norm.parse(norm);
      ModelShape.Positions p = positions == null ? ModelShape.Positions.ROPE : ModelShape.Positions.parse(positions);
      var a = attention == null ? ModelShape.AttentionVariant.STANDARD : attention.variant();
      try {
        return new ModelShape(name, layers, hidden, heads, kvHeads, headDim, ffn, vocab, m, n, Boolean.TRUE.equals(bias), p,
            maxPositions == null ? 0 : maxPositions, Boolean.TRUE.equals(tiedEmbeddings), a, moe == null ? null : moe.moe());
      } catch (IllegalArgumentException e) {
        throw new ConfigFieldException(moe != null ? "moe" : "attention", null, e.getMessage());
      }
    }
  }

  /**
   * {@code attention:} variants (all optional): {@code qkv_bias}, {@code qk_norm}, {@code sinks},
   * {@code window} with {@code window_layers}, and {@code mla:} (multi-head latent attention).
   */
  record AttentionYaml(Boolean qkvBias, Boolean qkNorm, Boolean sinks, Integer window, Integer windowLayers, MlaYaml mla) {
    AttentionYaml {
      if ((window == null) != (windowLayers == null)) {
        throw new ConfigFieldException(window == null ? "attention.window" : "attention.window_layers", null,
            "window and window_layers go together");
      }
      if (window != null) {
        Require.positive(window, "attention.window");
        Require.positive(windowLayers, "attention.window_layers");
      }
    }

    ModelShape.AttentionVariant variant() {
      return new ModelShape.AttentionVariant(Boolean.TRUE.equals(qkvBias), Boolean.TRUE.equals(qkNorm), Boolean.TRUE.equals(sinks),
          window == null ? 0 : window, windowLayers == null ? 0 : windowLayers, mla == null ? null : mla.mla());
    }
  }

  /** {@code attention.mla:} the latent ranks and head widths (Hugging Face DeepSeek key names). */
  record MlaYaml(Integer qLoraRank, Integer kvLoraRank, Integer qkNopeHeadDim, Integer qkRopeHeadDim, Integer vHeadDim) {
    MlaYaml {
      Require.atLeast(qLoraRank, 0, "attention.mla.q_lora_rank");
      Require.positive(kvLoraRank, "attention.mla.kv_lora_rank");
      Require.positive(qkNopeHeadDim, "attention.mla.qk_nope_head_dim");
      Require.positive(qkRopeHeadDim, "attention.mla.qk_rope_head_dim");
      Require.positive(vHeadDim, "attention.mla.v_head_dim");
    }

    ModelShape.Mla mla() {
      return new ModelShape.Mla(qLoraRank, kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim);
    }
  }

  /**
   * {@code moe:} routed experts ({@code experts}, {@code top_k}, {@code expert_ffn}), optional
   * shared experts ({@code shared_ffn}, {@code shared_gate}), leading dense layers
   * ({@code dense_layers}), biases ({@code expert_bias}, {@code router_bias}) and the experts'
   * storage type ({@code expert_weights}: mxfp4, fp8, bf16).
   */
  record MoeYaml(Integer experts, Integer topK, Integer expertFfn, Integer sharedFfn, Boolean sharedGate, Integer denseLayers,
      Boolean expertBias, Boolean routerBias, String expertWeights) {
    MoeYaml {
      Require.atLeast(experts, 2, "moe.experts");
      Require.positive(topK, "moe.top_k");
      if (topK > experts) {
        throw new ConfigFieldException("moe.top_k", topK, "must not exceed moe.experts (" + experts + ")");
      }
      Require.positive(expertFfn, "moe.expert_ffn");
      Require.orDefault(sharedFfn, 0, 0, "moe.shared_ffn");
      Require.orDefault(denseLayers, 0, 0, "moe.dense_layers");
      if (expertWeights != null && !List.of("mxfp4", "fp8", "bf16").contains(expertWeights)) {
        throw new ConfigFieldException("moe.expert_weights", expertWeights, "must be mxfp4, fp8 or bf16");
      }
    }

    ModelShape.Moe moe() {
      trnsim.isa.DType w = expertWeights == null ? null : trnsim.isa.DType.parse(expertWeights);
      return new ModelShape.Moe(experts, topK, expertFfn, sharedFfn == null ? 0 : sharedFfn, Boolean.TRUE.equals(sharedGate),
          denseLayers == null ? 0 : denseLayers, Boolean.TRUE.equals(expertBias), Boolean.TRUE.equals(routerBias), w);
    }
  }

  public ModelLoader(Path configsRoot) {
    this.root = configsRoot;
  }

  /** The model's shape, or a ConfigException naming the unknown model and the known ones. */
  public synchronized ModelShape model(String name) {
    ModelShape cached = cache.get(name);
    if (cached != null) {
      return cached;
    }
    if (HfConfigImport.isPath(name)) {
      ModelShape s = HfConfigImport.load(Path.of(name));
      cache.put(name, s);
      return s;
    }
    Path dir = root.resolve("workloads").resolve("models");
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*") || !Files.isRegularFile(dir.resolve(name + ".yaml"))) {
      throw new ConfigException("workload", "model", name, "unknown model; known: " + String.join(", ", names(dir))
          + " (or a path to a Hugging Face config.json)");
    }
    Path file = dir.resolve(name + ".yaml");
    JsonNode tree = new HardwareLoader(root).readYamlObject(file);
    try {
      ModelYaml m = binder.treeToValue(tree, ModelYaml.class);
      ModelShape s = m.shape();
      cache.put(name, s);
      return s;
    } catch (JsonProcessingException e) {
      throw HardwareLoader.translate(e, tree, Map.of(), file.toString());
    }
  }

  /** Inline workload strings of a named workload file: {@code workload: "..."} or {@code workloads: [...]}. */
  /**
   * One entry of a suite: a workload and, optionally, the systems to run it on when the compared
   * chips are theirs (e.g. a training step per UltraServer in a chip-vs-chip comparison).
   */
  public record SuiteEntry(String workload, String baseline, String target) {}

  /** Workload strings of a named file (entries' system pins dropped). */
  public List<String> workloads(String name) {
    return suite(name).stream().map(SuiteEntry::workload).toList();
  }

  /** Entries of a named workload file: {@code workload: "..."} or {@code workloads: [...]} of strings or mappings. */
  public List<SuiteEntry> suite(String name) {
    Path dir = root.resolve("workloads");
    Path file = name.endsWith(".yaml") ? Path.of(name) : dir.resolve(name + ".yaml");
    if (!Files.isRegularFile(file)) {
      file = dir.resolve("suites").resolve(name + ".yaml");
    }
    if (!Files.isRegularFile(file)) {
      throw new ConfigException("--workload", null, name,
          "not an inline workload (kind:key=value,...) and no file configs/workloads/" + name + ".yaml");
    }
    JsonNode tree = new HardwareLoader(root).readYamlObject(file);
    java.util.List<SuiteEntry> out = new java.util.ArrayList<>();
    var it = tree.fields();
    while (it.hasNext()) {
      var e = it.next();
      switch (e.getKey()) {
        case "description" -> { }
        case "workload" -> {
          if (!e.getValue().isTextual()) {
            throw new ConfigException(file.toString(), "workload", e.getValue().toString(), "must be a string such as gemm:m=4096,k=4096,n=4096");
          }
          out.add(new SuiteEntry(e.getValue().asText(), null, null));
        }
        case "workloads" -> {
          if (!e.getValue().isArray()) {
            throw new ConfigException(file.toString(), "workloads", e.getValue().toString(), "must be a list of workload strings");
          }
          int i = 0;
          for (JsonNode w : e.getValue()) {
            String at = "workloads[" + i + "]";
            if (w.isTextual()) {
              out.add(new SuiteEntry(w.asText(), null, null));
            } else if (w.isObject()) {
              String wl = null;
              String b = null;
              String t = null;
              var f = w.fields();
              while (f.hasNext()) {
                var kv = f.next();
                if (!kv.getValue().isTextual()) {
                  throw new ConfigException(file.toString(), at + "." + kv.getKey(), kv.getValue().toString(), "must be a string");
                }
                switch (kv.getKey()) {
                  case "workload" -> wl = kv.getValue().asText();
                  case "baseline" -> b = kv.getValue().asText();
                  case "target" -> t = kv.getValue().asText();
                  default -> throw new ConfigException(file.toString(), at + "." + kv.getKey(), kv.getValue().asText(),
                      "unknown key; known keys here: baseline, target, workload");
                }
              }
              if (wl == null) {
                throw new ConfigException(file.toString(), at + ".workload", null, "missing required key");
              }
              if ((b == null) != (t == null)) {
                throw new ConfigException(file.toString(), at, w.toString(), "baseline and target go together");
              }
              out.add(new SuiteEntry(wl, b, t));
            } else {
              throw new ConfigException(file.toString(), at, w.toString(), "must be a workload string or a mapping");
            }
            i++;
          }
        }
        default -> throw new ConfigException(file.toString(), e.getKey(), null, "unknown key; known keys here: description, workload, workloads");
      }
    }
    if (out.isEmpty()) {
      throw new ConfigException(file.toString(), "workload", null, "missing required key");
    }
    return out;
  }

  private static List<String> names(Path dir) {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml"))
          .map(n -> n.substring(0, n.length() - 5)).sorted().toList();
    } catch (java.io.IOException e) {
      return List.of();
    }
  }
}
