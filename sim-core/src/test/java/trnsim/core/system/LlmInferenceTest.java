package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.ModelLoader;
import trnsim.core.run.RunOptions;
import trnsim.core.run.Targets;
import trnsim.core.run.WorkloadResult;
import trnsim.core.run.WorkloadRunner;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.lower.InferenceLowering;
import trnsim.isa.lower.InferenceLowering.RankShard;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * llm-infer as deployed: tensor parallelism in ranks, the SPMD chip, KV replication, weight storage,
 * the KV span of compiled decode graphs, the mean over a growing context, and bad input. Closed forms
 * are computed here from the model shape, independently of the lowering.
 */
class LlmInferenceTest {
  static final Path CONFIGS = Path.of("..", "configs").toAbsolutePath().normalize();
  static final HardwareLoader LOADER = new HardwareLoader(CONFIGS);
  /** Small enough to simulate many steps: 4 layers, 8 heads over 4 kv heads, head_dim 64. */
  static final ModelShape TINY = new ModelShape("tiny", 4, 512, 8, 4, 64, 2048, 8000);
  static final Function<String, ModelShape> MODELS = n -> n.equals("tiny") ? TINY : new ModelLoader(CONFIGS).model(n);

  static HardwareSpec hw(String name) {
    return LOADER.load(name, List.of()).spec();
  }

  static LlmResult run(String hwName, String w) {
    return LlmSystem.run(hw(hwName), WorkloadSpec.parse(w, "test"), MODELS, null, RunOptions.defaults());
  }

  static InferenceLowering.Options opts(DType weights, boolean fused) {
    return new InferenceLowering.Options(DType.BF16, weights, 1, 2, List.of(EngineKind.VECTOR, EngineKind.GPSIMD), true, fused);
  }

  static WorkloadResult decodeLayer(RankShard s, long batch, long span, InferenceLowering.Options o) {
    HardwareSpec h = hw("trn1-32xl");
    return WorkloadRunner.run(h, new LoweredWorkload("decode layer", InferenceLowering.decodeLayer(Targets.of(h), s, batch, span, o), batch),
        RunOptions.defaults());
  }

  /**
   * GPT-style models (GELU MLP: up and down projections only) hold and stream two hidden x ffn
   * matrices per layer, not SwiGLU's three: the weights a tensor-parallel group holds add up to the
   * published parameter count at two bytes each (GPT-3 paper, Table 2.1: 175.0 B and 6.7 B), and a
   * GELU decode layer's minimum HBM traffic is its SwiGLU twin's minus one bf16 hidden x ffn matrix.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"gpt3-175b, 175.0e9, 32", "gpt3-6.7b, 6.7e9, 8"})
  void geluModelsHoldTwoMlpMatrices(String model, double publishedParams, int tp) {
    LlmResult r = run("trn2-ultraserver", "llm-infer:model=" + model + ",phase=decode,batch=8,ctx=2048,tp=" + tp);
    double groupBytes = r.memoryBytes().get("weights") * r.parallelism().get("chips_per_group");
    assertThat(groupBytes / 2).isCloseTo(publishedParams, within(0.02 * publishedParams));

    var t = Targets.of(hw("trn2"));
    var gelu = new RankShard(4096, 8, 8, 128, 4096, 8000, ModelShape.Mlp.GELU);
    var swiglu = new RankShard(4096, 8, 8, 128, 4096, 8000, ModelShape.Mlp.SWIGLU);
    var o = opts(DType.BF16, false);
    long geluBytes = hbmMin(InferenceLowering.decodeLayer(t, gelu, 1, 2048, o));
    long swigluBytes = hbmMin(InferenceLowering.decodeLayer(t, swiglu, 1, 2048, o));
    // the twin's gate matrix, the gate's output written by the projection and read back by the
    // activation as its second operand (one token: 4096 bf16 values each way), on each rank of the chip
    assertThat(swigluBytes - geluBytes).isEqualTo(o.ranksPerChip() * (2L * 4096 * 4096 + 2 * 2L * 4096));
  }

  private static long hbmMin(List<trnsim.isa.lower.Step> steps) {
    return steps.stream().mapToLong(s -> s.program().hbmBytesMin() * s.repeat()).sum();
  }

  /**
   * The residual add fused into the RMSNorm: four tensor passes of HBM traffic (two reads, two
   * writes) instead of the five of a separate add (2 reads + 1 write) and norm (1 + 1), so it is
   * faster than the two kernels run one after the other, and never faster than its own bytes at the
   * chip's HBM bandwidth. Every decode and context-encoding layer uses it for both of its norms.
   */
  @Test
  void residualAddFusesIntoTheNorm() {
    HardwareSpec h = hw("trn1-32xl");
    var t = Targets.of(h);
    long features = 4096;
    long tokens = 1024;
    double pass = 2.0 * features * tokens;
    var fused = InferenceLowering.residualRmsnorm(t, features, tokens, DType.BF16, 1);
    assertThat(fused.hbmBytesMin()).isEqualTo((long) (4 * pass));
    assertThat(InferenceLowering.rmsnorm(t, features, tokens, DType.BF16, 1).hbmBytesMin()).isEqualTo((long) (2 * pass));
    double fusedS = seconds(h, fused);
    double separateS = seconds(h, InferenceLowering.elementwise(t, "add", features, tokens, DType.BF16, 1))
        + seconds(h, InferenceLowering.rmsnorm(t, features, tokens, DType.BF16, 1));
    assertThat(fusedS).isLessThan(separateS).isGreaterThanOrEqualTo(4 * pass / h.chip().hbm().bandwidth().bytesPerSecond());
    var labels = InferenceLowering.prefillLayer(t, new RankShard(4096, 1, 1, 128, 448, 4008), 1, 128, opts(DType.BF16, false)).stream().map(s -> s.label()).toList();
    assertThat(labels).contains("residual_rmsnorm_attn", "residual_rmsnorm_mlp").doesNotContain("residual_attn", "rmsnorm_mlp");
  }

