package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.ModelLoader;
import trnsim.core.run.Targets;
import trnsim.isa.DType;
import trnsim.isa.lower.LayerLowering;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.lower.Step;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * Latent attention (DeepSeek-V3) in training: the layer's projection GEMMs carry exactly three
 * times (forward, dX, dW) the FLOPs of its attention parameters, counted here from the published
 * shape (config.json: q_lora_rank 1536, kv_lora_rank 512, qk_nope 128, qk_rope 64, v_head_dim 128,
 * 128 heads, hidden 7168), and the attention core's FLOPs are those of 192-wide keys and 128-wide
 * values over the causal half of the scores.
 */
class MlaTrainingTest {
  static final Path CONFIGS = Path.of("..", "configs").toAbsolutePath().normalize();
  static final ModelLoader MODELS = new ModelLoader(CONFIGS);

  private static List<Step> layer(ModelShape m, long seq) {
    var t = Targets.of(new HardwareLoader(CONFIGS).load("trn2", List.of()).spec());
    var load = trnsim.isa.lower.MoeLoad.of(m.moe(), seq * 64, 64, new trnsim.isa.lower.MoeLoad.Routing(1.0, 0.0));
    return LayerLowering.trainSteps(t, m, LayerLowering.TrainLayer.plain(1, seq), DType.BF16, load);
  }

  private static double flops(List<Step> steps, Set<String> labels) {
    return steps.stream().filter(s -> labels.contains(s.label())).mapToDouble(s -> s.program().flops() * (double) s.repeat()).sum();
  }

  @Test
  void projectionsCarryThreeTimesTheirParameterFlops() {
    ModelShape m = MODELS.model("deepseek-v3");
    long seq = 4096;
    long h = 7168;
    long heads = 128;
    double params = h * 1536.0 + 1536.0 * heads * 192 + h * (512.0 + 64) + 512.0 * heads * (128 + 128) + heads * 128.0 * h;
    Set<String> labels = new java.util.HashSet<>();
    for (String p : List.of("q_a_proj", "q_b_proj", "kv_a_proj", "kv_b_proj", "o_proj")) {
      labels.addAll(List.of(p, p + "_dx", p + "_dw"));
    }
    assertThat(flops(layer(m, seq), labels)).isCloseTo(3 * 2.0 * seq * params, within(1e-6 * params * seq));
  }

  @Test
  void attentionCoreRunsKeysAndValuesAtTheirOwnWidths() {
    ModelShape m = MODELS.model("deepseek-v3");
    long seq = 4096;
    // causal QK^T (192-wide keys) and PV (128-wide values) over the lower triangle, 2 FLOPs per MAC
    double forward = 2.0 * 128 * (seq * (seq + 1) / 2.0) * (192 + 128);
    double simulated = flops(layer(m, seq), Set.of("attention"));
    assertThat(simulated).isCloseTo(forward, within(0.03 * forward));
  }

  @Test
  void layerDecodeOfLatentAttentionPointsToLlmInfer() {
    var t = Targets.of(new HardwareLoader(CONFIGS).load("trn2", List.of()).spec());
    assertThatThrownBy(() -> LayerLowering.lower(t, WorkloadSpec.parse("layer:model=deepseek-v3,phase=decode,ep=64", "-w"), MODELS::model))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("llm-infer");
  }
}
