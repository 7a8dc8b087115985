package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.ModelLoader;
import trnsim.core.run.RunOptions;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.workload.WorkloadSpec;

/**
 * gpt-oss attends within a 128-token window in every other layer: in context encoding and training
 * those layers' attention shrinks to the window, so a step is faster than the same model with full
 * attention everywhere, and by no more than the whole attention core of the windowed layers (the
 * rest of the layer is unchanged).
 */
class SlidingWindowStepTest {
  static final Path CONFIGS = Path.of("..", "configs").toAbsolutePath().normalize();
  static final ModelShape GPT_OSS = new ModelLoader(CONFIGS).model("gpt-oss-20b");
  static final ModelShape FULL = withoutWindow(GPT_OSS);
  static final Function<String, ModelShape> MODELS = n -> n.equals("full") ? FULL : GPT_OSS;
  static final HardwareSpec HW = new HardwareLoader(CONFIGS).load("trn2-ultraserver", List.of()).spec();

  static ModelShape withoutWindow(ModelShape m) {
    var a = m.attention();
    return new ModelShape("full", m.layers(), m.hidden(), m.heads(), m.kvHeads(), m.headDim(), m.ffn(), m.vocab(), m.mlp(), m.norm(),
        m.bias(), m.positions(), m.maxPositions(), m.tiedEmbeddings(),
        new ModelShape.AttentionVariant(a.qkvBias(), a.qkNorm(), a.sinks(), 0, 0, a.mla()), m.moe());
  }

  static LlmResult run(String w) {
    return LlmSystem.run(HW, WorkloadSpec.parse(w, "test"), MODELS, null, RunOptions.defaults());
  }

  @Test
  void windowedLayersShortenContextEncodingAndTraining() {
    assertThat(GPT_OSS.attention().windowLayers()).isEqualTo(GPT_OSS.layers() / 2);
    String infer = ",phase=prefill,batch=1,prompt=8192,tp=8";
    double windowed = run("llm-infer:model=gpt-oss-20b" + infer).seconds();
    double full = run("llm-infer:model=full" + infer).seconds();
    assertThat(windowed).isLessThan(full);
    String train = ",tp=4,pp=1,dp=16,ep=16,seq=8192,global_batch=64";
    LlmResult wt = run("llm-train:model=gpt-oss-20b" + train);
    LlmResult ft = run("llm-train:model=full" + train);
    assertThat(wt.seconds()).isLessThan(ft.seconds());
    // the parts outside the layers' compute (communication, optimizer) do not change
    assertThat(wt.breakdown().get("dp_comm")).isEqualTo(ft.breakdown().get("dp_comm"));
  }
}
