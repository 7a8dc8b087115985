package trnsim.isa.lower;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import trnsim.isa.CoreProgram;
import trnsim.isa.DType;
import trnsim.isa.Instruction;
import trnsim.isa.Program;
import trnsim.isa.Queue;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/** Structure and FLOP/byte accounting of the attention, row-kernel and layer lowerings (no simulation). */
class KernelLoweringTest {
  /** A Trainium2-like target: 8 cores, 128x128 PE at 2.4 GHz, 224 KiB SBUF and 16 KiB PSUM per partition. */
  static final TargetSpec T = new TargetSpec("trn2-like", 8, 128, 128, 128, 512, Map.of("bf16", 1.0, "fp8", 2.0, "fp32", 0.25),
      224 * 1024, 16 * 1024, 8, 16, 96L << 30, 2.4e9, 2.61e12, 23e9);

  static final ModelShape LLAMA3_8B = new ModelShape("llama3-8b", 32, 4096, 32, 8, 128, 14336, 128256);
  static final Function<String, ModelShape> MODELS = n -> n.equals("llama3-8b") ? LLAMA3_8B : null;

  static LoweredWorkload lower(String text) {
    return Workloads.lower(T, WorkloadSpec.parse(text, "test"), MODELS);
  }

  /** Sum of 2*K*M*N over every matmul the program issues. */
  static long issuedMatmulFlops(Program p) {
    long f = 0;
    for (CoreProgram c : p.cores()) {
      for (Queue q : c.queues()) {
        for (int i = 0; i < q.size(); i++) {
          if (q.instruction(i) instanceof Instruction.MatMul m) {
            f += m.flops();
          }
        }
      }
    }
    return f;
  }

  @Test
  void attentionFlopsMatchTheClosedForm() {
    long b = 2;
    long h = 8;
    long s = 1024;
    long d = 128;
    assertThat(lower("attention:b=2,h=8,s=1024,d=128").flops()).isEqualTo(4 * b * h * s * s * d);
    assertThat(lower("attention:b=2,h=8,s=1024,d=128,causal=true").flops()).isEqualTo(4 * b * h * d * s * (s + 1) / 2);
    assertThat(lower("attention:b=2,h=8,s=1024,d=128,pass=bwd").flops()).isEqualTo(4 * b * h * s * s * d * 5 / 2);
    assertThat(lower("attention:b=2,h=8,s=1024,d=128,pass=bwd,causal=true").flops()).isEqualTo(4 * b * h * d * s * (s + 1) / 2 * 5 / 2);
    assertThat(lower("attention:b=1,h=4,s=256,s_kv=2048,d=64").flops()).isEqualTo(4L * 4 * 256 * 2048 * 64);
  }

  @Test
  void forwardIssuesTheUsefulMatmulsPlusTransposesOnly() {
    // Non-causal: every issued QK and PV matmul is useful work (transposes are not MatMul instructions).
    Program p = AttentionLowering.forward(T, new AttentionSpec(1, 4, 1024, 1024, 128, 4, false, DType.BF16), 8);
    assertThat(issuedMatmulFlops(p)).isEqualTo(p.flops());
    // Causal: the issued work covers the useful triangle and wastes less than one 128x128 diagonal block per Q tile.
    Program c = AttentionLowering.forward(T, new AttentionSpec(1, 4, 1024, 1024, 128, 4, true, DType.BF16), 8);
    long wasteBound = 4L * 4 * (1024 / 128) * 128 * 128 * 128 / 2 + 4L * 4 * 1024 * 128;
    assertThat(issuedMatmulFlops(c)).isBetween(c.flops(), c.flops() + wasteBound);
    // Backward: five matmul groups, 2.5x the forward.
    Program bw = AttentionBackward.lower(T, new AttentionSpec(1, 4, 1024, 1024, 128, 4, false, DType.BF16), 8);
    assertThat(issuedMatmulFlops(bw)).isEqualTo(bw.flops());
  }

