package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.ModelLoader;
import trnsim.core.run.RunOptions;
import trnsim.isa.workload.WorkloadSpec;

/**
 * The llm-train plan search: it never returns a plan slower than the default chooser's, and every
 * plan it lists composes to the same step as a run that gives that plan explicitly (the shared
 * layer simulations change nothing).
 */
class PlanSearchTest {
  static final java.nio.file.Path CONFIGS = java.nio.file.Path.of("..", "configs").toAbsolutePath().normalize();

  static LlmResult run(String w) {
    var hw = new HardwareLoader(CONFIGS).load("trn2-48xl", List.of()).spec();
    return LlmSystem.run(hw, WorkloadSpec.parse(w, "test"), new ModelLoader(CONFIGS)::model, null, RunOptions.defaults());
  }

  @Test
  void searchIsNeverSlowerThanTheDefaultChooserAndItsPlansReproduce() {
    String base = "llm-train:model=llama3.2-1b,seq=1024,global_batch=32";
    LlmResult first = run(base);
    LlmResult best = run(base + ",plan=search");
    assertThat(best.seconds()).isLessThanOrEqualTo(first.seconds());
    List<String> plans = best.notes().stream().filter(n -> n.startsWith("plan #")).toList();
    assertThat(plans).hasSizeGreaterThanOrEqualTo(2);
    Matcher x = Pattern.compile("plan #2 tp=(\\d+) pp=(\\d+) dp=(\\d+) microbatches=(\\d+): step ([0-9.]+) ms").matcher(plans.get(1));
    assertThat(x.find()).isTrue();
    LlmResult second = run(base + ",tp=" + x.group(1) + ",pp=" + x.group(2) + ",dp=" + x.group(3) + ",microbatches=" + x.group(4));
    assertThat(second.seconds() * 1e3).isCloseTo(Double.parseDouble(x.group(5)), org.assertj.core.api.Assertions.within(1e-3));
    assertThat(second.seconds()).isGreaterThanOrEqualTo(best.seconds());
    // plan=first (the default) is the chooser alone: no search notes
    assertThat(first.notes()).noneMatch(n -> n.startsWith("plan search"));
  }
}
