package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.isa.lower.LayerLowering.Attention;
import trnsim.isa.lower.LayerLowering.Recompute;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * Training as deployed: activation memory against Korthikanti et al.'s closed forms, the overlap
 * invariants of the data-parallel reduction, bytes on the wire with and without sequence
 * parallelism, exact microbatch counts, tensor parallelism counted in ranks, and the published
 * NxD 70B plan fitting.
 */
class LlmTrainingTest {
  /** GPT-3 6.7B's layer: h 4096, a 32, GELU MLP of 4h, LayerNorm. */
  static final ModelShape GPT = new ModelShape("gpt", 32, 4096, 32, 32, 128, 16384, 50257, ModelShape.Mlp.GELU,
      ModelShape.Norm.LAYERNORM, true, ModelShape.Positions.LEARNED, 2048, true);

  static double korthikanti(double s, double b, double h, double a, double t, boolean sp, boolean selective) {
    double outside = sp ? 10 / t : 10;
    return s * b * h * (outside + 24 / t + (selective ? 0 : 5 * a * s / (h * t)));
  }

  static TrainMemory.Activations acts(long s, long b, boolean sp, Recompute r) {
    return new TrainMemory.Activations(b, s, sp, r, Attention.EAGER, true, 2);
  }

  @Test
  void activationMemoryIsKorthikantisForGptWithDropout() {
    for (int t : new int[] {1, 2, 8}) {
      ModelShape rank = LlmTraining.rankShard(GPT, t);
      for (boolean sp : new boolean[] {false, true}) {
        for (long s : new long[] {1024, 2048}) {
          double none = TrainMemory.layerActivations(rank, t, acts(s, 2, sp, Recompute.NONE), Recompute.NONE);
          assertThat(none).as("t=%d sp=%b", t, sp).isCloseTo(korthikanti(s, 2, 4096, 32, t, sp, false), within(1e-6 * none));
          double sel = TrainMemory.layerActivations(rank, t, acts(s, 2, sp, Recompute.SELECTIVE), Recompute.SELECTIVE);
          assertThat(sel).isCloseTo(korthikanti(s, 2, 4096, 32, t, sp, true), within(1e-6 * sel));
          // Full recomputation keeps the layer input: 2sbh (2sbh/t with sequence parallelism).
          double full = TrainMemory.layerActivations(rank, t, acts(s, 2, sp, Recompute.FULL), Recompute.FULL);
          assertThat(full).isCloseTo(2.0 * s * 2 * 4096 / (sp ? t : 1), within(1e-6));
        }
      }
    }
  }

  @Test
  void recomputationDropsActivationsAndFullKeepsOneWorkingLayer() {
    ModelShape rank = LlmTraining.rankShard(GPT, 8);
    var none = acts(2048, 1, false, Recompute.NONE);
    var full = acts(2048, 1, false, Recompute.FULL);
    double perLayerNone = TrainMemory.layerActivations(rank, 8, none, Recompute.NONE);
    assertThat(TrainMemory.stageActivations(rank, 8, none, 32, 1)).isCloseTo(32 * perLayerNone, within(1.0));
    assertThat(TrainMemory.stageActivations(rank, 8, full, 32, 1))
        .isCloseTo(32 * 2.0 * 2048 * 4096 + perLayerNone, within(1.0));
    // Flash attention stores no scores; SwiGLU's selective drops SiLU(gate) (one s x ffn/t tensor).
    ModelShape llama = LlmTraining.rankShard(new ModelShape("l", 32, 4096, 32, 8, 128, 14336, 128256), 8);
    var fNone = new TrainMemory.Activations(1, 8192, true, Recompute.NONE, Attention.FLASH, false, 2);
    double drop = TrainMemory.layerActivations(llama, 8, fNone, Recompute.NONE)
        - TrainMemory.layerActivations(llama, 8, fNone, Recompute.SELECTIVE);
    assertThat(drop).isCloseTo(8192.0 * 14336 / 8 * 2, within(1.0));
  }

