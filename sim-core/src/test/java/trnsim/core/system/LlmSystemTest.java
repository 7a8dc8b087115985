package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.ModelLoader;
import trnsim.core.run.RunOptions;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/** Distributed LLM steps: scaling, pipeline bubbles, memory limits. Small shapes keep the tests fast. */
class LlmSystemTest {
  static final Path CONFIGS = Path.of("..", "configs").toAbsolutePath().normalize();
  static final HardwareLoader LOADER = new HardwareLoader(CONFIGS);
  static final ModelShape TINY = new ModelShape("tiny", 4, 512, 8, 4, 64, 2048, 8000);
  static final Function<String, ModelShape> MODELS = n -> n.equals("tiny") ? TINY : new ModelLoader(CONFIGS).model(n);

  static HardwareSpec hw(String name) {
    return LOADER.load(name, List.of()).spec();
  }

  static LlmResult run(String hwName, String w) {
    return LlmSystem.run(hw(hwName), WorkloadSpec.parse(w, "test"), MODELS, null, RunOptions.defaults());
  }

  @Test
  void moreChipsAtFixedGlobalBatchNeverIncreaseComputeTime() {
    double previous = Double.POSITIVE_INFINITY;
    for (int dp : new int[] {1, 3, 4, 16}) {
      LlmResult r = run("trn2-48xl", "llm-train:model=tiny,tp=1,pp=1,dp=" + dp + ",seq=128,global_batch=16");
      double compute = r.breakdown().get("compute");
      assertThat(compute).as("dp=%d", dp).isLessThanOrEqualTo(previous * (1 + 1e-12));
      previous = compute;
    }
  }

  @Test
  void aLargerSystemWithDefaultParallelismNeverIncreasesComputeTime() {
    // Same chip, same global batch: 16 chips (one trn2.48xlarge) against 64 (the Trn2 UltraServer), the default
    // chooser's plans (the smallest model-parallel group: the most data parallelism)
    LlmResult small = run("trn2-48xl", "llm-train:model=tiny,seq=128,global_batch=64,plan=first");
    LlmResult large = run("trn2-ultraserver", "llm-train:model=tiny,seq=128,global_batch=64,plan=first");
    assertThat(large.chips()).isGreaterThan(small.chips());
    assertThat(large.breakdown().get("compute")).isLessThanOrEqualTo(small.breakdown().get("compute"));
    assertThat(large.tokens()).isEqualTo(small.tokens());
  }

  @Test
  void breakdownSumsToTheStepAndPipelineBubbleFollowsTheSchedule() {
    LlmResult r = run("trn2-48xl", "llm-train:model=tiny,tp=2,pp=4,dp=2,seq=256,global_batch=16");
    double sum = r.breakdown().values().stream().mapToDouble(Double::doubleValue).sum();
    assertThat(sum).isCloseTo(r.seconds(), within(r.seconds() * 1e-9));
    assertThat(r.parallelism()).containsEntry("microbatches", 8);
    assertThat(r.breakdown().get("tp_comm")).isPositive();
    assertThat(r.breakdown().get("pipeline_bubble")).isPositive();
    assertThat(r.breakdown().get("dp_comm")).isPositive();
    // Stages are balanced except for the LM head on the last, so the bubble is at least the textbook
    // (p-1)/(m+p-1) share of the pipeline time of the busiest stage.
    double pipeline = r.breakdown().get("compute") + r.breakdown().get("tp_comm") + r.breakdown().get("pipeline_bubble");
    assertThat(r.breakdown().get("pipeline_bubble") / pipeline).isGreaterThanOrEqualTo(3.0 / 11 * 0.5);
    assertThat(r.mfu()).isBetween(0.0, 1.0);
    assertThat(r.tokens()).isEqualTo(16.0 * 256);
  }

  @Test
  void defaultsAreChosenAndReported() {
    LlmResult r = run("trn2-48xl", "llm-train:model=tiny,seq=256,global_batch=32");
    assertThat(r.defaulted()).contains("tp", "pp", "dp", "microbatches");
    // Degrees count ranks: a trn2 chip is 4 ranks (8 cores at lnc=2), so the 16 chips are 64 ranks.
    assertThat(r.parallelism().get("ranks_per_chip")).isEqualTo(4);
    assertThat(r.parallelism().get("tp") * r.parallelism().get("pp") * r.parallelism().get("dp")).isEqualTo(64);
    assertThat(r.memoryBytes().get("total")).isLessThan(0.9 * r.memoryBytes().get("capacity"));
  }

  @Test
  void aModelThatCannotFitIsAClearError() {
    assertThatThrownBy(() -> run("trn2", "llm-train:model=llama3-70b"))
        .isInstanceOf(WorkloadException.class)
        .hasMessageContaining("llm-train.model = 'llama3-70b'")
        .hasMessageContaining("does not fit in HBM")
        .hasMessageNotContaining("\n");
    assertThatThrownBy(() -> run("trn2-48xl", "llm-train:model=llama3-70b,tp=1,pp=1"))
        .isInstanceOf(WorkloadException.class)
        .hasMessageContaining("llm-train.tp = '1'");
    assertThatThrownBy(() -> run("trn2-48xl", "llm-train:model=tiny,tp=3"))
        .isInstanceOf(WorkloadException.class)
        .hasMessageContaining("llm-train.tp = '3': must divide the model's 8 attention heads");
    assertThatThrownBy(() -> run("trn2-48xl", "llm-train:model=tiny,tp=4,pp=4,dp=8"))
        .isInstanceOf(WorkloadException.class)
        .hasMessageContaining("16 chips");
    assertThatThrownBy(() -> run("trn2", "llm-infer:model=llama3-405b"))
        .isInstanceOf(WorkloadException.class)
        .hasMessageContaining("llm-infer.model = 'llama3-405b'");
  }

  @Test
  void decodeIsFasterPerStepThanPrefillAndReportsPerChipThroughput() {
    LlmResult d = run("trn2-48xl", "llm-infer:model=tiny,phase=decode,batch=4,ctx=512");
    LlmResult p = run("trn2-48xl", "llm-infer:model=tiny,phase=prefill,batch=4,ctx=512");
    assertThat(d.seconds()).isLessThan(p.seconds());
    assertThat(p.tokensPerSecondPerChip()).isGreaterThan(d.tokensPerSecondPerChip());
    assertThat(d.chips()).isEqualTo(16);
  }
}
