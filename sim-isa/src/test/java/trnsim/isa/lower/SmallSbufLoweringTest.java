package trnsim.isa.lower;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import trnsim.isa.Buffer;
import trnsim.isa.CoreProgram;
import trnsim.isa.DType;
import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.Program;
import trnsim.isa.Queue;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadSpec;

/**
 * Lowerings on a small-SBUF target shaped like the H100 template (64 partitions of 3,648 B SBUF,
 * PSUM 4 banks of 256 fp32, a 32 x 64 PE array, moving free size 256): every kind lowers, every
 * declared buffer and every instruction operand fits the target, the split row kernels move the
 * bytes and do the element operations of the row-per-partition kernels, and attention issues the
 * closed-form FLOPs.
 */
class SmallSbufLoweringTest {
  static final TargetSpec H = new TargetSpec("h100-like", 132, 64, 32, 64, 256,
      Map.of("bf16", 1.0, "fp16", 1.0, "fp8", 2.0, "fp32", 0.0625), 3648, 4096, 4, 16, 80L << 30, 1.98e9, 3.35e12 * 0.903, 8e9);
  static final TargetSpec T = KernelLoweringTest.T;
  static final ModelShape LLAMA3_70B = new ModelShape("llama3-70b", 80, 8192, 64, 8, 128, 28672, 128256);

  static LoweredWorkload lower(TargetSpec t, String text) {
    return Workloads.lower(t, WorkloadSpec.parse(text, "test"),
        n -> n.equals("llama3-70b") ? LLAMA3_70B : KernelLoweringTest.MODELS.apply(n));
  }

  /** Declared buffers within the partition sizes; matmul operands within the PE array; SIMD ops within the partitions. */
  static void assertFits(TargetSpec t, Program p) {
    for (CoreProgram c : p.cores()) {
      long sbuf = 0;
      long psum = 0;
      for (Buffer b : c.buffers()) {
        assertThat(b.partitions()).as(b.name()).isLessThanOrEqualTo(t.partitions());
        if (b.space() == MemSpace.SBUF) {
          sbuf += b.bytesPerPartition();
        } else if (b.space() == MemSpace.PSUM) {
          psum += b.bytesPerPartition();
        }
      }
      assertThat(sbuf).as(p.name() + " SBUF per partition").isLessThanOrEqualTo(t.sbufBytesPerPartition());
      assertThat(psum).as(p.name() + " PSUM per partition").isLessThanOrEqualTo(t.psumBytesPerPartition());
      for (Queue q : c.queues()) {
        for (int i = 0; i < q.size(); i++) {
          Instruction ins = q.instruction(i);
          if (ins instanceof Instruction.MatMul m) {
            assertThat(m.k()).as(p.name() + " matmul K").isLessThanOrEqualTo(t.kPerMatmul(m.stationary().dtype()));
            assertThat(m.m()).as(p.name() + " matmul M").isLessThanOrEqualTo(t.peCols());
            assertThat(m.n()).as(p.name() + " matmul N").isLessThanOrEqualTo(t.maxMovingFree());
            assertThat(m.n() * 4).as(p.name() + " matmul output within a PSUM bank")
                .isLessThanOrEqualTo(t.psumBytesPerPartition() / t.psumBanks());
          } else if (ins instanceof Instruction.DmaCopy d) {
            assertThat(d.src().partitions()).isLessThanOrEqualTo(t.partitions());
          } else if (ins instanceof Instruction.TensorTensor tt) {
            assertThat(tt.in0().partitions()).isLessThanOrEqualTo(t.partitions());
          } else if (ins instanceof Instruction.Activation a) {
            assertThat(a.in().partitions()).isLessThanOrEqualTo(t.partitions());
          }
        }
      }
    }
  }

