package trnsim.isa.lower;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import trnsim.isa.CoreProgram;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.Program;
import trnsim.isa.Queue;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * The fused Mamba kernels against the trip counts, DMA counts and HBM traffic that
 * calibration/trainium/kernels.md (sections 2.3 and 2.4) derives from the tutorial's source, and
 * against the SBUF capacity (spills only where the live tiles outgrow 192 KiB per partition).
 */
class MambaLoweringTest {
  /** A Trainium1-like core: 128 partitions, 192 KiB SBUF and 16 KiB PSUM (8 banks) per partition, 16 DMA queues. */
  static final TargetSpec TRN1 = new TargetSpec("trn1-like", 2, 128, 128, 128, 512, Map.of("bf16", 1.0, "fp32", 0.25),
      192 * 1024, 16 * 1024, 8, 16, 32L << 30, 2.8e9, 738e9, 17e9);
  static final long KIB = 1024;
  static final long MIB = 1024 * 1024;

  static MambaLowering.Lowered lower(String version, long channels, long seq, boolean hoist) {
    return MambaLowering.lowerWithPlans(TRN1,
        new MambaLowering.Spec(channels, seq, 16, 1, Integer.parseInt(version.substring(1)), 512, hoist, DType.FP32), 1);
  }

  static long count(Program p, Predicate<Instruction> what) {
    long n = 0;
    for (CoreProgram c : p.cores()) {
      for (Queue q : c.queues()) {
        for (int i = 0; i < q.size(); i++) {
          if (what.test(q.instruction(i))) {
            n++;
          }
        }
      }
    }
    return n;
  }

  /** activation, tensor_tensor, tensor_tensor_scan, broadcast matmuls. */
  static long[] trips(Program p) {
    return new long[] {
        count(p, i -> i instanceof Instruction.Activation),
        count(p, i -> i instanceof Instruction.TensorTensor),
        count(p, i -> i instanceof Instruction.TensorTensorScan),
        count(p, i -> i instanceof Instruction.MatMul)};
  }

  @Test
  void asWrittenTheKernelsIssueTheTripCountsOfTheSource() {
    // kernels.md 2.3 trip-count table (batch 1, state 16).
    assertThat(trips(lower("v1", 256, 512, false).program())).containsExactly(32, 128, 32, 64);
    for (String v : new String[] {"v1", "v2", "v3"}) {
      assertThat(trips(lower(v, 4096, 512, false).program())).as(v).containsExactly(512, 2048, 512, 1024);
    }
    // v2 at 8192: 1,024 broadcasts of 16 PSUM banks each, every bank copied to SBUF by ScalarE.
    Program v2 = lower("v2", 4096, 8192, false).program();
    assertThat(trips(v2)).containsExactly(512, 2048, 512, 1024 * 16);
    assertThat(count(v2, i -> i instanceof Instruction.TensorCopy c && c.engine() == EngineKind.SCALAR)).isEqualTo(1024 * 16);
    // v3 at 8192: 8,192 bodies, plus 8,192 carry copies and 512 carry zeroings.
    Program v3 = lower("v3", 4096, 8192, false).program();
    assertThat(trips(v3)).containsExactly(8192, 32768, 8192, 16384);
    assertThat(count(v3, i -> i instanceof Instruction.TensorCopy c && c.engine() == EngineKind.VECTOR
        && c.out().free() == 1)).isEqualTo(8192);
    assertThat(count(v3, i -> i instanceof Instruction.Memset m && m.out().free() == 1)).isEqualTo(512);
    assertThat(count(v3, i -> i instanceof Instruction.TensorTensorScan s && s.initial() != null)).isEqualTo(8192);
    assertThat(count(v2, i -> i instanceof Instruction.TensorTensorScan s && s.initial() != null)).isZero();
  }

  @Test
  void hoistingDeltaTimesUSavesFifteenOfEverySixteenProducts() {
    // delta * u does not depend on the state: once per channel tile (and sequence tile) instead of 16 times.
    long bodies = 32 * 16;
    assertThat(trips(lower("v2", 4096, 512, true).program())[1]).isEqualTo(3 * bodies + 32);
    assertThat(trips(lower("v3", 4096, 2048, true).program())[1]).isEqualTo(3 * bodies * 4 + 32 * 4);
    // v1 loads delta and u inside the state loop: nothing to hoist.
    assertThat(trips(lower("v1", 4096, 512, true).program())).containsExactly(512, 2048, 512, 1024);
  }

  @Test
  void broadcastsReadPsumUpToOneBankAndSbufBeyond() {
    Program v3 = lower("v3", 4096, 2048, true).program();
    Program v2 = lower("v2", 4096, 2048, true).program();
    Predicate<Instruction> psumOperand = i -> i instanceof Instruction.TensorTensor t
        && (t.in0().space() == MemSpace.PSUM || t.in1().space() == MemSpace.PSUM);
    assertThat(count(v3, psumOperand)).isEqualTo(2 * 32 * 16 * 4);
    assertThat(count(v2, psumOperand)).isZero();
    // The ones stationary is [1 x 128]: each broadcast is a K = 1 matmul.
    assertThat(count(v2, i -> i instanceof Instruction.MatMul m && m.k() == 1 && m.m() == 128 && m.n() == 512))
        .isEqualTo(2 * 32 * 16 * 4);
  }