  static double seconds(HardwareSpec h, trnsim.isa.Program p) {
    return WorkloadRunner.run(h, new LoweredWorkload("kernel", List.of(new trnsim.isa.lower.Step("k", p, 1, DType.BF16)), 1),
        RunOptions.defaults()).timeSeconds();
  }

  @Test
  void tensorParallelismIsCountedInRanks() {
    // trn1: LNC=1, two ranks per chip, so 32 ranks are 16 chips and 2 ranks one chip
    LlmResult t32 = run("trn1-32xl", "llm-infer:model=llama3-8b,tp=32,batch=1,ctx=256");
    assertThat(t32.parallelism()).containsEntry("tp", 32).containsEntry("chips_per_group", 16).containsEntry("dp", 1);
    LlmResult t2 = run("trn1-32xl", "llm-infer:model=tiny,tp=2,batch=1,ctx=256");
    assertThat(t2.parallelism()).containsEntry("chips_per_group", 1).containsEntry("dp", 16);
    // trn2: LNC=2, four ranks per chip; lnc=1 makes eight
    assertThat(run("trn2-48xl", "llm-infer:model=tiny,tp=8,batch=1,ctx=256").parallelism()).containsEntry("chips_per_group", 2);
    assertThat(run("trn2-48xl", "llm-infer:model=tiny,tp=8,batch=1,ctx=256,lnc=1").parallelism()).containsEntry("chips_per_group", 1)
        .containsEntry("lnc", 1);
  }

  @Test
  void defaultTpIsTheSmallestPowerOfTwoOfRanksThatFits() {
    LlmResult r = run("trn1-32xl", "llm-infer:model=llama3-8b,batch=8,ctx=2048");
    assertThat(r.defaulted()).contains("tp");
    int tp = r.parallelism().get("tp");
    assertThat(Integer.bitCount(tp)).isEqualTo(1);
    double capacity = r.memoryBytes().get("capacity");
    assertThat(r.memoryBytes().get("total")).isLessThanOrEqualTo(LlmSystem.HBM_USABLE * capacity);
    // half of it does not fit
    assertThatThrownBy(() -> run("trn1-32xl", "llm-infer:model=llama3-8b,batch=8,ctx=2048,tp=" + tp / 2))
        .hasMessageContaining("does not fit in HBM");
  }