  @Test
  void overlapNeverBeatsItsResourcesNorLosesToNoOverlap() {
    double[][] cases = {{1.0, 0.1, 0.1, 0.1}, {0.1, 0.2, 0.3, 0.4}, {0.5, 0.5}, {2.0, 0.01}, {0.0, 0.3, 0.3}};
    for (double[] c : cases) {
      double backward = c[0];
      double[] buckets = java.util.Arrays.copyOfRange(c, 1, c.length);
      double total = java.util.Arrays.stream(buckets).sum();
      double exposed = GradientSync.exposed(backward, buckets);
      assertThat(exposed).isGreaterThanOrEqualTo(0); // step >= compute
      assertThat(backward + exposed).isGreaterThanOrEqualTo(total - 1e-12); // step >= the link's work
      assertThat(exposed).isLessThanOrEqualTo(total + 1e-12); // never slower than reducing after the backward
      // The last bucket is only ready at the end, so at least it is exposed.
      assertThat(exposed).isGreaterThanOrEqualTo(buckets[buckets.length - 1] - 1e-12);
    }
  }

  /**
   * torch.optim.AdamW run one pass per op (the Megatron-LM reference's optimizer): 4 accesses of the
   * parameter, 5 of each moment, 6 of the temporary, 2 of the gradient; 44 B per parameter in bf16-sr
   * against Adam's minimum of 14. Without ZeRO the optimizer time is params x (adam + 2 gradient
   * bytes) / HBM bandwidth, so the two settings' optimizer times are in the ratio (44 + 4) / (14 + 4).
   */
  @Test
  void unfusedAdamMovesOnePassPerOp() {
    assertThat(Precision.BF16_SR.unfusedAdamBytes()).isEqualTo(4 * 2 + 16 * 2 + 2 * 2);
    assertThat(Precision.BF16_SR.adamBytes()).isEqualTo(14);
    for (Precision p : Precision.ALL) {
      assertThat(p.unfusedAdamBytes()).as(p.label()).isGreaterThan(p.adamBytes());
    }
    String w = "llm-train:model=tiny,framework=megatron-neuron,tp=1,pp=1,dp=16,seq=1024,global_batch=64,lnc=8";
    LlmResult unfused = LlmSystemTest.run("trn2-48xl", w);
    LlmResult fused = LlmSystemTest.run("trn2-48xl", w + ",optimizer=fused");
    assertThat(unfused.breakdown().get("optimizer") / fused.breakdown().get("optimizer")).isCloseTo(48.0 / 18.0, within(1e-9));
  }

  @Test
  void overlappedGradientReductionHidesUnderTheLastBackward() {
    String w = "llm-train:model=tiny,tp=1,pp=1,dp=16,seq=1024,global_batch=64,zero=0,lnc=8";
    LlmResult after = LlmSystemTest.run("trn2-48xl", w);
    LlmResult overlapped = LlmSystemTest.run("trn2-48xl", w + ",dp_overlap=true,dp_bucket=4MiB");
    assertThat(after.breakdown().get("dp_comm")).isPositive();
    assertThat(overlapped.breakdown().get("dp_comm")).isLessThan(after.breakdown().get("dp_comm"));
    assertThat(overlapped.seconds()).isLessThan(after.seconds());
    assertThat(overlapped.seconds()).isGreaterThanOrEqualTo(overlapped.breakdown().get("compute"));
    assertThat(overlapped.notes()).anyMatch(n -> n.contains("HBM contention of the overlapped reduction"));
  }

