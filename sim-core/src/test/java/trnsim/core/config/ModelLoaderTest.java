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
}
