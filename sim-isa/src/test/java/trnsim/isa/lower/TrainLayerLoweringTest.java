package trnsim.isa.lower;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import trnsim.isa.DType;
import trnsim.isa.lower.LayerLowering.Attention;
import trnsim.isa.lower.LayerLowering.Recompute;
import trnsim.isa.lower.LayerLowering.TrainLayer;

/**
 * Training layers: recomputation adds exactly the forward FLOPs it reruns (checked against the
 * closed forms of the layer's matmuls, not against the lowering's own sums), GPT-style layers
 * (GELU MLP, LayerNorm) lower to the kernels their architecture has, sequence parallelism shrinks
 * only the hidden-wide element-wise kernels.
 */
class TrainLayerLoweringTest {
  static final ModelShape GPT = new ModelShape("gpt-small", 4, 1024, 8, 8, 128, 4096, 50257, ModelShape.Mlp.GELU,
      ModelShape.Norm.LAYERNORM, true, ModelShape.Positions.LEARNED, 2048, true);
  static final ModelShape LLAMA = new ModelShape("llama-small", 4, 1024, 8, 2, 128, 3584, 32000);

  static List<Step> steps(ModelShape m, long b, long s, Recompute r, Attention a) {
    return LayerLowering.trainSteps(KernelLoweringTest.T, m, new TrainLayer(b, s, b * s, r, a), DType.BF16);
  }

  static long flops(List<Step> steps, Predicate<String> label) {
    long f = 0;
    for (Step s : steps) {
      if (label.test(s.label())) {
        f += s.program().flops() * s.repeat();
      }
    }
    return f;
  }

  /** The dense matmul FLOPs of one layer's forward, from the shape. */
  static long denseForwardFlops(ModelShape m, long tokens) {
    long q = (long) m.heads() * m.headDim();
    long kv = (long) m.kvHeads() * m.headDim();
    return 2 * tokens * (m.hidden() * (q + 2 * kv) + q * m.hidden() + (long) m.mlp().matrices() * m.hidden() * m.ffn());
  }

  @Test
  void fullRecomputationAddsExactlyTheForwardFlops() {
    long b = 1;
    long s = 512;
    for (ModelShape m : List.of(GPT, LLAMA)) {
      for (Attention a : Attention.values()) {
        long none = flops(steps(m, b, s, Recompute.NONE, a), x -> true);
        List<Step> full = steps(m, b, s, Recompute.FULL, a);
        long extra = flops(full, x -> true) - none;
        long attn = a == Attention.FLASH ? 4L * b * m.heads() * m.headDim() * s * (s + 1) / 2 // causal lower triangle
            : 4L * b * m.heads() * s * s * m.headDim(); // eager computes the whole s x s
        assertThat(extra).as("%s %s", m.name(), a).isEqualTo(denseForwardFlops(m, b * s) + attn);
        assertThat(flops(full, l -> l.endsWith(LayerLowering.RECOMPUTE))).isEqualTo(extra);
      }
    }
  }

  @Test
  void selectiveRecomputationAddsTheAttentionCoreOnlyWhereItIsNotAlreadyRecomputed() {
    long b = 2;
    long s = 256;
    long none = flops(steps(GPT, b, s, Recompute.NONE, Attention.EAGER), x -> true);
    long selective = flops(steps(GPT, b, s, Recompute.SELECTIVE, Attention.EAGER), x -> true);
    // Korthikanti et al.: QK^T and PV, 2 s^2 d FLOPs each per head.
    assertThat(selective - none).isEqualTo(4L * b * GPT.heads() * s * s * GPT.headDim());
    // A flash kernel's backward already recomputes its scores: selective adds no matmul work, only the
    // gated MLP's element-wise activation (SiLU(gate) * up) before its backward.
    List<Step> flash = steps(LLAMA, b, s, Recompute.SELECTIVE, Attention.FLASH);
    assertThat(flops(flash, x -> true)).isEqualTo(flops(steps(LLAMA, b, s, Recompute.NONE, Attention.FLASH), x -> true));
    assertThat(flash.stream().filter(x -> x.label().endsWith(LayerLowering.RECOMPUTE)).map(Step::label)).containsExactly("silu_mul_recompute");
    assertThat(steps(GPT, b, s, Recompute.SELECTIVE, Attention.FLASH).stream().map(Step::label)
        .filter(l -> l.endsWith(LayerLowering.RECOMPUTE))).isEmpty();
  }

  @Test
  void selectiveMlpAlsoRerunsTheMlpBlocksMatmuls() {
    long b = 1;
    long s = 512;
    for (ModelShape m : List.of(GPT, LLAMA)) {
      long selective = flops(steps(m, b, s, Recompute.SELECTIVE, Attention.FLASH), x -> true);
      long mlp = flops(steps(m, b, s, Recompute.SELECTIVE_MLP, Attention.FLASH), x -> true);
      assertThat(mlp - selective).as(m.name()).isEqualTo(2L * b * s * m.mlp().matrices() * m.hidden() * m.ffn());
    }
  }