  @Test
  void kvHeadsAreReplicatedWhenTpExceedsThem() {
    // Llama-3-8B: 8 kv heads. tp=32: every rank holds one kv head (each replicated 4x); tp=4: two per rank.
    long maxSeq = 1024;
    LlmResult t32 = run("trn1-32xl", "llm-infer:model=llama3-8b,tp=32,batch=2,prompt=512,output=512,max_seq=" + maxSeq);
    LlmResult t4 = run("trn1-32xl", "llm-infer:model=llama3-8b,tp=4,batch=2,prompt=512,output=512,max_seq=" + maxSeq);
    double perHead = 2.0 * 32 * 128 * 2 * maxSeq * 2; // K and V, 32 layers, head_dim 128, batch 2, bf16
    assertThat(t32.memoryBytes().get("kv_cache")).isCloseTo(2 * 1 * perHead, within(1.0)); // 2 ranks per chip x 1 head
    assertThat(t4.memoryBytes().get("kv_cache")).isCloseTo(2 * 2 * perHead, within(1.0)); // 2 ranks per chip x 2 heads
    // over the whole group: 32 heads held for the model's 8 (4x), against exactly the model's 8 at tp=4
    assertThat(32 * perHead).isEqualTo(4 * 8 * perHead);
    assertThat(t32.notes().get(0)).contains("replicated 4x");
  }

  @Test
  void int8StorageHalvesTheWeightBytesOfADecodeStep() {
    RankShard s = new RankShard(4096, 1, 1, 128, 448, 4008);
    WorkloadResult bf16 = decodeLayer(s, 1, 512, opts(DType.BF16, false));
    WorkloadResult int8 = decodeLayer(s, 1, 512, opts(DType.INT8, false));
    double weightsBf16 = 2.0 * 2 * s.layerWeightElements(); // 2 ranks on the chip, 2 bytes each
    // the only difference between the two steps is the weights' storage width
    assertThat(bf16.hbmBytes() - int8.hbmBytes()).isCloseTo(weightsBf16 / 2, within(weightsBf16 * 1e-3));
    assertThat(int8.hbmBytes()).isGreaterThan(weightsBf16 / 2);
    // the de-quantisation is charged as engine work (converts on the vector and gpsimd engines)
    assertThat(simdSeconds(int8, "gpsimd")).isGreaterThan(simdSeconds(bf16, "gpsimd"));
    assertThat(simdSeconds(int8, "vector")).isGreaterThan(simdSeconds(bf16, "vector"));
  }

  static double simdSeconds(WorkloadResult r, String engine) {
    double t = 0;
    for (var st : r.steps()) {
      t += st.result().engineBusy().getOrDefault(engine, 0.0) * st.result().timeSeconds() * st.repeat();
    }
    return t;
  }

  @Test
  void aDecodeStepReadsTheWeightsAndTheWholeKvSpanAndWritesTheNewToken() {
    RankShard s = new RankShard(4096, 1, 1, 128, 448, 4008);
    long batch = 4;
    WorkloadResult a = decodeLayer(s, batch, 1024, opts(DType.INT8, false));
    WorkloadResult b = decodeLayer(s, batch, 3072, opts(DType.INT8, false));
    int ranks = 2;
    double kvPerPosition = ranks * 2.0 * batch * s.kvHeads() * s.headDim() * 2; // K and V, bf16, every rank of the chip
    double weights = ranks * (double) s.layerWeightElements();
    double kvWrite = ranks * 2.0 * batch * s.kvHeads() * s.headDim() * 2;
    // lower bound: weights at the storage width, the KV span, the new token's K and V
    assertThat(a.hbmBytes()).isGreaterThanOrEqualTo(weights + kvPerPosition * 1024 + kvWrite);
    // per extra position: its K and V, plus the rows' fp32 scores and bf16 probabilities written and read back
    // between the attention kernels (12 bytes per row) and the mask (2 bytes)
    double rows = batch * s.qHeads();
    double extra = b.hbmBytes() - a.hbmBytes();
    assertThat(extra).isGreaterThanOrEqualTo(kvPerPosition * 2048);
    assertThat(extra).isLessThanOrEqualTo((kvPerPosition + ranks * (rows * 12 + 2)) * 2048 * 1.001);
    // the KV-cache write kernel moves the new K and V from the projection's output into the cache (read + write)
    double write = a.steps().stream().filter(st -> st.label().equals("kv_cache_write")).mapToDouble(st -> st.result().hbmBytes()).sum();
    assertThat(write).isEqualTo(2 * kvWrite);
  }

