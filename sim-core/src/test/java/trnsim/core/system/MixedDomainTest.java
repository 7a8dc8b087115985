package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.core.config.GroupSpec;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.LinkSpec;
import trnsim.core.config.SystemSpec;
import trnsim.core.config.TopologySpec;
import trnsim.core.run.RunOptions;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * Mixed scale-up domains (groups of different chips on one switch) against closed forms: the 1F1B
 * schedule over unequal stages, the activation and KV bytes that cross between groups, and a
 * "mixed" domain of one chip design against the plain system. Trainium chips keep the simulations
 * small (the GPU templates run the same code path with slower kernels).
 */
class MixedDomainTest {
  /** A switch port: 100 GB/s per direction, 2 us per hop. */
  static final TopologySpec SWITCH = new TopologySpec("switch", List.of(), List.of(new LinkSpec(
      trnsim.core.config.unit.Bandwidth.parse("100 GB/s"), trnsim.core.config.unit.TimeSpan.parse("2 us"))));

  static Domain.Mixed mixed(String a, int ca, String b, int cb) {
    HardwareSpec chip = LlmSystemTest.hw(a);
    SystemSpec sys = new SystemSpec(ca + cb, 4, SWITCH, null, null, List.of(new GroupSpec("a", a, ca), new GroupSpec("b", b, cb)));
    return (Domain.Mixed) Domain.of(new HardwareSpec("mix", "", chip.chip(), sys), LlmSystemTest::hw);
  }

  static LlmResult run(Domain d, String w) {
    return LlmSystem.run(d, WorkloadSpec.parse(w, "test"), LlmSystemTest.MODELS, g -> null, RunOptions.defaults());
  }

  static final String TRAIN = "llm-train:model=tiny,seq=256,global_batch=16,mbs=1,dp=4,";

  @Test
  void aMixedDomainOfOneChipDesignStepsAsThePlainSystem() {
    // 8 trn2 chips on one switch: as a plain system (tp=4 ranks = one chip, 2 stages, dp=4) and as two groups of 4.
    HardwareSpec trn2 = LlmSystemTest.hw("trn2-48xl");
    double perChip = trn2.system().pricePerChipHourUsd();
    HardwareSpec plain = new HardwareSpec("plain", "", trn2.chip(), new SystemSpec(8, 4, SWITCH, null, perChip * 4));
    LlmResult p = LlmSystem.run(plain, WorkloadSpec.parse(TRAIN.replace("dp=4,", "") + "tp=4,pp=2,dp=4", "test"), LlmSystemTest.MODELS,
        null, RunOptions.defaults());
    LlmResult m = run(mixed("trn2-48xl", 4, "trn2-48xl", 4), TRAIN + "tp=4,stages=a:2+b:2");
    assertThat(m.chips()).isEqualTo(p.chips());
    assertThat(m.tokens()).isEqualTo(p.tokens());
    // Tolerance 1e-5 (measured 8e-7): the plain step charges every stage the larger stage's gradient accumulation,
    // the mixed one each stage its own (the first stage's embedding and the last's LM head differ by the final norm).
    assertThat(m.seconds()).isCloseTo(p.seconds(), within(1e-5 * p.seconds()));
    assertThat(m.breakdown().get("compute")).isCloseTo(p.breakdown().get("compute"), within(1e-9 * p.seconds()));
    assertThat(m.costUsd()).isCloseTo(p.costUsd(), within(1e-5 * p.costUsd()));
  }

  @Test
  void theStepFollowsThe1F1BClosedFormOverUnequalStages() {
    // A fast first stage (1 layer on trn2) and a slow last stage (3 layers and the LM head on trn1): with
    // w = f + b per microbatch and a + b + 2t <= w_last, the last stage never waits after its first forward, so
    // pipeline = m w_last + w_first + 2t: the bubble is the first stage's one microbatch, pp_comm the two crossings.
    LlmResult r = run(mixed("trn2-48xl", 4, "trn1-32xl", 4), TRAIN + "tp=a:4+b:2,stages=a:1+b:3");
    var parts = r.mixed().groups();
    int mb = r.parallelism().get("microbatches");
    double wFirst = parts.get(0).busySeconds() / mb;
    double wLast = parts.get(1).busySeconds() / mb;
    double t = r.mixed().transfers().get(0).seconds();
    assertThat(wFirst + 2 * t).isLessThanOrEqualTo(wLast);
    double pipeline = r.seconds() - r.breakdown().get("dp_comm") - r.breakdown().get("optimizer") - r.breakdown().get("runtime");
    assertThat(pipeline).isCloseTo(mb * wLast + wFirst + 2 * t, within(1e-9 * pipeline));
    assertThat(r.breakdown().get("pipeline_bubble")).isCloseTo(wFirst, within(1e-9 * pipeline));
    assertThat(r.breakdown().get("pp_comm")).isCloseTo(2 * t, within(1e-9 * pipeline));
    assertThat(r.seconds()).isGreaterThanOrEqualTo(Math.max(parts.get(0).busySeconds(), parts.get(1).busySeconds()));
    assertThat(r.mixed().bottleneck()).startsWith("group b");
    double sum = r.breakdown().values().stream().mapToDouble(Double::doubleValue).sum();
    assertThat(sum).isCloseTo(r.seconds(), within(1e-9 * r.seconds()));
  }

