package trnsim.isa.lower;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import trnsim.isa.Buffer;
import trnsim.isa.CoreProgram;
import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.Program;
import trnsim.isa.Queue;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * The NKI tutorial's four matmul kernels, lowered for [4096,8192] @ [8192,8192] bf16 on one
 * NeuronCore-v2, against the closed forms of calibration/trainium/kernels.md section 1.6 (HBM
 * traffic, DMA, matmul, accumulation-group and copy counts) and the kernels' SBUF declarations.
 */
class NkiMatmulLoweringTest {
  static final long KIB = 1024;
  static final long MIB = 1024 * KIB;
  /** A Trainium1-like core: 128x128 PE, 192 KiB SBUF per partition, 16 DMA queues of 17 GB/s, 8 KiB minimum share. */
  static final TargetSpec TRN1 = new TargetSpec("trn1-like", 2, 128, 128, 128, 512, Map.of("bf16", 1.0, "fp32", 0.25),
      192 * KIB, 16 * KIB, 8, 16, 32L << 30, 2.8e9, 738e9, 17e9, 8 * KIB);

  static Program lower(String strategyAndBlocks) {
    LoweredWorkload w = Workloads.lower(TRN1,
        WorkloadSpec.parse("gemm:m=4096,k=8192,n=8192,dtype=bf16,cores=1,strategy=" + strategyAndBlocks, "test"), null);
    return w.steps().get(0).program();
  }

  /** What one program does, counted from its instruction streams. */
  record Counts(long hbmRead, long hbmWrite, Map<Long, Long> loadTransfersByRowBytes, long storeTransfers, long storeRowBytes,
      long matmuls, long groups, long psumEvacuations, long vectorPsumAdds, long sbufCopies, long memsets) {}

  static Counts count(Program p) {
    long rd = 0;
    long wr = 0;
    long st = 0;
    long stRow = 0;
    long mm = 0;
    long groups = 0;
    long evac = 0;
    long adds = 0;
    long copies = 0;
    long memsets = 0;
    Map<Long, Long> loads = new HashMap<>();
    for (CoreProgram c : p.cores()) {
      for (Queue q : c.queues()) {
        for (int i = 0; i < q.size(); i++) {
          Instruction ins = q.instruction(i);
          if (ins instanceof Instruction.DmaCopy d) {
            if (d.src().space() == MemSpace.HBM) {
              rd += d.bytes();
              loads.merge(d.src().bytesPerPartition(), 1L, Long::sum);
            } else if (d.dst().space() == MemSpace.HBM) {
              wr += d.bytes();
              st++;
              stRow = d.src().bytesPerPartition();
            }
          } else if (ins instanceof Instruction.MatMul m) {
            mm++;
            groups += m.accumulate() ? 0 : 1;
          } else if (ins instanceof Instruction.TensorCopy tc && tc.in().space() == MemSpace.PSUM) {
            evac++;
          } else if (ins instanceof Instruction.Activation a) {
            if (a.in().space() == MemSpace.PSUM) {
              evac++;
            } else {
              copies++;
            }
          } else if (ins instanceof Instruction.TensorTensor t && t.in0().space() == MemSpace.PSUM) {
            adds++;
          } else if (ins instanceof Instruction.Memset) {
            memsets++;
          }
        }
      }
    }
    return new Counts(rd, wr, loads, st, stRow, mm, groups, evac, adds, copies, memsets);
  }

  static long declared(Program p, String buffer) {
    for (Buffer b : p.cores().get(0).buffers()) {
      if (b.name().equals(buffer)) {
        return b.bytesPerPartition();
      }
    }
    throw new AssertionError("no buffer " + buffer);
  }

  // kernels.md 1.6: one lhsT tile is 128 rows x 256 B (32 KiB: 4 queues of 8 KiB), one rhs tile and one
  // store 128 x 1 KiB (128 KiB: 16 queues), a V4 lhsT slab 128 x 4 KiB, rhs slab and store 128 x 2 KiB.