  @Test
  void everyKindLowersAndFitsTheSmallTarget() {
    for (String w : List.of("rmsnorm:rows=2048,cols=8192", "softmax:rows=2048,cols=8192", "layernorm:rows=2048,cols=8192",
        "rmsnorm:rows=100,cols=1024", "softmax:rows=64,cols=32768",
        "attention:b=1,h=8,kv_heads=2,s=512,d=128,causal=true", "attention:b=1,h=4,s=512,d=64",
        "attention:b=1,h=2,s=256,d=256,causal=true", "attention:b=1,h=8,kv_heads=2,s=512,d=128,causal=true,pass=bwd",
        "attention:b=1,h=4,s=256,d=64,pass=bwd", "attention-decode:b=4,h=64,kv_heads=8,ctx=4096,d=128",
        "layer:model=llama3-70b,phase=prefill,batch=1,seq=512", "layer:model=llama3-70b,phase=decode,batch=8,ctx=2048",
        "layer:model=llama3-8b,phase=train,batch=1,seq=256")) {
      for (Step s : lower(H, w).steps()) {
        assertFits(H, s.program());
      }
    }
  }

  @Test
  void trainiumStillKeepsWholeRowsOnOnePartition() {
    assertThat(NormLowering.rowSplit(T, "rmsnorm", 8192, DType.BF16)).isEqualTo(1);
    assertThat(NormLowering.rowSplit(H, "rmsnorm", 8192, DType.BF16)).isGreaterThan(1);
    // a row too long for one Trainium partition now splits instead of failing
    assertThat(NormLowering.rowSplit(T, "softmax", 200_000, DType.BF16)).isGreaterThan(1);
    assertFits(T, lower(T, "softmax:rows=256,cols=200000").steps().get(0).program());
  }

  static long dmaBytes(Program p, MemSpace from, MemSpace to) {
    long b = 0;
    for (CoreProgram c : p.cores()) {
      for (Queue q : c.queues()) {
        for (int i = 0; i < q.size(); i++) {
          if (q.instruction(i) instanceof Instruction.DmaCopy d && d.src().space() == from && d.dst().space() == to) {
            b += d.bytes();
          }
        }
      }
    }
    return b;
  }

  /** Elements processed by data-sized SIMD instructions (free size {@code free}), by mnemonic and engine. */
  static Map<String, Long> elementOps(Program p, long free) {
    Map<String, Long> m = new HashMap<>();
    for (CoreProgram c : p.cores()) {
      for (Queue q : c.queues()) {
        for (int i = 0; i < q.size(); i++) {
          Instruction ins = q.instruction(i);
          trnsim.isa.TensorRef in = ins instanceof Instruction.Activation a ? a.in()
              : ins instanceof Instruction.TensorTensor t ? t.in0()
              : ins instanceof Instruction.TensorScalar t ? t.in()
              : ins instanceof Instruction.TensorReduce t ? t.in() : null;
          if (in != null && in.free() == free) {
            m.merge(ins.mnemonic() + "@" + ins.engine(), (long) in.partitions() * in.free(), Long::sum);
          }
        }
      }
    }
    return m;
  }

  static long matmuls(Program p) {
    long n = 0;
    for (CoreProgram c : p.cores()) {
      Queue q = c.queue(CoreProgram.TENSOR);
      for (int i = 0; i < q.size(); i++) {
        n += q.instruction(i) instanceof Instruction.MatMul ? 1 : 0;
      }
    }
    return n;
  }