  @Test
  void activationsCrossOncePerMicrobatchEachWay() {
    LlmResult r = run(mixed("trn2-48xl", 4, "trn3", 4), "llm-train:model=tiny,seq=256,global_batch=8,dp=1,tp=4,stages=a:2+b:2");
    var x = r.mixed().transfers().get(0);
    int mb = r.parallelism().get("microbatches");
    // microbatch tokens (mbs 1 x seq 256) x hidden 512 x bf16, per boundary crossing; forward and backward per microbatch
    assertThat(x.bytes()).isEqualTo(1.0 * 256 * 512 * 2);
    assertThat(x.perStep()).isEqualTo(2L * mb);
    assertThat(mb).isEqualTo(8);
  }

  @Test
  void disaggregatedInferenceMovesEachRequestsKvCache() {
    Domain.Mixed d = mixed("trn2-48xl", 4, "trn3", 4);
    LlmResult r = run(d, "llm-infer:model=tiny,batch=4,prompt=512,output=64,prefill=a,decode=b,tp=8");
    // tiny: 4 layers, 4 kv heads of 64, bf16: layers x 2 x kv_heads x head_dim x prompt x 2 B per request
    double perRequest = 4.0 * 2 * 4 * 64 * 512 * 2;
    assertThat(MixedInference.kvBytesPerRequest(LlmSystemTest.TINY, 512, 2)).isEqualTo(perRequest);
    double requests = r.mixed().transfers().get(0).bytes() / perRequest;
    // one prefill pass serves batch 4 on every tensor-parallel replica of group a: 16 ranks / tp 8 = 2
    assertThat(requests).isEqualTo(4.0 * 2);
    assertThat(r.mixed().groups()).extracting(LlmResult.GroupPart::role).containsExactly("prefill", "decode");
    double sum = r.breakdown().values().stream().mapToDouble(Double::doubleValue).sum();
    assertThat(sum).isCloseTo(r.seconds(), within(1e-9 * r.seconds()));
    double decode = sum - r.breakdown().get("prefill") - r.breakdown().get("kv_transfer");
    assertThat(decode).isCloseTo(63 * r.mixed().groups().get(1).busySeconds(), within(1e-9 * r.seconds()));
    assertThat(r.breakdown().get("compute")).isPositive();
  }

  @Test
  void badPlacementIsOneLineNamingTheOption() {
    Domain.Mixed d = mixed("trn2-48xl", 4, "trn2-48xl", 4);
    assertThatThrownBy(() -> run(d, TRAIN + "stages=a:3+b:3")).isInstanceOf(WorkloadException.class)
        .hasMessageContaining("llm-train.stages").hasMessageContaining("the stages hold 6 layers; the model has 4");
    assertThatThrownBy(() -> run(d, TRAIN + "stages=a:2+gpu:2")).isInstanceOf(WorkloadException.class)
        .hasMessageContaining("unknown group 'gpu'").hasMessageContaining("a, b");
    assertThatThrownBy(() -> run(d, TRAIN + "stages=a:2+b:2,pp=2")).isInstanceOf(WorkloadException.class)
        .hasMessageContaining("llm-train.pp");
    assertThatThrownBy(() -> run(d, "llm-infer:model=tiny,prompt=128,output=8,prefill=a,decode=a")).isInstanceOf(WorkloadException.class)
        .hasMessageContaining("llm-infer.decode");
  }

  @Test
  void withoutStagesTheLayersFollowEachGroupsPeak() {
    Domain.Mixed d = mixed("trn2-48xl", 4, "trn3", 4);
    assertThat(Placement.pipeline(d, null, 80, new double[] {1, 3}, "t", "k").stages()).extracting(Placement.Stage::layers)
        .containsExactly(20, 60);
    // every group gets at least one layer, and the layers always add up
    assertThat(Placement.pipeline(d, null, 4, new double[] {1, 1000}, "t", "k").stages()).extracting(Placement.Stage::layers)
        .containsExactly(1, 3);
    assertThat(Placement.pipeline(d, null, 7, new double[] {1, 1}, "t", "k").stages()).extracting(Placement.Stage::layers)
        .containsExactly(4, 3);
  }

  @Test
  void groupsMustAddUpToTheDomain() {
    assertThatThrownBy(() -> new SystemSpec(8, 4, SWITCH, null, null, List.of(new GroupSpec("a", "trn2", 4), new GroupSpec("b", "trn3", 2))))
        .hasMessageContaining("must add up to chips (8)");
    assertThatThrownBy(() -> new SystemSpec(8, 4, SWITCH, null, null, List.of(new GroupSpec("a", "trn2", 4), new GroupSpec("a", "trn3", 4))))
        .hasMessageContaining("given twice");
  }
}
