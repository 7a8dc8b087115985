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

  /**
   * GPU serving stacks keep the KV cache in pages and attend over the live context: no power-of-two padding.
   * Two decode steps of the same compiled max_seq at live contexts 1100 and 1900 differ in HBM traffic by exactly
   * the 800 extra positions' K and V: 800 x kv heads x head_dim x 2 (K, V) x 2 B (bf16) x batch per layer
   * (Llama-3.2 1B: 8 kv heads of 64). A Neuron config (buckets of 2048 for both) reads the same span twice.
   */
  @Test
  void gpuDecodeReadsTheLiveContextNotAPowerOfTwoBucket() {
    String w = "llm-infer:model=llama3.2-1b,tp=1,phase=decode,batch=4,max_seq=2048,ctx=";
    LlmResult shortCtx = run("h100", w + 1100);
    LlmResult longCtx = run("h100", w + 1900);
    double kvPerLayer = 800.0 * 8 * 64 * 2 * 2 * 4;
    assertThat(longCtx.layer().hbmBytes() - shortCtx.layer().hbmBytes()).isCloseTo(kvPerLayer, org.assertj.core.api.Assertions.within(
        kvPerLayer * 1e-9));
    assertThat(String.join(" ", longCtx.notes())).contains("KV span of 1900 positions");
    LlmResult neuron = run("trn1", w + 1900);
    assertThat(String.join(" ", neuron.notes())).contains("KV span of 2048 positions");
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
