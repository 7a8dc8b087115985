package trnsim.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelLoaderTest {
  @TempDir
  Path tmp;

  private ModelLoader loaderWith(String suiteYaml) throws Exception {
    Path suites = tmp.resolve("workloads").resolve("suites");
    Files.createDirectories(suites);
    Files.writeString(suites.resolve("s.yaml"), suiteYaml);
    return new ModelLoader(tmp);
  }

  @Test
  void suitesMixStringsAndSystemPinnedEntries() throws Exception {
    var l = loaderWith("""
        workloads:
          - gemm:m=1,k=1,n=1
          - {workload: "llm-train:model=x", baseline: a-us, target: b-us}
        """);
    var entries = l.suite("s");
    assertThat(entries).hasSize(2);
    assertThat(entries.get(0).baseline()).isNull();
    assertThat(entries.get(1).target()).isEqualTo("b-us");
    assertThat(l.workloads("s")).containsExactly("gemm:m=1,k=1,n=1", "llm-train:model=x");
  }

  @Test
  void badSuiteEntriesNameTheKey() throws Exception {
    assertThatThrownBy(() -> loaderWith("workloads:\n  - {workload: w, baseline: a}\n").suite("s"))
        .hasMessageContaining("workloads[0]").hasMessageContaining("baseline and target go together");
    assertThatThrownBy(() -> loaderWith("workloads:\n  - {workloadz: w}\n").suite("s"))
        .hasMessageContaining("workloads[0].workloadz").hasMessageContaining("unknown key");
    assertThatThrownBy(() -> loaderWith("workloads:\n  - a:b=1\n  - [1]\n").suite("s"))
        .hasMessageContaining("workloads[1]");
  }

  @Test
  void shippedModelsLoadAndUnknownModelsListTheKnownOnes() {
    ModelLoader l = new ModelLoader(Path.of("..", "configs").toAbsolutePath().normalize());
    assertThat(l.model("llama3-70b").layers()).isEqualTo(80);
    assertThatThrownBy(() -> l.model("llama9")).hasMessageContaining("'llama9'").hasMessageContaining("llama3-8b");
  }

  @Test
  void gptStyleShapesLoadTheirArchitectureAndBadKindsNameTheField() throws Exception {
    ModelLoader shipped = new ModelLoader(Path.of("..", "configs").toAbsolutePath().normalize());
    var gpt = shipped.model("gpt3-6.7b");
    assertThat(gpt.mlp()).isEqualTo(trnsim.isa.lower.ModelShape.Mlp.GELU);
    assertThat(gpt.norm()).isEqualTo(trnsim.isa.lower.ModelShape.Norm.LAYERNORM);
    assertThat(gpt.bias()).isTrue();
    assertThat(gpt.tiedEmbeddings()).isTrue();
    assertThat(gpt.parameters()).isBetween(6_600_000_000L, 6_700_000_000L); // "6.7B" (Brown et al. 2020)
    var llama = shipped.model("llama3-8b");
    assertThat(llama.mlp()).isEqualTo(trnsim.isa.lower.ModelShape.Mlp.SWIGLU);
    assertThat(llama.bias()).isFalse();
    Path models = tmp.resolve("workloads").resolve("models");
    Files.createDirectories(models);
    String base = "name: m\nlayers: 2\nhidden: 64\nheads: 4\nkv_heads: 4\nhead_dim: 16\nffn: 256\nvocab: 100\n";
    Files.writeString(models.resolve("m.yaml"), base + "mlp: relu\n");
    assertThatThrownBy(() -> new ModelLoader(tmp).model("m")).hasMessageContaining("mlp").hasMessageContaining("relu")
        .hasMessageContaining("swiglu or gelu");
    Files.writeString(models.resolve("m.yaml"), base + "positions: learned\n");
    assertThatThrownBy(() -> new ModelLoader(tmp).model("m")).hasMessageContaining("max_positions");
  }
}