  @Test
  void splitRowsMoveTheSameBytesAndDoTheSameElementOpsPlusACrossPartitionReduction() {
    long rows = 2048;
    long cols = 8192;
    for (String kind : new String[] {"softmax", "rmsnorm", "layernorm"}) {
      Program whole = NormLowering.lower(T, kind, rows, cols, DType.BF16, 8);
      Program split = NormLowering.lower(H, kind, rows, cols, DType.BF16, 132);
      int sp = NormLowering.rowSplit(H, kind, cols, DType.BF16);
      assertThat(sp).isGreaterThan(1);
      long data = 2 * rows * cols;
      long weightRow = (kind.equals("softmax") ? 0 : kind.equals("layernorm") ? 2 : 1) * 2 * cols;
      // read the input once, write the output once; weights: the row once per row group a core holds
      assertThat(dmaBytes(split, MemSpace.SBUF, MemSpace.HBM)).isEqualTo(data);
      assertThat(dmaBytes(whole, MemSpace.SBUF, MemSpace.HBM)).isEqualTo(data);
      long weightsRead = dmaBytes(split, MemSpace.HBM, MemSpace.SBUF) - data;
      assertThat(weightsRead).isBetween(0L, weightRow * (H.partitions() / sp) * split.cores().size());
      assertThat(split.hbmBytesMin()).isEqualTo(whole.hbmBytesMin());
      // the same element operations on the data, segment by segment
      assertThat(elementOps(split, cols / sp)).isEqualTo(elementOps(whole, cols));
      // plus the cross-partition reduction (matmuls against the ones matrix); the unsplit kernel has none
      assertThat(matmuls(whole)).isZero();
      long tiles = rows / (H.partitions() / sp);
      long sums = kind.equals("layernorm") ? 2 : 1;
      long perSum = (H.partitions() + H.peRows() - 1) / H.peRows();
      assertThat(matmuls(split)).isEqualTo(tiles * (sums * perSum + (kind.equals("softmax") ? 1 : 0)));
    }
  }

  @Test
  void attentionFlopsEqualTheClosedFormOnEveryTarget() {
    for (TargetSpec t : new TargetSpec[] {T, H}) {
      for (long d : new long[] {64, 128, 256}) {
        long b = 1;
        long h = 8;
        long s = 512;
        Program p = AttentionLowering.forward(t, new AttentionSpec(b, h, s, s, d, 2, false, DType.BF16), t.cores());
        assertThat(p.flops()).isEqualTo(4 * b * h * s * s * d);
        assertThat(KernelLoweringTest.issuedMatmulFlops(p)).as(t.name() + " d=" + d).isEqualTo(p.flops());
        Program c = AttentionLowering.forward(t, new AttentionSpec(b, h, s, s, d, 2, true, DType.BF16), t.cores());
        assertThat(c.flops()).isEqualTo(4 * b * h * d * s * (s + 1) / 2);
        int qt = AttentionLowering.FwdTiles.choose(t, new AttentionSpec(b, h, s, s, d, 2, true, DType.BF16)).qTile();
        // at most the upper half of one qt x qt diagonal block per Q tile is wasted
        long waste = 4L * b * h * d * (s / qt) * qt * qt / 2 + 4L * b * h * s * d;
        assertThat(KernelLoweringTest.issuedMatmulFlops(c)).as(t.name() + " causal d=" + d).isBetween(c.flops(), c.flops() + waste);
        if (d <= 128) {
          Program bw = AttentionBackward.lower(t, new AttentionSpec(b, h, s, s, d, 2, false, DType.BF16), t.cores());
          assertThat(KernelLoweringTest.issuedMatmulFlops(bw)).as(t.name() + " bwd d=" + d).isEqualTo(bw.flops());
          assertThat(bw.flops()).isEqualTo(4 * b * h * s * s * d * 5 / 2);
        }
      }
    }
  }

  @Test
  void trainiumKeepsItsFixedAttentionTiles() {
    AttentionSpec a = new AttentionSpec(1, 32, 2048, 2048, 128, 8, true, DType.BF16);
    assertThat(AttentionLowering.FwdTiles.choose(T, a)).isEqualTo(AttentionLowering.FwdTiles.trainium(a));
    AttentionLowering.FwdTiles h = AttentionLowering.FwdTiles.choose(H, a);
    assertThat(h.compact()).isTrue();
    assertThat(h.qTile()).isEqualTo(64);
    assertThat(AttentionBackward.BwdTiles.choose(T, a, 8).compact()).isFalse();
    assertThat(AttentionBackward.BwdTiles.choose(H, a, 132).compact()).isTrue();
  }
}