  @Test
  void theCompiledGraphAttendsOverMaxSeqAndBucketsFollowTheContext() {
    String base = "llm-infer:model=tiny,tp=2,batch=4,prompt=128,output=896";
    double compiledSmall = run("trn1-32xl", base + ",max_seq=1024,buckets=compiled").seconds();
    double compiledLarge = run("trn1-32xl", base + ",max_seq=4096,buckets=compiled").seconds();
    assertThat(compiledLarge).isGreaterThan(compiledSmall); // same live context, larger compiled buffer
    // power-of-two buckets: the median step (context 576) runs in the 1024 bucket whatever max_seq is
    double pow2 = run("trn1-32xl", base + ",max_seq=4096,buckets=pow2").seconds();
    assertThat(pow2).isCloseTo(compiledSmall, within(compiledSmall * 1e-9));
  }

  @Test
  void meanTpotIsTheSumOfTheStepsOverTheGrowingContext() {
    // buckets=exact: each step attends over its live context. With at most 9 steps every context is simulated.
    String base = "llm-infer:model=tiny,tp=2,batch=2,buckets=exact,tpot=mean";
    double mean = run("trn1-32xl", base + ",prompt=100,output=10").seconds();
    double sum = 0;
    for (long c = 101; c <= 109; c++) {
      sum += run("trn1-32xl", base.replace(",tpot=mean", "") + ",phase=decode,ctx=" + c).seconds();
    }
    assertThat(mean).isCloseTo(sum / 9, within(mean * 1e-9));
    // more steps: piecewise-linear between 9 simulated contexts against every step simulated
    double meanLong = run("trn1-32xl", base + ",prompt=200,output=41").seconds();
    double sumLong = 0;
    for (long c = 201; c <= 240; c++) {
      sumLong += run("trn1-32xl", base.replace(",tpot=mean", "") + ",phase=decode,ctx=" + c).seconds();
    }
    assertThat(meanLong).isCloseTo(sumLong / 40, within(meanLong * 0.01));
  }