  /**
   * Unfused eager attention (Megatron-LM's --no-masked-softmax-fusion) adds exactly four passes over
   * the materialised scores, the scale and the mask forward and their backward, each reading and
   * writing heads x s x s 16-bit elements once, and no FLOPs; the fused eager layer has none of them.
   */
  @Test
  void unfusedSoftmaxAddsTheScaleAndMaskPassesOverTheScores() {
    long b = 1;
    long s = 256;
    var fused = steps(GPT, b, s, Recompute.NONE, Attention.EAGER);
    var unfused = steps(GPT, b, s, Recompute.NONE, Attention.EAGER_UNFUSED);
    List<String> extra = List.of("attn_scale", "attn_mask", "attn_mask_bwd", "attn_scale_bwd");
    assertThat(fused.stream().map(Step::label).toList()).doesNotContainAnyElementsOf(extra);
    assertThat(unfused).hasSize(fused.size() + 4);
    long scores = b * GPT.heads() * s * s;
    for (Step st : unfused) {
      if (extra.contains(st.label())) {
        assertThat(st.program().hbmBytesMin()).as(st.label()).isEqualTo(2 * 2 * scores);
        assertThat(st.program().flops()).isZero();
      }
    }
    assertThat(flops(unfused, x -> true)).isEqualTo(flops(fused, x -> true));
    assertThat(Attention.parse("eager-unfused")).isEqualTo(Attention.EAGER_UNFUSED);
    assertThat(Attention.EAGER_UNFUSED.label()).isEqualTo("eager-unfused");
  }

  @Test
  void gptLayersUseLayerNormAndATwoMatrixGeluMlp() {
    List<String> labels = steps(GPT, 1, 256, Recompute.NONE, Attention.EAGER).stream().map(Step::label).toList();
    assertThat(labels).contains("layernorm_attn", "attn_scores", "attn_softmax", "attn_context", "up_proj", "gelu", "down_proj",
        "gelu_bwd", "up_proj_dx", "attn_softmax_bwd").doesNotContain("gate_up_proj", "silu_mul", "rmsnorm_attn", "attention");
    // Backward GEMM FLOPs are twice the forward's (dX and dW): the whole layer is 3x its forward matmuls.
    long fwd = flops(steps(GPT, 1, 256, Recompute.NONE, Attention.EAGER), l -> !l.endsWith("_dx") && !l.endsWith("_dw"));
    long bwd = flops(steps(GPT, 1, 256, Recompute.NONE, Attention.EAGER), l -> l.endsWith("_dx") || l.endsWith("_dw"));
    assertThat(bwd).isEqualTo(2 * fwd);
  }

  @Test
  void llamaTrainingLayerIsUnchangedByTheNewEntryPoint() {
    var old = LayerLowering.steps(KernelLoweringTest.T, LLAMA, "train", 1, 256, 0, DType.BF16);
    var now = steps(LLAMA, 1, 256, Recompute.NONE, Attention.FLASH);
    assertThat(now.stream().map(Step::label).toList()).isEqualTo(old.stream().map(Step::label).toList());
    assertThat(now.get(0).label()).isEqualTo("rmsnorm_attn");
  }

  @Test
  void sequenceParallelismShrinksOnlyTheHiddenWideElementwiseKernels() {
    long tokens = 1024;
    var plain = LayerLowering.trainSteps(KernelLoweringTest.T, LLAMA, new TrainLayer(1, tokens, tokens, Recompute.NONE, Attention.FLASH),
        DType.BF16);
    var sp = LayerLowering.trainSteps(KernelLoweringTest.T, LLAMA, new TrainLayer(1, tokens, tokens / 8, Recompute.NONE, Attention.FLASH),
        DType.BF16);
    for (int i = 0; i < plain.size(); i++) {
      String l = plain.get(i).label();
      boolean hiddenWide = l.startsWith("rmsnorm") || l.startsWith("residual");
      long a = plain.get(i).program().hbmBytesMin();
      long b = sp.get(i).program().hbmBytesMin();
      if (hiddenWide) {
        assertThat(b).as(l).isLessThanOrEqualTo(a / 8 + 64 * 1024);
      } else {
        assertThat(b).as(l).isEqualTo(a);
      }
    }
  }

  @Test
  void parametersCountBiasesLearnedPositionsAndTiedHeads() {
    long h = GPT.hidden();
    long f = GPT.ffn();
    long layer = 4 * h * h + 2 * h * f + 2 * 2 * h + (3 * h + h + f + h);
    assertThat(GPT.layerParameters()).isEqualTo(layer);
    assertThat(GPT.parameters()).isEqualTo(GPT.layers() * layer + (long) GPT.vocab() * h + 2048 * h + 2 * h);
    // Llama: unchanged closed form (attention, 3 MLP matrices, 2 RMSNorm gains; untied embedding and head; final norm).
    long q = 8 * 128;
    long kv = 2 * 128;
    long llamaLayer = 1024 * (q + 2 * kv) + q * 1024 + 3L * 1024 * 3584 + 2 * 1024;
    assertThat(LLAMA.parameters()).isEqualTo(4 * llamaLayer + 2L * 32000 * 1024 + 1024);
  }
}