  @Test
  void sequenceParallelismMovesTheAllReduceBytesPlusTheBackwardRegather() {
    var hw = LlmSystemTest.hw("trn1-32xl");
    RankLayout layout = RankLayout.of(hw.chip(), null);
    Fabric f = Fabric.of(hw, 1, layout);
    LlmTraining.Plan plan = new LlmTraining.Plan(16, 1, 2, 4);
    LlmTraining.Groups g = LlmTraining.Groups.of(plan);
    double act = 1024.0 * 4096 * 2;
    // All-reduce = reduce-scatter + all-gather on the wire, for a ring.
    var ar = Collectives.run(f, Collectives.Op.ALL_REDUCE, g.tp(), act, Collectives.Algo.RING);
    var rs = Collectives.run(f, Collectives.Op.REDUCE_SCATTER, g.tp(), act, Collectives.Algo.RING);
    var ag = Collectives.run(f, Collectives.Op.ALL_GATHER, g.tp(), act, Collectives.Algo.RING);
    assertThat(ar.linkBytes()).isCloseTo(rs.linkBytes() + ag.linkBytes(), within(1e-6 * ar.linkBytes()));
    ModelShape m = new ModelShape("m", 4, 4096, 32, 8, 128, 14336, 32000);
    var noSp = LlmTraining.tpComm(f, g, plan, options("sp=false"), m, 4, Collectives.Algo.RING);
    var sp = LlmTraining.tpComm(f, g, plan, options("sp=true"), m, 4, Collectives.Algo.RING);
    int ranks = g.tp().size() * plan.tp();
    // 4 all-reduces per layer against 4 reduce-scatters and 4 + 2 all-gathers (the weight-gradient regather).
    assertThat(sp.linkBytesPerRankPerMicrobatch() - noSp.linkBytesPerRankPerMicrobatch())
        .isCloseTo(2.0 * 4 * ag.linkBytes() / ranks, within(1e-6 * sp.linkBytesPerRankPerMicrobatch()));
  }

  static LlmTraining.Options options(String extra) {
    return LlmTraining.Options.parse(WorkloadSpec.parse("llm-train:model=m,seq=1024,mbs=1," + extra, "test"));
  }

  @Test
  void microbatchesAreGlobalBatchOverDpTimesMbsWithANoteWhenInexact() {
    LlmResult exact = LlmSystemTest.run("trn2-48xl", "llm-train:model=tiny,tp=4,pp=1,dp=16,seq=128,global_batch=64");
    assertThat(exact.parallelism()).containsEntry("microbatches", 4);
    assertThat(exact.tokens()).isEqualTo(64.0 * 128);
    assertThat(exact.notes()).noneMatch(n -> n.startsWith("global batch"));
    LlmResult inexact = LlmSystemTest.run("trn2-48xl", "llm-train:model=tiny,tp=4,pp=1,dp=16,mbs=2,seq=128,global_batch=100");
    assertThat(inexact.parallelism()).containsEntry("microbatches", 4); // ceil(100 / 32)
    assertThat(inexact.tokens()).isEqualTo(16.0 * 4 * 2 * 128);
    assertThat(inexact.notes()).anyMatch(n -> n.startsWith("global batch 100 sequences is not dp x microbatches x mbs"));
  }

