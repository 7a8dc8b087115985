package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.ModelLoader;
import trnsim.core.run.RunOptions;
import trnsim.isa.workload.WorkloadSpec;

/** Interleaved 1F1B and ZeRO-2/3 against their closed forms. */
class TrainingPlansTest {
  static final java.nio.file.Path CONFIGS = java.nio.file.Path.of("..", "configs").toAbsolutePath().normalize();

  static LlmResult run(String w) {
    var hw = new HardwareLoader(CONFIGS).load("trn2-48xl", List.of()).spec();
    return LlmSystem.run(hw, WorkloadSpec.parse(w, "test"), new ModelLoader(CONFIGS)::model, null, RunOptions.defaults());
  }

  static final String PP = "llm-train:model=llama3.2-1b,seq=1024,global_batch=32,tp=4,pp=4,dp=4,microbatches=8";

  @Test
  void interleavingDividesTheBubbleByVppAndMultipliesTheTransfers() {
    LlmResult plain = run(PP);
    LlmResult v2 = run(PP + ",vpp=2");
    LlmResult v4 = run(PP + ",vpp=4");
    // bubble (p-1)/(v m) of the ideal: half and a quarter of the plain schedule's
    assertThat(v2.breakdown().get("pipeline_bubble")).isCloseTo(plain.breakdown().get("pipeline_bubble") / 2, within(1e-9));
    assertThat(v4.breakdown().get("pipeline_bubble")).isCloseTo(plain.breakdown().get("pipeline_bubble") / 4, within(1e-9));
    assertThat(v2.breakdown().get("pp_comm")).isCloseTo(2 * plain.breakdown().get("pp_comm"), within(1e-9));
    assertThat(v2.breakdown().get("compute")).isEqualTo(plain.breakdown().get("compute"));
    assertThat(v2.seconds()).isLessThan(plain.seconds());
    assertThatThrownBy(() -> run(PP + ",vpp=3")).hasMessageContaining("llm-train.vpp").hasMessageContaining("16 layers");
    assertThatThrownBy(() -> run("llm-train:model=llama3.2-1b,vpp=2")).hasMessageContaining("pp >= 2");
  }

  static final String DP = "llm-train:model=llama3.2-1b,seq=1024,global_batch=32,tp=4,pp=1,dp=16,microbatches=2";

  @Test
  void zeroStagesShardGradientsThenWeightsAndAddTheirCollectives() {
    LlmResult z1 = run(DP + ",zero=1");
    LlmResult z2 = run(DP + ",zero=2");
    LlmResult z3 = run(DP + ",zero=3");
    double w1 = z1.memoryBytes().get("weights");
    double g1 = z1.memoryBytes().get("gradients");
    // ZeRO-2: gradients 1/dp; ZeRO-3: weights 1/dp plus one gathered layer (16 layers: 1/16 of the layers' share)
    assertThat(z2.memoryBytes().get("gradients")).isCloseTo(g1 / 16, within(g1 * 1e-9));
    assertThat(z2.memoryBytes().get("weights")).isEqualTo(w1);
    assertThat(z3.memoryBytes().get("weights")).isBetween(w1 / 16, w1 / 16 + w1 / 16);
    assertThat(z2.memoryBytes().get("optimizer")).isEqualTo(z1.memoryBytes().get("optimizer"));
    // ZeRO-2 reduce-scatters every microbatch (2 here) instead of once per step
    assertThat(z2.collectives()).anyMatch(c -> c.startsWith("data-parallel gradient reduce-scatter (ZeRO-2") && c.contains("x2 per step"));
    assertThat(z2.breakdown().get("dp_comm")).isGreaterThan(z1.breakdown().get("dp_comm"));
    // ZeRO-3: two parameter all-gathers and one gradient reduce-scatter per layer and microbatch
    assertThat(z3.collectives()).anyMatch(c -> c.startsWith("ZeRO-3 parameter all-gather") && c.contains("x64 per step"));
    assertThat(z3.collectives()).anyMatch(c -> c.startsWith("ZeRO-3 gradient reduce-scatter") && c.contains("x32 per step"));
    assertThat(z3.breakdown().get("compute")).isEqualTo(z1.breakdown().get("compute"));
  }

  @Test
  void fp8MixedTrainingRunsTheProjectionsInFp8Only() {
    String base = "llm-train:model=llama3.2-1b,seq=1024,global_batch=32,tp=4,pp=1,dp=16";
    LlmResult bf16 = run(base);
    LlmResult fp8 = run(base + ",fp8=true");
    java.util.Map<String, Double> a = times(bf16);
    java.util.Map<String, Double> b = times(fp8);
    // Trainium2 runs fp8 matmuls at twice the bf16 rate: every projection (forward and both backward GEMMs) gets faster
    for (String g : List.of("qkv_proj", "o_proj", "gate_up_proj", "down_proj", "qkv_proj_dx", "down_proj_dw")) {
      assertThat(b.get(g)).as(g).isLessThan(a.get(g));
    }
    // the attention core and the element-wise kernels stay bf16: the same kernels
    assertThat(b.get("attention")).isEqualTo(a.get("attention"));
    assertThat(b.get("silu_mul")).isEqualTo(a.get("silu_mul"));
    assertThat(fp8.seconds()).isLessThan(bf16.seconds());
    assertThatThrownBy(() -> run(base + ",fp8=true,dtype=fp32")).hasMessageContaining("llm-train.fp8");
  }

  static java.util.Map<String, Double> times(LlmResult r) {
    java.util.Map<String, Double> m = new java.util.HashMap<>();
    for (var s : r.layer().steps()) {
      m.put(s.label(), s.result().timeSeconds() * s.repeat());
    }
    return m;
  }

  @Test
  void contextParallelismSplitsTheSequenceAndGathersKeysAndValues() {
    String base = "llm-train:model=llama3.2-1b,seq=8192,global_batch=32,tp=4,pp=1,dp=4";
    LlmResult one = run(base);
    LlmResult cp2 = run(base + ",cp=2");
    // cp ranks join the data dimension: twice the chips, the same sequences per step
    assertThat(cp2.chips()).isEqualTo(2 * one.chips());
    assertThat(cp2.tokens()).isEqualTo(one.tokens());
    assertThat(cp2.parallelism()).containsEntry("cp", 2).containsEntry("dp", 4);
    // activations are linear in a rank's tokens: half of them
    assertThat(cp2.memoryBytes().get("activations")).isCloseTo(one.memoryBytes().get("activations") / 2, within(1.0));
    // each rank computes 1/cp of the sequence's causal attention (up to the diagonal tiles)
    double a1 = flops(one, "attention");
    double a2 = flops(cp2, "attention");
    assertThat(a2).isCloseTo(a1 / 2, within(a1 * 0.02));
    // K and V of the whole sequence for the rank's 8 / 4 kv heads of 64: 2 x 8192 x 2 x 64 x 2 bytes = 4 MiB, 2 per layer and microbatch
    assertThat(cp2.collectives()).anyMatch(c -> c.startsWith("context-parallel K/V all-gather") && c.contains("4.00 MiB")
        && c.contains("x256 per step")); // 16 layers x 8 microbatches x 2
    assertThat(cp2.breakdown().get("cp_comm")).isPositive();
    assertThatThrownBy(() -> run(base + ",cp=3")).hasMessageContaining("llm-train.cp");
  }

  static double flops(LlmResult r, String label) {
    return r.layer().steps().stream().filter(s -> s.label().equals(label)).mapToDouble(s -> (double) s.result().flops() * s.repeat())
        .sum();
  }
}