  @Test
  void headDimsAbove128AccumulateOverPartitionChunks() {
    Program p = AttentionLowering.forward(T, new AttentionSpec(1, 1, 512, 512, 256, 1, false, DType.BF16), 1);
    long qk = 0;
    Queue tensor = p.cores().get(0).queue(CoreProgram.TENSOR);
    for (int i = 0; i < tensor.size(); i++) {
      if (tensor.instruction(i) instanceof Instruction.MatMul m && m.n() == 512) {
        assertThat(m.k()).isLessThanOrEqualTo(128);
        qk++;
      }
    }
    assertThat(qk).isEqualTo(4 * 2); // 4 Q tiles x 1 key tile x 2 D chunks
    assertThat(issuedMatmulFlops(p)).isEqualTo(p.flops());
  }

  @Test
  void groupedQueryAttentionLoadsKvOncePerKvHead() {
    // K/V resident: each core reads the K/V of its (batch, kv head) once, so total K/V traffic does
    // not grow with the number of query heads sharing a kv head.
    long gqa = hbmReadBytes(AttentionLowering.forward(T, new AttentionSpec(1, 32, 2048, 2048, 128, 8, false, DType.BF16), 8));
    long mha = hbmReadBytes(AttentionLowering.forward(T, new AttentionSpec(1, 32, 2048, 2048, 128, 32, false, DType.BF16), 8));
    long q = 32L * 2048 * 128 * 2;
    long kvGqa = 2L * 8 * 2048 * 128 * 2;
    assertThat(gqa).isEqualTo(q + kvGqa);
    assertThat(mha).isEqualTo(q + 4 * kvGqa);
  }

  static long hbmReadBytes(Program p) {
    long b = 0;
    for (CoreProgram c : p.cores()) {
      for (Queue q : c.queues()) {
        for (int i = 0; i < q.size(); i++) {
          if (q.instruction(i) instanceof Instruction.DmaCopy dma && dma.src().space() == trnsim.isa.MemSpace.HBM) {
            b += dma.bytes();
          }
        }
      }
    }
    return b;
  }

  @Test
  void decodeReadsTheCacheOnceAndCountsItsFlops() {
    Program p = DecodeAttention.lower(T, new AttentionSpec(2, 32, 1, 8192, 128, 8, false, DType.BF16), 8);
    long cache = 2L * 2 * 8 * 8192 * 128 * 2;
    assertThat(hbmReadBytes(p)).isBetween(cache, cache + 2L * 32 * 128 * 2 * 8);
    assertThat(p.flops()).isEqualTo(4L * 2 * 32 * 8192 * 128);
    assertThat(lower("attention-decode:b=2,h=32,ctx=8192,d=128,kv_heads=8").tokens()).isEqualTo(2);
  }

  @Test
  void rowKernelsMoveEveryByteOnceAndKeepRowsOnPartitions() {
    for (String kind : new String[] {"softmax", "rmsnorm", "layernorm"}) {
      Program p = lower(kind + ":rows=4096,cols=8192").steps().get(0).program();
      assertThat(p.flops()).isZero();
      long data = 2L * 4096 * 8192;
      long weights = kind.equals("softmax") ? 0 : (kind.equals("layernorm") ? 2 : 1) * 8192L * 2;
      assertThat(p.hbmBytesMin()).isEqualTo(2 * data + weights);
      // the weight rows are broadcast to all 128 partitions of every core by a DMA that reads them per partition
      assertThat(hbmReadBytes(p)).isEqualTo(data + 128 * weights * p.cores().size());
      Queue vec = p.cores().get(0).queue(CoreProgram.VECTOR);
      for (int i = 0; i < vec.size(); i++) {
        if (vec.instruction(i) instanceof Instruction.TensorReduce r) {
          assertThat(r.in().free()).isEqualTo(8192);
        }
      }
    }
  }

