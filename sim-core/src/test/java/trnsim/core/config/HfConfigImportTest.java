package trnsim.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import trnsim.isa.DType;
import trnsim.isa.lower.ModelShape;

/**
 * Hugging Face config.json import. Parameter counts of the shipped config.json files and shape
 * files against the totals their publishers state (model cards, papers: see
 * configs/workloads/models/hf/README.md and each shape file's source comment), within 1% unless the
 * published figure has fewer digits (then within its rounding).
 */
class HfConfigImportTest {
  static final Path CONFIGS = Path.of("..", "configs").toAbsolutePath().normalize();
  static final Path HF = CONFIGS.resolve("workloads/models/hf");

  @TempDir
  Path tmp;

  static ModelShape hf(String folder) {
    return HfConfigImport.load(HF.resolve(folder).resolve("config.json"));
  }

  /**
   * Published totals, billions. {@code active} counts the input embedding unless the publisher
   * excludes it ({@code withEmbedding} false: gpt-oss's model card counts the unembedding, not the
   * embedding).
   */
  @ParameterizedTest
  @CsvSource({
      "llama3-8b,         8.03,   8.03,  true,  0.01",
      "qwen3-32b,         32.8,   32.8,  true,  0.01",
      "mixtral-8x7b,      46.7,   12.9,  true,  0.01",
      "qwen1.5-moe-a2.7b, 14.3,   2.7,   true,  0.02",   // "2.7B": two digits
      "qwen3-30b-a3b,     30.5,   3.3,   true,  0.02",   // "3.3B": two digits
      "gpt-oss-20b,       20.91,  3.61,  false, 0.01",
      "gpt-oss-120b,      116.83, 5.13,  false, 0.01",
      "deepseek-v3,       671,    37,    true,  0.015",  // "37B": two digits (37.5B with the embedding, 36.6B without)
      "gpt2,              0.124,  0.124, true,  0.01",
  })
  void importedParameterCountsMatchThePublishedTotals(String folder, double total, double active, boolean withEmbedding, double tol) {
    ModelShape m = hf(folder);
    assertThat(m.name()).isEqualTo(folder);
    assertThat(m.parameters() / 1e9).isCloseTo(total, within(total * 0.01));
    double a = (m.activeParameters() - (withEmbedding ? 0 : m.embeddingParameters())) / 1e9;
    assertThat(a).isCloseTo(active, within(active * tol));
  }

  @ParameterizedTest
  @CsvSource({
      "mixtral-8x7b, mixtral-8x7b", "gpt-oss-20b, gpt-oss-20b", "gpt-oss-120b, gpt-oss-120b", "deepseek-v3, deepseek-v3",
      "llama3-8b, llama3-8b", "qwen3-32b, qwen3-32b"})
  void shippedShapeFilesEqualTheirConfigJson(String shipped, String folder) {
    ModelShape a = new ModelLoader(CONFIGS).model(shipped);
    ModelShape b = hf(folder);
    assertThat(a.parameters()).isEqualTo(b.parameters());
    assertThat(a.activeParameters()).isEqualTo(b.activeParameters());
    assertThat(a.withMoe("x", a.moe())).isEqualTo(b.withMoe("x", b.moe()));
  }

  @ParameterizedTest
  @CsvSource({"llama2-7b, 6.74", "llama2-13b, 13.0", "llama2-70b, 69.0", "llama3-70b, 70.6", "llama3-405b, 405.9",
      "mistral-7b, 7.24", "codellama-13b, 13.0", "gpt3-6.7b, 6.7", "gpt3-175b, 175"})
  void shippedDenseShapesMatchThePublishedTotals(String name, double billions) {
    // Llama 2 paper (Touvron et al. 2023) and model cards; Llama 3.1 model card (70.6B, 405.9B via the config); Mistral 7B
    // (7.24B, Jiang et al. 2023); GPT-3 (Brown et al. 2020, Table 2.1).
    ModelShape m = new ModelLoader(CONFIGS).model(name);
    assertThat(m.parameters() / 1e9).isCloseTo(billions, within(billions * 0.01));
    assertThat(m.activeParameters()).isEqualTo(m.parameters());
  }

