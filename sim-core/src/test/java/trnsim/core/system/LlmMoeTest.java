package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.ModelLoader;
import trnsim.core.run.RunOptions;
import trnsim.core.run.Targets;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.lower.Step;
import trnsim.isa.lower.Workloads;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * Mixture-of-experts execution in layer:, llm-infer and llm-train against closed forms: the MoE
 * block's GEMM FLOPs are the router plus top-k experts, model FLOPs (MFU) count active parameters
 * only, the expert-parallel all-to-all carries each rank's share of the tokens' top-k copies, and
 * decode streams only the touched experts' weights (an HBM roofline bound).
 */
class LlmMoeTest {
  static final Path CONFIGS = Path.of("..", "configs").toAbsolutePath().normalize();
  static final HardwareLoader LOADER = new HardwareLoader(CONFIGS);
  static final ModelLoader MODELS = new ModelLoader(CONFIGS);
  static final Function<String, ModelShape> LOOKUP = MODELS::model;
  static final String MIXTRAL_JSON = CONFIGS.resolve("workloads/models/hf/mixtral-8x7b/config.json").toString();
  static final String QWEN3_JSON = CONFIGS.resolve("workloads/models/hf/qwen3-32b/config.json").toString();

  static HardwareSpec hw(String name) {
    return LOADER.load(name, List.of()).spec();
  }

  static LlmResult run(String hwName, String w) {
    return LlmSystem.run(hw(hwName), WorkloadSpec.parse(w, "test"), LOOKUP, null, RunOptions.defaults());
  }

  static double gemmFlops(LoweredWorkload lw, Set<String> labels) {
    double f = 0;
    for (Step s : lw.steps()) {
      if (labels.contains(s.label())) {
        f += (double) s.program().flops() * s.repeat();
      }
    }
    return f;
  }

  @Test
  void moeBlockFlopsAreTheRouterPlusTopKExperts() {
    HardwareSpec h = hw("trn2");
    long tokens = 2048;
    LoweredWorkload lw = Workloads.lower(Targets.of(h), WorkloadSpec.parse("layer:model=mixtral-8x7b,phase=prefill,seq=2048", "t"), LOOKUP);
    // router 4096 x 8, two experts of three 4096 x 14336 matrices per token
    double closed = 2.0 * tokens * (4096.0 * 8 + 2 * 3.0 * 4096 * 14336);
    assertThat(gemmFlops(lw, Set.of("router", "expert_gate_up", "expert_down"))).isCloseTo(closed, within(closed * 1e-9));
    LoweredWorkload train = Workloads.lower(Targets.of(h), WorkloadSpec.parse("layer:model=mixtral-8x7b,phase=train,seq=2048", "t"), LOOKUP);
    // backward: dX and dW of every MoE GEMM, each with the forward's FLOPs
    assertThat(gemmFlops(train, Set.of("router_dx", "router_dw", "expert_gate_up_dx", "expert_gate_up_dw", "expert_down_dx",
        "expert_down_dw"))).isCloseTo(2 * closed, within(closed * 1e-9));
    // expert parallelism: the rank holds 2 of 8 experts and computes its share of the group's pairs, the same per rank
    LoweredWorkload ep = Workloads.lower(Targets.of(h), WorkloadSpec.parse("layer:model=mixtral-8x7b,phase=prefill,seq=2048,ep=4", "t"),
        LOOKUP);
    assertThat(gemmFlops(ep, Set.of("expert_gate_up", "expert_down"))).isCloseTo(closed - 2.0 * tokens * 4096 * 8,
        within(closed * 1e-9));
    assertThat(ep.steps().stream().filter(s -> s.label().equals("expert_down")).findFirst().orElseThrow().repeat()).isEqualTo(2);
  }

  @Test
  void decodeMfuCountsActiveParametersAndExpertsStreamAtMostHbmBandwidth() {
    ModelShape m = MODELS.model("mixtral-8x7b");
    LlmResult r = run("trn2-ultraserver", "llm-infer:model=mixtral-8x7b,phase=decode,batch=4,ctx=2048,tp=8");
    double tokens = r.tokens();
    assertThat(r.modelFlops()).isCloseTo(2.0 * (m.activeParameters() - (double) m.vocab() * m.hidden()) * tokens, within(1.0));
    assertThat(r.mfu()).isBetween(0.0, 1.0);
    // 4 tokens x top-2 of 8 experts: at most all 8 experts' weights (tp=8 shards, bf16) stream per rank, 4 ranks per chip
    double expertBytesPerChip = 4.0 * 8 * 3 * 4096 * (14336 / 8) * 2;
    double hbm = hw("trn2-ultraserver").chip().hbm().sustainedBytesPerSecond();
    double experts = r.layer().steps().stream().filter(s -> s.label().startsWith("expert_gate_up") || s.label().startsWith("expert_down"))
        .mapToDouble(s -> s.result().timeSeconds() * s.repeat()).sum();
    double active = 8 * (1 - Math.pow(1 - 2.0 / 8, 4)); // experts touched by 4 tokens
    assertThat(experts).isGreaterThanOrEqualTo(expertBytesPerChip * Math.floor(active) / 8 / hbm);
  }