  @Test
  void tiledReloadsBothTilesEveryStep() {
    Counts c = count(lower("tiled"));
    assertThat(c.hbmRead() + c.hbmWrite()).isEqualTo(5184 * MIB);
    assertThat(c.loadTransfersByRowBytes()).containsEntry(256L, 32_768L * 4).containsEntry(1024L, 32_768L * 16).hasSize(2);
    assertThat(c.storeTransfers()).isEqualTo(512 * 16);
    assertThat(c.storeRowBytes()).isEqualTo(1024);
    assertThat(c.matmuls()).isEqualTo(32_768);
    assertThat(c.groups()).isEqualTo(512);
    assertThat(c.psumEvacuations()).isEqualTo(512);
  }

  @Test
  void hoistedLoadsLhsTOncePerMAndDeclaresItWithTileNColumns() {
    Program p = lower("hoisted");
    Counts c = count(p);
    assertThat(c.hbmRead() + c.hbmWrite()).isEqualTo(4224 * MIB);
    assertThat(c.loadTransfersByRowBytes()).containsEntry(256L, 2_048L * 4).containsEntry(1024L, 32_768L * 16).hasSize(2);
    assertThat(c.storeTransfers()).isEqualTo(512 * 16);
    assertThat(c.matmuls()).isEqualTo(32_768);
    assertThat(c.groups()).isEqualTo(512);
    assertThat(c.psumEvacuations()).isEqualTo(512);
    // 64 tiles x 512 bf16 columns declared (64 KiB per partition), of which 16 KiB are used; rhs 64 KiB.
    assertThat(declared(p, "lhsT tiles")).isEqualTo(64 * KIB);
    assertThat(declared(p, "rhs tiles")).isEqualTo(64 * KIB);
  }

  @Test
  void blockFreeKeepsTwentyMiBAndCannotDoubleBufferTheRhsBlock() {
    Program p = lower("block_free,block_m=256,block_n=1024");
    Counts c = count(p);
    assertThat(c.hbmRead() + c.hbmWrite()).isEqualTo(2176 * MIB);
    assertThat(c.loadTransfersByRowBytes()).containsEntry(256L, 2_048L * 4).containsEntry(1024L, 16_384L * 16).hasSize(2);
    assertThat(c.storeTransfers()).isEqualTo(512 * 16);
    assertThat(c.matmuls()).isEqualTo(32_768);
    assertThat(c.groups()).isEqualTo(512);
    assertThat(c.psumEvacuations()).isEqualTo(512);
    // 32 + 128 KiB declared (20 MiB); a second 128 KiB rhs block would exceed 192 KiB.
    assertThat(declared(p, "lhsT tiles")).isEqualTo(32 * KIB);
    assertThat(declared(p, "rhs tiles")).isEqualTo(128 * KIB);
    // The defaults are the tutorial's blocks.
    assertThat(count(lower("block_free")).hbmRead()).isEqualTo(c.hbmRead());
  }

  @Test
  void blockKAccumulatesInSbufAndStoresPackedRows() {
    Program p = lower("block_k,block_m=2048,block_n=1024,block_k=1024");
    Counts c = count(p);
    assertThat(c.hbmRead() + c.hbmWrite()).isEqualTo(704 * MIB);
    assertThat(c.hbmWrite()).isEqualTo(64 * MIB);
    assertThat(c.loadTransfersByRowBytes()).containsEntry(4096L, 1_024L * 16).containsEntry(2048L, 512L * 16).hasSize(2);
    assertThat(c.storeTransfers()).isEqualTo(256 * 16);
    assertThat(c.storeRowBytes()).isEqualTo(2048);
    assertThat(c.matmuls()).isEqualTo(32_768);
    assertThat(c.groups()).isEqualTo(4_096);
    assertThat(c.vectorPsumAdds()).isEqualTo(4_096);
    assertThat(c.sbufCopies()).isEqualTo(512);
    assertThat(c.memsets()).isEqualTo(8);
    assertThat(c.psumEvacuations()).isZero();
    // The accumulator holds the whole M x BLOCK_N stripe in bf16: 4096 x 1024 x 2 B / 128 partitions.
    assertThat(declared(p, "result accumulator")).isEqualTo(64 * KIB);
    assertThat(count(lower("block_k")).hbmRead()).isEqualTo(c.hbmRead());
  }