  @Test
  void familiesMapTheirArchitecture() {
    ModelShape oss = hf("gpt-oss-120b");
    assertThat(oss.moe().expertWeights()).isEqualTo(DType.MXFP4);
    assertThat(oss.attention().window()).isEqualTo(128);
    assertThat(oss.attention().windowLayers()).isEqualTo(18);
    assertThat(oss.attention().sinks()).isTrue();
    ModelShape ds = hf("deepseek-v3");
    assertThat(ds.attention().mla().kvLoraRank()).isEqualTo(512);
    assertThat(ds.moe().denseLayers()).isEqualTo(3);
    assertThat(ds.moeLayers()).isEqualTo(58);
    assertThat(ds.headDim()).isEqualTo(192);
    ModelShape qwen = hf("qwen1.5-moe-a2.7b");
    assertThat(qwen.moe().sharedFfn()).isEqualTo(5632);
    assertThat(qwen.attention().qkvBias()).isTrue();
    assertThat(qwen.attention().window()).isZero(); // use_sliding_window false
    ModelShape gpt2 = hf("gpt2");
    assertThat(gpt2.mlp()).isEqualTo(ModelShape.Mlp.GELU);
    assertThat(gpt2.tiedEmbeddings()).isTrue();
    assertThat(gpt2.maxPositions()).isEqualTo(1024);
    // Mixtral: 12.9B active = attention + 2 of 8 experts + router per layer (closed form)
    ModelShape mx = hf("mixtral-8x7b");
    long expert = 3L * 4096 * 14336;
    assertThat(mx.moeMlpParameters(2) - mx.moeMlpParameters(0)).isEqualTo(2 * expert);
    assertThat(mx.parameters() - mx.activeParameters()).isEqualTo(32L * 6 * expert);
  }

  @Test
  void loaderResolvesPathsAndNamesTheFolder() {
    ModelShape m = new ModelLoader(CONFIGS).model(HF.resolve("mixtral-8x7b/config.json").toString());
    assertThat(m.moe().experts()).isEqualTo(8);
  }

  private String load(String json) throws Exception {
    Path f = tmp.resolve("config.json");
    Files.writeString(f, json);
    try {
      HfConfigImport.load(f);
      return null;
    } catch (ConfigException e) {
      return e.getMessage();
    }
  }

  @Test
  void badConfigsGiveOneLineNamingFileKeyAndWhatIsSupported() throws Exception {
    String llama = "{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
        + " \"intermediate_size\": 128, \"vocab_size\": 100";
    assertThat(load(llama + "}")).isNull();
    assertThat(load("{\"model_type\": \"bert\"}")).contains("config.json").contains("model_type").contains("'bert'")
        .contains("llama").contains("deepseek_v3").doesNotContain("\n");
    assertThat(load("{\"architectures\": [\"T5ForConditionalGeneration\"]}")).contains("architectures")
        .contains("MixtralForCausalLM");
    assertThat(load("{\"hidden_size\": 1}")).contains("model_type").contains("missing");
    assertThat(load("{\"model_type\": \"llama\", \"hidden_size\": 64}")).contains("num_hidden_layers").contains("missing required key");
    assertThat(load(llama + ", \"hidden_act\": \"relu\"}")).contains("hidden_act").contains("silu");
    assertThat(load(llama + ", \"num_key_value_heads\": 3}")).contains("num_key_value_heads").contains("must divide");
    assertThat(load(llama.replace("64", "-64") + "}")).contains("hidden_size").contains("positive");
    assertThat(load(llama + ", \"tie_word_embeddings\": \"yes\"}")).contains("tie_word_embeddings");
    assertThat(load(llama)).contains("not valid JSON").doesNotContain("\n");
    assertThat(load("[1]")).contains("JSON object");
    assertThat(load("{\"model_type\": \"mixtral\"" + llama.substring(llama.indexOf(',')) + "}")).contains("num_local_experts");
    assertThatThrownBy(() -> HfConfigImport.load(tmp.resolve("nope/config.json"))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("no such file");
  }

  @Test
  void moeShapeFilesRejectBadFields() throws Exception {
    Path models = tmp.resolve("workloads").resolve("models");
    Files.createDirectories(models);
    String base = "name: m\nlayers: 2\nhidden: 64\nheads: 4\nkv_heads: 4\nhead_dim: 16\nffn: 256\nvocab: 100\n";
    Files.writeString(models.resolve("m.yaml"), base + "moe:\n  experts: 4\n  top_k: 8\n  expert_ffn: 32\n");
    assertThatThrownBy(() -> new ModelLoader(tmp).model("m")).hasMessageContaining("moe.top_k").hasMessageContaining("must not exceed");
    Files.writeString(models.resolve("m.yaml"), base + "moe:\n  experts: 4\n  top_k: 2\n  expert_ffn: 32\n  dense_layers: 3\n");
    assertThatThrownBy(() -> new ModelLoader(tmp).model("m")).hasMessageContaining("dense layers");
    Files.writeString(models.resolve("m.yaml"), base + "attention:\n  window: 128\n");
    assertThatThrownBy(() -> new ModelLoader(tmp).model("m")).hasMessageContaining("window_layers");
  }
}