  @Test
  void rowsThatDoNotFitSbufRunInTwoPasses() {
    // 40 MB rows: not even split over all 128 partitions do two of them fit (200000 columns are split,
    // SmallSbufLoweringTest); they run as the row kernel over column chunks plus a rescale pass (LongRowLoweringTest)
    var w = lower("softmax:rows=128,cols=20000000");
    assertThat(w.steps()).extracting(Step::label).containsExactly("softmax_chunks", "softmax_rescale");
    long data = 2L * 128 * 20000000;
    long bytes = w.steps().get(0).program().hbmBytesMin() + w.steps().get(1).program().hbmBytesMin();
    assertThat((double) bytes).isBetween(4.0 * data, 4.04 * data);
  }

  @Test
  void decoderLayerFlopsAreTheSumOfItsParts() {
    LoweredWorkload l = lower("layer:model=llama3-8b,phase=prefill,batch=1,seq=1024");
    assertThat(l.tokens()).isEqualTo(1024);
    assertThat(l.steps()).extracting(Step::label).containsExactly("rmsnorm_attn", "qkv_proj", "attention", "o_proj",
        "residual_attn", "rmsnorm_mlp", "gate_up_proj", "silu_mul", "down_proj", "residual_mlp");
    long m = 1024;
    long gemm = 2 * m * 4096 * (32 + 16) * 128 + 2 * m * 4096 * 4096 + 2 * m * 4096 * 2 * 14336 + 2 * m * 14336 * 4096;
    long attn = 4L * 32 * 128 * 1024 * 1025 / 2;
    assertThat(l.flops()).isEqualTo(gemm + attn);
    long sum = 0;
    for (Step s : l.steps()) {
      sum += s.program().flops() * s.repeat();
    }
    assertThat(l.flops()).isEqualTo(sum);

    LoweredWorkload train = lower("layer:model=llama3-8b,phase=train,seq=1024");
    assertThat(train.flops()).isEqualTo(3 * gemm + attn + attn * 5 / 2);
    assertThat(train.steps()).extracting(Step::label).contains("attention_bwd", "down_proj_dx", "down_proj_dw", "qkv_proj_dw");

    LoweredWorkload dec = lower("layer:model=llama3-8b,phase=decode,batch=16,ctx=4096");
    assertThat(dec.tokens()).isEqualTo(16);
    long md = 16;
    long gemmD = 2 * md * 4096 * (32 + 16) * 128 + 2 * md * 4096 * 4096 + 2 * md * 4096 * 2 * 14336 + 2 * md * 14336 * 4096;
    assertThat(dec.flops()).isEqualTo(gemmD + 4L * 16 * 32 * 4096 * 128);
  }