  @Test
  void tensorParallelismCountsRanksSoTpOverRanksPerChipChips() {
    // trn1: 2 NeuronCores per chip at lnc=1, so tp=32 is 16 chips (one trn1.32xlarge).
    LlmResult r = LlmSystemTest.run("trn1-32xl", "llm-train:model=tiny,tp=8,pp=1,dp=1,seq=128,global_batch=4");
    assertThat(r.chips()).isEqualTo(4);
    assertThat(r.parallelism()).containsEntry("ranks_per_chip", 2);
    LlmResult dp = LlmSystemTest.run("trn1-32xl", "llm-train:model=tiny,tp=8,pp=1,dp=4,seq=128,global_batch=8");
    assertThat(dp.chips()).isEqualTo(16);
    // trn2 at lnc=1 exposes all 8 cores as ranks: tp=8 is one chip; at the default lnc=2 it is two.
    assertThat(LlmSystemTest.run("trn2-48xl", "llm-train:model=tiny,tp=8,pp=1,dp=1,seq=128,global_batch=4,lnc=1").chips()).isEqualTo(1);
    assertThat(LlmSystemTest.run("trn2-48xl", "llm-train:model=tiny,tp=8,pp=1,dp=1,seq=128,global_batch=4").chips()).isEqualTo(2);
    // A chip holding two ranks of a group does the work of a tp/2-way shard: per-chip compute matches the
    // same model split over half as many ranks of one rank per chip.
    double twoPerChip = r.breakdown().get("compute");
    double onePerChip = LlmSystemTest.run("trn1-32xl", "llm-train:model=tiny,tp=4,pp=1,dp=1,seq=128,global_batch=4,lnc=2")
        .breakdown().get("compute");
    assertThat(twoPerChip).isCloseTo(onePerChip, within(0.02 * onePerChip));
    assertThatThrownBy(() -> LlmSystemTest.run("trn2-48xl", "llm-train:model=tiny,tp=2,lnc=3"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("llm-train.lnc = '3'");
  }

  @Test
  void theNxdLlama70bPlanFitsAndItsMemoryBreakdownAddsUp() {
    var hw = LlmSystemTest.hw("trn1-32xl");
    ModelShape m = LlmSystemTest.MODELS.apply("llama3-70b");
    var o = LlmTraining.Options.parse(WorkloadSpec.parse("llm-train:model=llama3-70b,tp=32,pp=8,dp=4,seq=8192,global_batch=1024,"
        + "systems=32,sp=true,recompute=selective,precision=mixed-fp32acc", "test"));
    var plan = new LlmTraining.Plan(32, 8, 4, 256);
    TrainMemory.Memory mem = LlmTraining.memory(m, plan, o, 2);
    double capacity = hw.chip().hbm().capacity().bytes();
    assertThat(mem.total()).isLessThan(LlmSystem.HBM_USABLE * capacity);
    // Closed form of the weights: 10 layers of a 1/32 shard (kv heads replicated to one per rank) plus the
    // embedding shard on stage 0; two ranks per chip; bf16.
    ModelShape rank = LlmTraining.rankShard(m, 32);
    double params = 10.0 * rank.layerParameters() + (double) rank.vocab() * m.hidden();
    assertThat(mem.weights()).isCloseTo(2 * params * 2, within(1.0));
    assertThat(mem.grads()).isCloseTo(2 * params * 4, within(1.0));
    assertThat(mem.optimizer()).isCloseTo(2 * params * 12 / 4, within(1.0));
    // The plan runs as a workload: 512 chips, 256 microbatches, the pipeline and its bubble.
    LlmResult run = LlmSystemTest.run("trn1-32xl", "llm-train:model=llama3-70b,framework=nxd,tp=32,pp=8,dp=4,seq=8192,"
        + "global_batch=1024,systems=32");
    assertThat(run.chips()).isEqualTo(512);
    assertThat(run.parallelism()).containsEntry("microbatches", 256);
    assertThat(run.memoryBytes().get("total")).isCloseTo(mem.total(), within(1.0));
    assertThat(run.breakdown().get("pipeline_bubble")).isPositive();
    // Without sequence parallelism and recomputation the same plan would not fit.
    var bare = LlmTraining.Options.parse(WorkloadSpec.parse("llm-train:model=llama3-70b,seq=8192,precision=mixed-fp32acc,attn=eager",
        "test"));
    assertThat(LlmTraining.memory(m, plan, bare, 2).total()).isGreaterThan(capacity);
  }

  @Test
  void recomputationIsChosenOnlyWhenThePlanWouldNotFitOtherwise() {
    // llama3-70b at seq 4096 on 64 trn2 chips: without recomputation no plan fits (activations of a
    // whole stage per microbatch in flight); the generic framework then checkpoints, as frameworks do.
    String w = "llm-train:model=llama3-70b,seq=4096,global_batch=256,systems=1";
    LlmResult chosen = LlmSystemTest.run("trn2-ultraserver", w);
    assertThat(chosen.defaulted()).contains("recompute");
    assertThat(chosen.memoryBytes().get("total")).isLessThanOrEqualTo(0.9 * chosen.memoryBytes().get("capacity"));
    assertThatThrownBy(() -> LlmSystemTest.run("trn2-ultraserver", w + ",recompute=none"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("does not fit in HBM");
    // A plan that fits as given is not changed.
    LlmResult small = LlmSystemTest.run("trn2-48xl", "llm-train:model=tiny,tp=4,pp=1,dp=16,seq=128,global_batch=64");
    assertThat(small.defaulted()).doesNotContain("recompute");
  }
}