  @Test
  void expertParallelAllToAllCarriesEachRanksShareOfTheTopKCopies() {
    ModelShape m = MODELS.model("mixtral-8x7b");
    LlmResult one = run("trn2-ultraserver", "llm-infer:model=mixtral-8x7b,phase=decode,batch=16,ctx=2048,tp=8");
    LlmResult ep = run("trn2-ultraserver", "llm-infer:model=mixtral-8x7b,phase=decode,batch=16,ctx=2048,tp=8,ep=4");
    assertThat(one.breakdown()).doesNotContainKey("ep_comm");
    assertThat(ep.breakdown().get("ep_comm")).isPositive();
    // send buffer per rank: tokens x hidden x top-k x 2 bytes / tp; (ep-1)/ep of it leaves the rank
    double perRank = 16.0 * 4096 * 2 * 2 / 8;
    assertThat(LlmInference.a2aBytes(m, 16, 8, trnsim.isa.DType.BF16)).isEqualTo(perRank);
    String line = ep.collectives().stream().filter(c -> c.startsWith("expert-parallel all-to-all")).findFirst().orElseThrow();
    assertThat(line).contains(String.format(java.util.Locale.ROOT, "%.2f MiB", perRank / (1 << 20))).contains("over 4 ranks")
        .contains("x64 per step"); // dispatch + combine in each of the 32 layers
    // with the experts split 4 ways each rank streams a quarter of them: the expert GEMMs get faster
    double expertsOne = expertTime(one);
    double expertsEp = expertTime(ep);
    assertThat(expertsEp).isLessThan(expertsOne);
  }

  static double expertTime(LlmResult r) {
    return r.layer().steps().stream().filter(s -> s.label().startsWith("expert_")).mapToDouble(s -> s.result().timeSeconds() * s.repeat())
        .sum();
  }

  @Test
  void trainingAMixtralConfigJsonWithExpertParallelism() {
    ModelShape m = MODELS.model(MIXTRAL_JSON);
    LlmResult r = run("trn2-ultraserver", "llm-train:model=" + MIXTRAL_JSON + ",ep=4,global_batch=64,seq=2048");
    assertThat(r.parallelism().get("ep")).isEqualTo(4);
    assertThat(r.breakdown().get("ep_comm")).isPositive();
    // MFU's model FLOPs: 6 x active parameters (no idle experts) + causal attention per token
    double perToken = 6.0 * (m.activeDecoderParameters() + (double) m.vocab() * m.hidden()) + 6.0 * m.layers() * 2048 * m.heads() * m.headDim();
    assertThat(r.modelFlops()).isCloseTo(perToken * r.tokens(), within(r.modelFlops() * 1e-9));
    assertThat(r.mfu()).isBetween(0.05, 1.0);
    assertThatThrownBy(() -> run("trn2-ultraserver", "llm-train:model=mixtral-8x7b,ep=3")).isInstanceOf(WorkloadException.class)
        .hasMessageContaining("llm-train.ep").hasMessageContaining("8 experts");
    assertThatThrownBy(() -> run("trn2-ultraserver", "llm-train:model=llama3-8b,ep=2")).hasMessageContaining("dense");
  }

  @Test
  void qwen3ConfigJsonServesOnTrainium() {
    LlmResult r = run("trn2-ultraserver", "llm-infer:model=" + QWEN3_JSON + ",phase=decode,batch=8,ctx=2048");
    assertThat(r.seconds()).isPositive();
    assertThatThrownBy(() -> run("trn2-ultraserver", "llm-infer:model=" + QWEN3_JSON + ",ep=2")).hasMessageContaining("llm-infer.ep");
    assertThatThrownBy(() -> run("trn2-ultraserver", "llm-infer:model=" + QWEN3_JSON + ",imbalance=2"))
        .hasMessageContaining("llm-infer.imbalance").hasMessageContaining("dense");
  }

  static Stream<String> shippedModels() throws Exception {
    try (var s = Files.list(CONFIGS.resolve("workloads/models"))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).map(n -> n.substring(0, n.length() - 5)).sorted()
          .toList().stream();
    }
  }

  /** Every shipped model serves a decode step on trn2-ultraserver; its MFU counts the active parameters. */
  @ParameterizedTest
  @MethodSource("shippedModels")
  void everyShippedModelDecodesOnTrn2UltraServer(String name) {
    ModelShape m = MODELS.model(name);
    LlmResult r = run("trn2-ultraserver", "llm-infer:model=" + name + ",phase=decode,batch=4,ctx=2048");
    assertThat(r.seconds()).isPositive();
    assertThat(r.modelFlops()).isCloseTo(2.0 * (m.activeParameters() - (double) m.vocab() * m.hidden()) * r.tokens(), within(1.0));
    assertThat(r.mfu()).isBetween(0.0, 1.0);
    assertThat(r.memoryBytes().get("total")).isLessThanOrEqualTo(LlmSystem.HBM_USABLE * r.memoryBytes().get("capacity"));
  }
}