  @Test
  void badKeysAndValuesNameTheKeyAndValue() {
    assertThatThrownBy(() -> lower("attention:b=1,h=8,s=128,d=64,heads=3"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("attention.heads").hasMessageContaining("'3'");
    assertThatThrownBy(() -> lower("attention:b=1,h=8,s=128,d=64,kv_heads=3"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("kv_heads").hasMessageContaining("'3'");
    assertThatThrownBy(() -> lower("attention:b=1,h=8,s=128,d=64,pass=sideways"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("attention.pass").hasMessageContaining("sideways");
    assertThatThrownBy(() -> lower("attention:b=1,h=8,s=128,d=1024"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("attention.d").hasMessageContaining("1024");
    assertThatThrownBy(() -> lower("attention:b=1,h=8,s=128,s_kv=256,d=64,causal=true"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("s_kv").hasMessageContaining("256");
    assertThatThrownBy(() -> lower("attention:b=1,h=8,s=128,d=64,causal=maybe"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("attention.causal").hasMessageContaining("maybe");
    assertThatThrownBy(() -> lower("attention-decode:b=1,h=8,ctx=0,d=64"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("attention-decode.ctx").hasMessageContaining("'0'");
    assertThatThrownBy(() -> lower("softmax:rows=1,cols=8,dtype=int4"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("softmax.dtype").hasMessageContaining("int4");
    assertThatThrownBy(() -> lower("rmsnorm:rows=1,cols=8,eps=1e-5"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("rmsnorm.eps");
    assertThatThrownBy(() -> lower("layer:model=gpt5,phase=prefill"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("layer.model").hasMessageContaining("gpt5");
    assertThatThrownBy(() -> Workloads.lower(T, WorkloadSpec.parse("layer:model=llama3-8b,phase=decode", "t"), null))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("layer.model").hasMessageContaining("llama3-8b");
    assertThatThrownBy(() -> lower("layer:model=llama3-8b,phase=infer"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("layer.phase").hasMessageContaining("infer");
    assertThatThrownBy(() -> lower("layer:model=llama3-8b,phase=decode,seq=128"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("layer.seq");
    assertThatThrownBy(() -> lower("layer:model=llama3-8b,phase=prefill,ctx=128"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("layer.ctx");
    assertThatThrownBy(() -> lower("attention:b=1,h=8,s=128,d=64,cores=9"))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("attention.cores").hasMessageContaining("9");
  }

  @Test
  void everyKindIsListed() {
    assertThat(Workloads.kinds()).contains("softmax", "rmsnorm", "layernorm", "attention", "attention-decode", "layer");
  }

  /** Reads configs/workloads/models/NAME.yaml with a minimal key: value parser (the real loader lives elsewhere). */
  static ModelShape shippedModel(String name) {
    java.nio.file.Path f = java.nio.file.Path.of("..", "configs", "workloads", "models", name + ".yaml");
    if (!java.nio.file.Files.exists(f)) {
      return null;
    }
    Map<String, String> kv = new java.util.HashMap<>();
    try {
      for (String line : java.nio.file.Files.readAllLines(f)) {
        String l = line.replaceAll("#.*", "").trim();
        int c = l.indexOf(':');
        if (c > 0) {
          kv.put(l.substring(0, c).trim(), l.substring(c + 1).trim());
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return new ModelShape(kv.get("name"), Integer.parseInt(kv.get("layers")), Integer.parseInt(kv.get("hidden")),
        Integer.parseInt(kv.get("heads")), Integer.parseInt(kv.get("kv_heads")), Integer.parseInt(kv.get("head_dim")),
        Integer.parseInt(kv.get("ffn")), Integer.parseInt(kv.get("vocab")));
  }

  @Test
  void shippedModelShapesMatchTheirPublishedSizes() {
    // Parameter counts of the published models: 8.03B, 70.6B, 405.9B (Meta model cards).
    assertThat(shippedModel("llama3-8b").parameters()).isBetween(8_000_000_000L, 8_100_000_000L);
    assertThat(shippedModel("llama3-70b").parameters()).isBetween(70_500_000_000L, 70_700_000_000L);
    assertThat(shippedModel("llama3-405b").parameters()).isBetween(405_000_000_000L, 406_500_000_000L);
    assertThat(shippedModel("llama3-8b")).isEqualTo(LLAMA3_8B);
  }

  @Test
  void everyWorkloadOfTheKernelSuiteLowers() throws Exception {
    java.nio.file.Path f = java.nio.file.Path.of("..", "configs", "workloads", "suites", "kernels.yaml");
    int n = 0;
    for (String line : java.nio.file.Files.readAllLines(f)) {
      String l = line.replaceAll("#.*", "").trim();
      if (l.startsWith("- ")) {
        LoweredWorkload w = Workloads.lower(T, WorkloadSpec.parse(l.substring(2).trim(), f.toString()), KernelLoweringTest::shippedModel);
        assertThat(w.steps()).isNotEmpty();
        n++;
      }
    }
    assertThat(n).isGreaterThanOrEqualTo(10);
  }
}