  @Test
  void dmaCountsAndHbmTrafficMatchTheSource() {
    // v1 at 4096 channels: 512 loads each of delta, u, A, B and C, and 32 stores; 266.25 MiB.
    TileKernel.Plan v1 = lower("v1", 4096, 512, true).plans().get(0);
    assertThat(v1.loads()).isEqualTo(2560);
    assertThat(v1.stores()).isEqualTo(32);
    assertThat(v1.loadBytes() + v1.storeBytes()).isEqualTo(256 * MIB + 2 * MIB + 256 * KIB + 8 * MIB);
    // v2 at 512: 64 tile loads of 256 KiB, 1,536 small loads, 32 stores.
    TileKernel.Plan v2 = lower("v2", 4096, 512, true).plans().get(0);
    assertThat(v2.loads()).isEqualTo(64 + 1536);
    assertThat(v2.stores()).isEqualTo(32);
    // v3 at 8192: 64 tile loads of 4 MiB, 512 A loads, 16,384 B/C loads of 2 KiB, 32 stores of 4 MiB.
    TileKernel.Plan v3 = lower("v3", 4096, 8192, true).plans().get(0);
    assertThat(v3.loads()).isEqualTo(64 + 512 + 16384);
    assertThat(v3.loadBytes()).isEqualTo(64 * 4 * MIB + 512 * 512 + 16384 * 2 * KIB);
    assertThat(v3.storeBytes()).isEqualTo(32 * 4 * MIB);
    // v2 and v3: 52 KiB x L + 256 KiB of HBM traffic.
    for (long seq : new long[] {512, 2048, 7168}) {
      for (String v : new String[] {"v2", "v3"}) {
        TileKernel.Plan p = lower(v, 4096, seq, true).plans().get(0);
        assertThat(p.loadBytes() + p.storeBytes()).as(v + " L" + seq).isEqualTo(52 * KIB * seq + 256 * KIB);
        assertThat(p.spilled()).as(v + " L" + seq).isFalse();
      }
    }
  }

  @Test
  void onlyV2AtLongSequencesOutgrowsSbuf() {
    // v2 keeps delta, delta*u and the accumulator whole (12L bytes) plus three full-length
    // intermediates at any point (12L): 24L, which reaches 192 KiB at L = 8192.
    MambaLowering.Lowered v2 = lower("v2", 4096, 8192, true);
    TileKernel.Plan spill = v2.plans().get(0);
    assertThat(spill.spilled()).isTrue();
    assertThat(spill.reloads()).isPositive();
    assertThat(spill.peakSbufBytesPerPartition()).isLessThanOrEqualTo(192 * KIB);
    TileKernel.Plan fits = lower("v2", 4096, 7168, true).plans().get(0);
    // 24L at the B broadcast (delta, delta*u, accum, deltaA, the B row, its SBUF broadcast) plus the ones row.
    assertThat(fits.spilled()).isFalse();
    assertThat(fits.peakSbufBytesPerPartition()).isEqualTo(24 * 7168 + 128 * 4);
    for (long seq : new long[] {512, 4096, 8192}) {
      TileKernel.Plan v3 = lower("v3", 4096, seq, true).plans().get(0);
      assertThat(v3.spilled()).as("v3 L" + seq).isFalse();
      // delta, delta*u and the accumulator (12L) plus a few 2 KiB slices.
      assertThat(v3.peakSbufBytesPerPartition()).as("v3 L" + seq).isBetween(12 * seq, 12 * seq + 16 * KIB);
    }
    assertThat(lower("v1", 256, 512, true).plans().get(0).spilled()).isFalse();
    assertThat(lower("v1", 4096, 512, true).plans().get(0).spilled()).isFalse();
  }

  @Test
  void workloadStringsAreParsedAndCheckedAsTheHarnessWritesThem() {
    LoweredWorkload w = Workloads.lower(TRN1, WorkloadSpec.parse(
        "mamba:channels=4096,seq=8192,state=16,batch=1,version=v3,dtype=fp32,cores=1,seq_tile=512", "test"), null);
    assertThat(w.launches()).isEqualTo(1);
    assertThat(w.steps()).hasSize(1);
    assertThat(w.steps().get(0).label()).isEqualTo("mamba_v3");
    assertThat(w.steps().get(0).program().cores()).hasSize(1);
    assertThatThrownBy(() -> Workloads.lower(TRN1, WorkloadSpec.parse("mamba:channels=4096,seq=512,version=v2,seq_tile=256", "t"), null))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("mamba.seq_tile");
    assertThatThrownBy(() -> Workloads.lower(TRN1, WorkloadSpec.parse("mamba:channels=4096,seq=512,version=v4", "t"), null))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("version");
    assertThatThrownBy(() -> Workloads.lower(TRN1, WorkloadSpec.parse("mamba:channels=4096,seq=512,cores=3", "t"), null))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("mamba.cores");
    assertThatThrownBy(() -> Workloads.lower(TRN1, WorkloadSpec.parse("mamba:channels=4096,seq=512,chanels=3", "t"), null))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("chanels");
    assertThatThrownBy(() -> Workloads.lower(TRN1, WorkloadSpec.parse("mamba:channels=-4,seq=512", "t"), null))
        .isInstanceOf(WorkloadException.class).hasMessageContaining("channels");
  }