  @Test
  void meanTpotOverPowerOfTwoBucketsIsTheStepCountWeightedSum() {
    // contexts 101..899: buckets 128 (101..128), 256, 512, 1024 (513..899)
    Map<Long, Long> steps = new TreeMap<>(Map.of(128L, 28L, 256L, 128L, 512L, 256L, 1024L, 387L));
    assertThat(steps.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(899 - 101 + 1);
    double mean = run("trn1-32xl", "llm-infer:model=tiny,tp=2,batch=2,prompt=100,output=800,max_seq=1024,tpot=mean").seconds();
    double sum = 0;
    for (var e : steps.entrySet()) {
      // one step with the bucket's span: a context in the bucket
      double step = run("trn1-32xl", "llm-infer:model=tiny,tp=2,batch=2,phase=decode,max_seq=1024,ctx=" + e.getKey()).seconds();
      sum += step * e.getValue();
    }
    assertThat(mean).isCloseTo(sum / 799, within(mean * 1e-9));
    // the whole request: time to first token plus the 799 steps; throughput = batch x output / that
    LlmResult g = run("trn1-32xl", "llm-infer:model=tiny,tp=2,batch=2,prompt=100,output=800,max_seq=1024,phase=generate");
    double ttft = run("trn1-32xl", "llm-infer:model=tiny,tp=2,batch=2,prompt=100,output=800,max_seq=1024,phase=prefill").seconds();
    assertThat(g.seconds()).isCloseTo(ttft + sum, within(g.seconds() * 1e-9));
    assertThat(g.tokens()).isEqualTo(2.0 * 800 * g.parallelism().get("dp"));
  }

  @Test
  void timeToFirstTokenIsAboveEveryResourcesLowerBound() {
    HardwareSpec h = hw("trn1-32xl");
    LlmResult r = run("trn1-32xl", "llm-infer:model=llama3-8b,tp=32,batch=2,prompt=1024,output=128,weights=int8,phase=prefill");
    ModelShape m = MODELS.apply("llama3-8b");
    int rpc = 2;
    RankShard s = LlmInference.shard(m, 32);
    double weightBytes = rpc * (double) s.layerWeightElements() * m.layers(); // int8
    double hbm = h.chip().hbm().sustainedBytesPerSecond();
    double flops = rpc * 2.0 * s.layerWeightElements() * m.layers() * 2 * 1024;
    double peak = LlmSystem.peak(h, DType.BF16);
    assertThat(r.seconds()).isGreaterThanOrEqualTo(weightBytes / hbm);
    assertThat(r.seconds()).isGreaterThanOrEqualTo(flops / peak);
    // the parts: kernels, all-reduces (64 of them), runtime; they sum to the whole
    double sum = r.breakdown().values().stream().mapToDouble(Double::doubleValue).sum();
    assertThat(sum).isCloseTo(r.seconds(), within(r.seconds() * 1e-9));
    assertThat(r.breakdown().get("tp_comm")).isPositive();
    assertThat(r.breakdown().get("runtime")).isEqualTo(h.runtime().graphLaunch().seconds() + h.runtime().requestOverhead().seconds(),
        within(1e-12));
  }

  @Test
  void chainingTheGraphsKernelsIsFasterThanSynchronisingEachButNotBelowTheStreamedBytes() {
    RankShard s = new RankShard(4096, 1, 1, 128, 448, 4008);
    WorkloadResult kernels = decodeLayer(s, 1, 1024, opts(DType.INT8, false));
    WorkloadResult fused = decodeLayer(s, 1, 1024, opts(DType.INT8, true));
    assertThat(fused.timeSeconds()).isLessThan(kernels.timeSeconds());
    assertThat(fused.hbmBytes()).isEqualTo(kernels.hbmBytes());
    assertThat(fused.timeSeconds()).isGreaterThanOrEqualTo(fused.hbmBytes() / fused.hbmBytesPerSecondPeak());
  }

  /**
   * The V cache is an input of the token-generation graph (its loads wait for nothing), so in the chained
   * attention block V streams in while the softmax computes. At batch 8 over an 8192-position span (one kv
   * head of 128 per rank, as Llama-3-8B at tp=32) V is 8 x 8192 x 128 x 2 B = 16 MiB per core, 62 us at 16
   * queues x 17 GB/s; the softmax alone takes longer. Chaining must save most of that V stream against
   * the kernels run one by one, and can never beat the K and V bytes at the queues' rate.
   */
  @Test
  void theVCacheStreamsWhileTheSoftmaxComputes() {
    HardwareSpec h = hw("trn1-32xl");
    RankShard s = new RankShard(4096, 1, 1, 128, 448, 4008);
    long batch = 8;
    long span = 8192;
    WorkloadResult kernels = decodeLayer(s, batch, span, opts(DType.INT8, false));
    WorkloadResult fused = decodeLayer(s, batch, span, opts(DType.INT8, true));
    double coreRate = h.chip().core().dma().queues() * h.chip().core().dma().sbufBandwidth().bytesPerSecond();
    double vSeconds = batch * span * 128 * 2.0 / coreRate;
    double softmax = kernels.steps().stream().filter(st -> st.label().equals("attn_softmax")).mapToDouble(st -> st.result().timeSeconds())
        .sum();
    assertThat(softmax).isGreaterThan(vSeconds);
    assertThat(fused.timeSeconds()).isLessThan(kernels.timeSeconds() - 0.8 * vSeconds);
    assertThat(fused.timeSeconds()).isGreaterThanOrEqualTo(2 * vSeconds);
  }

  @Test
  void badInputIsOneLineNamingTheKeyAndValue() {
    String[][] cases = {
        {"llm-infer:model=llama3-8b,tp=12,ctx=256", "llm-infer.tp = '12'", "attention heads"},
        {"llm-infer:model=llama3-8b,tp=1,batch=64,ctx=8192", "llm-infer.tp = '1'", "does not fit in HBM"},
        {"llm-infer:model=llama3-8b,weights=int4,ctx=256", "llm-infer.weights = 'int4'", "unknown weight storage type"},
        {"llm-infer:model=llama3-8b,prompt=1000,output=200,max_seq=1024", "llm-infer.max_seq = '1024'", "1200"},
        {"llm-infer:model=llama3-8b,prompt=1000,output=1", "llm-infer.output = '1'", "at least 2"},
        {"llm-infer:model=llama3-8b,prompt=1000,ctx=200", "llm-infer.ctx = '200'", "not both"},
        {"llm-infer:model=llama3-8b,lnc=3,ctx=256", "llm-infer.lnc = '3'", "must divide"},
        {"llm-infer:model=llama3-70b,tp=64,ctx=256", "llm-infer.tp = '64'", "32 ranks"},
    };
    for (String[] c : cases) {
      assertThatThrownBy(() -> run("trn1-32xl", c[0])).as(c[0]).isInstanceOf(WorkloadException.class)
          .hasMessageContaining(c[1]).hasMessageContaining(c[2]).hasMessageNotContaining("\n");
    }
  }
}
