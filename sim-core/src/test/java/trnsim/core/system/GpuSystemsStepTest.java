package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.ModelLoader;
import trnsim.core.run.RunOptions;
import trnsim.isa.workload.WorkloadSpec;

/**
 * A training step and a decode step run on every GPU system (small model so the suite stays short), use every GPU
 * of the system, and stay below the roofline: model FLOPs per second never exceed the system's dense peak, and a
 * decode step never beats reading the weights once from HBM.
 */
class GpuSystemsStepTest {
  static final Path CONFIGS = Path.of("..", "configs").toAbsolutePath().normalize();
  static final HardwareLoader LOADER = new HardwareLoader(CONFIGS);
  static final ModelLoader MODELS = new ModelLoader(CONFIGS);
  static final List<String> SYSTEMS = List.of("h200-hgx8", "b200-hgx8", "gb200-nvl72", "gb300-nvl72");

  static LlmResult run(String hw, String w) {
    HardwareSpec h = LOADER.load(hw, List.of()).spec();
    return LlmSystem.run(h, WorkloadSpec.parse(w, "test"), MODELS::model, null, RunOptions.defaults());
  }

  @Test
  void trainingStepRunsOnEverySystem() {
    for (String s : SYSTEMS) {
      // the default chooser's plan: this checks the step model on each system (the plan search: PlanSearchTest)
      LlmResult r = run(s, "llm-train:model=llama3.2-1b,seq=256,global_batch=8,systems=1,plan=first");
      HardwareSpec h = LOADER.load(s, List.of()).spec();
      assertThat(r.chips()).as(s).isEqualTo(h.totalChips());
      assertThat(r.seconds()).as(s).isPositive();
      assertThat(r.mfu()).as(s).isBetween(0.0, 1.0);
    }
  }

  @Test
  void decodeStepRunsOnEverySystem() {
    for (String s : SYSTEMS) {
      LlmResult r = run(s, "llm-infer:model=llama3.2-1b,phase=decode,batch=8,ctx=1024");
      HardwareSpec h = LOADER.load(s, List.of()).spec();
      double weightBytes = 2.0 * 1.24e9; // Llama-3.2 1B, bf16: ~1.24 B parameters
      double bound = weightBytes / h.chip().hbm().sustainedBytesPerSecond();
      assertThat(r.seconds()).as(s).isGreaterThan(bound * 0.9);
      assertThat(r.tokensPerSecond()).as(s).isPositive();
    }
  }
}