  @Test
  void channelsAndSequencesThatDoNotDivideTheTilesUseShorterLastTiles() {
    MambaLowering.Lowered l = lower("v3", 200, 1000, true);
    // 2 channel tiles (128 + 72 partitions) x 16 states x 2 sequence tiles (512 + 488).
    assertThat(trips(l.program())).containsExactly(64, 3 * 64 + 4, 64, 128);
    TileKernel.Plan p = l.plans().get(0);
    assertThat(p.loadBytes() + p.storeBytes()).isEqualTo(4L * (3 * 200 * 1000 + 2 * 16 * 1000 * 2 + 200 * 16));
  }

  @Test
  void batchesAndChannelTilesAreSplitOverTheCoresAsked() {
    MambaLowering.Spec s = new MambaLowering.Spec(4096, 1024, 16, 2, 3, 512, true, DType.FP32);
    Program one = MambaLowering.lower(TRN1, s, 1);
    Program two = MambaLowering.lower(TRN1, s, 2);
    assertThat(one.cores()).hasSize(1);
    assertThat(two.cores()).hasSize(2);
    assertThat(trips(two)).containsExactly(trips(one));
  }

  /** The H100 template's core: 64 partitions of 3,648 B SBUF, 4 PSUM banks of 256 fp32, 16 DMA queues. */
  static final TargetSpec H100 = new TargetSpec("h100-like", 132, 64, 32, 64, 256, Map.of("bf16", 1.0, "fp32", 0.0625),
      3648, 4096, 4, 16, 80L << 30, 1.98e9, 3.35e12, 8e9);

  /** Partition-elements the scans cover: the recurrence's work, however the sequence is cut. */
  static long scanElements(Program p) {
    long n = 0;
    for (CoreProgram c : p.cores()) {
      for (Queue q : c.queues()) {
        for (int i = 0; i < q.size(); i++) {
          if (q.instruction(i) instanceof Instruction.TensorTensorScan s) {
            n += (long) s.out().partitions() * s.out().free();
          }
        }
      }
    }
    return n;
  }

  @Test
  void onSmallPartitionsTheSequenceIsWalkedInChunksWithOneCarryPerState() {
    // v2's full-sequence tiles (8192 fp32 = 32 KiB per partition) cannot sit next to each other in 3,648 B: the
    // kernel walks 64-column chunks (12 live tiles of 256 B fit 90% of a partition; at most one 256-column bank).
    var s = new MambaLowering.Spec(256, 8192, 16, 1, 2, 512, true, DType.FP32);
    MambaLowering.Lowered small = MambaLowering.lowerWithPlans(H100, s, 1);
    assertThat(MambaLowering.fitColumns(H100, s)).isEqualTo(64);
    Program p = small.program();
    // 4 channel tiles of 64 x 16 states x 128 chunks: one scan per body, each from its state's carry
    assertThat(count(p, i -> i instanceof Instruction.TensorTensorScan)).isEqualTo(4L * 16 * 128);
    assertThat(count(p, i -> i instanceof Instruction.TensorTensorScan x && x.initial() != null)).isEqualTo(4L * 16 * 128);
    // the same recurrence as the whole-sequence kernel on Trainium: channels x seq x state elements, same compulsory bytes
    Program whole = MambaLowering.lower(TRN1, s, 1);
    assertThat(scanElements(p)).isEqualTo(256L * 8192 * 16).isEqualTo(scanElements(whole));
    assertThat(p.hbmBytesMin()).isEqualTo(whole.hbmBytesMin());
    assertThat(small.plans().get(0).spilled()).isFalse();
    assertThat(small.plans().get(0).peakSbufBytesPerPartition()).isLessThanOrEqualTo(3648);
    // Trainium keeps the kernel as written: no carries in v2
    assertThat(MambaLowering.fitColumns(TRN1, s)).isEqualTo(8192);
    assertThat(count(whole, i -> i instanceof Instruction.TensorTensorScan x && x.initial() != null)).isZero();
    for (int v : new int[] {1, 3}) {
      var sv = new MambaLowering.Spec(256, 2048, 16, 1, v, 512, true, DType.FP32);
      assertThat(scanElements(MambaLowering.lower(H100, sv, 1))).as("v%d", v).isEqualTo(256L * 2048 * 16);
    }
  }
}