  @Test
  void smallDmasUseFewerQueuesInTurn() {
    // 32 KiB over >= 8 KiB shares: 4 queues, starting where the previous DMA left off.
    assertThat(NkiMatmulLowering.DmaSpread.queuesFor(16, 8 * KIB, 128, 256)).isEqualTo(4);
    assertThat(NkiMatmulLowering.DmaSpread.queuesFor(16, 8 * KIB, 128, 1024)).isEqualTo(16);
    assertThat(NkiMatmulLowering.DmaSpread.queuesFor(16, 8 * KIB, 128, 16)).isEqualTo(1);
    assertThat(NkiMatmulLowering.DmaSpread.queuesFor(16, 0, 128, 16)).isEqualTo(16);
    assertThat(NkiMatmulLowering.DmaSpread.queuesFor(16, 0, 4, 4096)).isEqualTo(4);
    // Over a whole tiled kernel every queue carries the same number of transfers (loads are balanced).
    Program p = lower("tiled");
    long first = p.cores().get(0).queue(CoreProgram.FIRST_DMA).size();
    for (int q = 0; q < 16; q++) {
      assertThat(p.cores().get(0).queue(CoreProgram.FIRST_DMA + q).size()).isEqualTo(first);
    }
  }

  @Test
  void coresSplitTheColumnsAndOtherShapesAndDtypesLower() {
    LoweredWorkload w = Workloads.lower(TRN1, WorkloadSpec.parse("gemm:m=4096,k=8192,n=8192,strategy=block_k", "test"), null);
    Program p = w.steps().get(0).program();
    assertThat(p.cores()).hasSize(2);
    assertThat(count(p).matmuls()).isEqualTo(32_768);
    assertThat(count(p).hbmWrite()).isEqualTo(64 * MIB);
    // fp32: same instruction counts, twice the bytes.
    Program f = Workloads.lower(TRN1, WorkloadSpec.parse("gemm:m=1024,k=1024,n=1024,dtype=fp32,cores=1,strategy=hoisted", "t"), null)
        .steps().get(0).program();
    assertThat(count(f).hbmRead()).isEqualTo(4L * (1024 * 1024 + 8 * 1024 * 1024));
    assertThat(count(f).matmuls()).isEqualTo(8 * 2 * 8);
  }

  @Test
  void badBlocksAndShapesNameKeyAndValue() {
    assertThatThrownBy(() -> lower("block_k,block_n=4096")).isInstanceOf(WorkloadException.class)
        .hasMessageContaining("gemm.block_n = '4096'").hasMessageContaining("SBUF");
    assertThatThrownBy(() -> lower("block_free,block_n=4096")).hasMessageContaining("gemm.block_n = '4096'")
        .hasMessageContaining("SBUF");
    assertThatThrownBy(() -> lower("block_k,block_m=1000")).hasMessageContaining("gemm.block_m = '1000'")
        .hasMessageContaining("multiple of TILE_M = 128");
    assertThatThrownBy(() -> lower("block_k,block_k=3072")).hasMessageContaining("gemm.k = '8192'")
        .hasMessageContaining("block_k = 3072");
    assertThatThrownBy(() -> lower("tiled,block_m=256")).hasMessageContaining("gemm.block_m = '256'")
        .hasMessageContaining("no block along M");
    assertThatThrownBy(() -> lower("block_free,block_k=1024")).hasMessageContaining("gemm.block_k");
    assertThatThrownBy(() -> Workloads.lower(TRN1, WorkloadSpec.parse("gemm:m=4096,k=32768,n=8192,strategy=hoisted", "t"), null))
        .hasMessageContaining("gemm.k = '32768'").hasMessageContaining("SBUF");
    assertThatThrownBy(() -> Workloads.lower(TRN1, WorkloadSpec.parse("gemm:m=4096,k=8192,n=8000,strategy=tiled", "t"), null))
        .hasMessageContaining("gemm.n = '8000'");
    assertThatThrownBy(() -> Workloads.lower(TRN1, WorkloadSpec.parse("gemm:m=512,k=512,n=512,tb=true,strategy=tiled", "t"), null))
        .hasMessageContaining("gemm.tb");
  }
}
