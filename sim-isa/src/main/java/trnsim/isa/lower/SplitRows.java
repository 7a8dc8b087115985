package trnsim.isa.lower;

import java.util.ArrayList;
import java.util.List;
import trnsim.isa.ActFunc;
import trnsim.isa.AluOp;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.Op;
import trnsim.isa.Program;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.TensorRef;
import trnsim.isa.target.TargetSpec;

/**
 * Row kernels (softmax, RMSNorm, LayerNorm) for rows that do not fit one partition: each row is
 * split into {@code sp} contiguous segments on {@code sp} consecutive partitions, so a
 * {@code [P x C/sp]} tile holds {@code P/sp} whole rows and is one contiguous block of HBM (read
 * once, written once, like the row-per-partition tiles). The element operations are those of
 * {@link NormLowering} on the segments; what changes is the row statistics, which become
 * cross-partition reductions:
 * <ul>
 *   <li>sums (sum of squares, LayerNorm's mean, softmax's denominator): the per-partition partial
 *       sums [P x 1] (fp32, split into bf16 high and low parts so the matmul runs at the bf16 rate
 *       with ~16 mantissa bits) are the moving operand of matmuls against a block-diagonal ones matrix
 *       (stationary, built once per core by gpsimd {@code iota}); PSUM partition p receives its
 *       row's total, already broadcast to every segment of the row ({@code ceil(P/K)} accumulating
 *       matmuls of K = PE rows);
 *   <li>softmax's max (no matmul form): tensor transpose of the partial maxima to one partition,
 *       vector reduce per row, a vector expand to [1 x P] and a K = 1 matmul that broadcasts them
 *       back to the partitions (bf16: the max only needs to be close to the true one, softmax is
 *       shift-invariant).
 * </ul>
 * LayerNorm keeps the two-pass mean/variance of the unsplit kernel, so it needs two
 * cross-partition sums per tile. The tile stream (SBUF ring, split DMA queues, the two-stage
 * software pipeline) is that of the unsplit kernel.
 */
final class SplitRows {
  /** Ring slots wanted for a partial split; a split over every partition accepts 2. */
  static final int MIN_RING = 3;

  private SplitRows() {}

  /** K rows of one cross-partition matmul. */
  static int kChunk(TargetSpec t) {
    return Math.min(t.peRows(), t.partitions());
  }

  /** Bytes per partition of the block-diagonal ones matrix (bf16, K-chunked). */
  static long onesBytes(TargetSpec t) {
    return 2L * Kernels.ceilDiv(t.partitions(), kChunk(t)) * t.partitions();
  }

  /** SBUF bytes per partition left for the data ring when a row segment is {@code segBytes}. */
  static long budget(TargetSpec t, String kind, long segBytes, int sp) {
    long weights = NormLowering.weightBytes(kind, segBytes);
    long scratch = kind.equals("softmax") ? 0 : segBytes;
    return (long) (t.sbufBytesPerPartition() * 0.9) - weights - scratch - 256 - (sp > 1 ? onesBytes(t) : 0);
  }

  static Program lower(TargetSpec t, String kind, long rows, long cols, DType dtype, int coresRequested, int sp) {
    int parts = t.partitions();
    long seg = Kernels.ceilDiv(cols, sp);
    long segBytes = dtype.bytes(seg);
    long budget = budget(t, kind, segBytes, sp);
    int ring = (int) Math.min(NormLowering.RING, budget / segBytes);
    int rowsPerTile = parts / sp;
    long tiles = Kernels.ceilDiv(rows, rowsPerTile);
    Kernels.guard(kind, tiles * (16 + 2.0 * t.dmaQueues()));
    int cores = (int) Math.max(1, Math.min(Math.min(coresRequested, t.cores()), tiles));
    ProgramBuilder pb = new ProgramBuilder(kind + " rows=" + rows + " cols=" + cols + " " + dtype.label(), t.dmaQueues());
    int q = t.dmaQueues();
    int splitLoadQ = Math.max(1, q / 2);
    long weights = NormLowering.weightBytes(kind, segBytes);
    for (int c = 0; c < cores; c++) {
      var core = pb.core(c);
      long myTiles = tiles / cores + (c < tiles % cores ? 1 : 0);
      long first = c * (tiles / cores) + Math.min(c, tiles % cores);
      boolean allAhead = myTiles <= ring;
      int loadQ = allAhead ? q : splitLoadQ;
      int storeQ0 = allAhead || q == 1 ? 0 : splitLoadQ;
      int storeQ = allAhead ? q : Math.max(1, q - splitLoadQ);
      core.alloc(MemSpace.SBUF, kind + " ring (row segments)", parts, ring * segBytes);
      if (!kind.equals("softmax")) {
        core.alloc(MemSpace.SBUF, "squares", parts, segBytes);
      }
      core.alloc(MemSpace.SBUF, "row stats", parts, 64);
      core.alloc(MemSpace.SBUF, "block-diagonal ones", kChunk(t), onesBytes(t));
      long bank = t.psumBytesPerPartition() / t.psumBanks();
      core.alloc(MemSpace.PSUM, "cross-partition statistics (2 slots)", parts, 2 * bank);
      long coreRows = Math.min(rows - first * rowsPerTile, myTiles * rowsPerTile);
      int used = (int) Math.min(parts, coreRows * sp);
      Op[] weightLoads = new Op[0];
      if (weights > 0) {
        core.alloc(MemSpace.SBUF, "weight segments", used, weights);
        weightLoads = NormLowering.spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, used, weights);
      }
      Tile tl = new Tile(t, core, kind, seg, dtype,
          core.add(new Instruction.Iota(TensorRef.sbuf(kChunk(t), onesBytes(t) / 2, DType.BF16))));
      int[] p = new int[(int) myTiles];
      for (int i = 0; i < myTiles; i++) {
        long r0 = (first + i) * rowsPerTile;
        p[i] = (int) (Math.min(rowsPerTile, rows - r0) * sp);
      }
      List<Op[]> loads = new ArrayList<>();
      List<Op[]> stores = new ArrayList<>();
      // every slot is loaded up front; a slot is reloaded right after the store of the tile it held
      for (int i = 0; i < Math.min(ring, myTiles); i++) {
        loads.add(NormLowering.spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, p[i], segBytes));
      }
      Op[] stageA = new Op[(int) myTiles];
      Op[] stageB = new Op[(int) myTiles];
      for (int n = 0; n <= myTiles; n++) {
        if (n < myTiles) {
          stageA[n] = tl.stageA(n, p[n], sp, Kernels.concat(loads.get(n), weightLoads));
        }
        if (n >= 1) {
          int m = n - 1;
          stageB[m] = tl.stageB(m, p[m], stageA[m], m >= 1 ? stageB[m - 1] : null);
          stores.add(NormLowering.spread(core, storeQ0, storeQ, MemSpace.SBUF, MemSpace.HBM, p[m], segBytes, stageB[m]));
          int next = m + ring;
          if (next < myTiles) {
            loads.add(NormLowering.spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, p[next], segBytes, stores.get(m)));
          }
        }
      }
    }
    long data = dtype.bytes(rows * cols);
    pb.flops(0).hbmBytesMin(2 * data + NormLowering.weightBytes(kind, dtype.bytes(cols)));
    pb.note(kind + ": a row of " + dtype.bytes(cols) + " B does not fit one partition; each row split over " + sp
        + " partitions (" + rowsPerTile + " rows per [" + parts + " x " + seg + "] tile), " + ring + "-slot SBUF ring, "
        + tiles + " tiles over " + cores + " cores");
    pb.note("row statistics by cross-partition reduction: sums by matmuls against a block-diagonal ones matrix ("
        + Kernels.ceilDiv(parts, kChunk(t)) + " x K=" + kChunk(t) + " per sum)"
        + (kind.equals("softmax") ? ", max by transpose + reduce + K=1 broadcast matmul" : "")
        + (kind.equals("layernorm") ? ", two sums per tile (mean, then variance)" : ""));
    return pb.build();
  }

  /** Emits the per-tile operations of one core; PSUM statistics alternate between two slots. */
  static final class Tile {
    final TargetSpec t;
    final ProgramBuilder.CoreBuilder core;
    final String kind;
    final long seg;
    final DType dtype;
    final Op ones;
    final Op[] psumReader = new Op[2];

    Tile(TargetSpec t, ProgramBuilder.CoreBuilder core, String kind, long seg, DType dtype, Op ones) {
      this.t = t;
      this.core = core;
      this.kind = kind;
      this.seg = seg;
      this.dtype = dtype;
      this.ones = ones;
    }

    /** Partial sums [p x 1] -> every partition's row total in PSUM [p x 1]. */
    Op crossSum(int p, Op partial, Op war) {
      int kc = kChunk(t);
      int mc = Math.min(t.peCols(), p);
      // fp32 partials as bf16 hi + lo parts (N = 2): the matmuls run at the bf16 rate, ~16-bit mantissa
      Op split = core.add(new Instruction.TensorScalar(EngineKind.VECTOR, TensorRef.sbuf(p, 1, DType.FP32),
          TensorRef.sbuf(p, 2, DType.BF16), AluOp.SUBTRACT), partial);
      Op last = null;
      for (int m0 = 0; m0 < p; m0 += mc) {
        int mm = Math.min(mc, p - m0);
        for (int k0 = 0; k0 < p; k0 += kc) {
          int kk = Math.min(kc, p - k0);
          last = core.add(new Instruction.MatMul(TensorRef.sbuf(kk, mm, DType.BF16), TensorRef.sbuf(kk, 2, DType.BF16),
              TensorRef.psum(mm, 2, DType.FP32), k0 > 0), split, ones, war);
        }
      }
      return last;
    }

    /** The reductions of tile n, up to its row statistics in PSUM. */
    Op stageA(int n, int p, int sp, Op[] loaded) {
      TensorRef x = TensorRef.sbuf(p, seg, dtype);
      TensorRef part = TensorRef.sbuf(p, 1, DType.FP32);
      TensorRef stat = TensorRef.sbuf(p, 1, DType.FP32);
      Op war = psumReader[n % 2];
      if (kind.equals("softmax")) {
        int rowsIn = p / sp;
        Op max = core.add(new Instruction.TensorReduce(EngineKind.VECTOR, x, part, AluOp.MAX), loaded);
        Op tr = core.add(new Instruction.Transpose(EngineKind.TENSOR, part, TensorRef.psum(1, p, DType.FP32)), max, war);
        Op gmax = core.add(new Instruction.TensorReduce(EngineKind.VECTOR, TensorRef.psum(1, p, DType.FP32),
            TensorRef.sbuf(1, rowsIn, DType.FP32), AluOp.MAX), tr);
        TensorRef rowMax = TensorRef.sbuf(1, p, DType.BF16);
        Op expand = core.add(new Instruction.TensorScalar(EngineKind.VECTOR, rowMax, rowMax, AluOp.BYPASS), gmax);
        Op bcast = core.add(new Instruction.MatMul(TensorRef.sbuf(1, p, DType.BF16), TensorRef.sbuf(1, 1, DType.BF16),
            TensorRef.psum(p, 1, DType.FP32), false), expand, ones);
        Op mcp = core.add(new Instruction.TensorCopy(EngineKind.VECTOR, TensorRef.psum(p, 1, DType.FP32), stat), bcast);
        Op exp = core.add(new Instruction.Activation(x, x, ActFunc.EXP, true), mcp);
        return crossSum(p, exp, null);
      }
      TensorRef sq = TensorRef.sbuf(p, seg, dtype);
      if (kind.equals("rmsnorm")) {
        Op square = core.add(new Instruction.Activation(x, sq, ActFunc.SQUARE, true), loaded);
        return crossSum(p, square, war);
      }
      Op sum = core.add(new Instruction.TensorReduce(EngineKind.VECTOR, x, part, AluOp.ADD), loaded);
      Op total = crossSum(p, sum, war);
      Op mean = core.add(new Instruction.TensorScalar(EngineKind.VECTOR, TensorRef.psum(p, 2, DType.FP32), stat, AluOp.MULTIPLY), total);
      Op square = core.add(new Instruction.Activation(x, sq, ActFunc.SQUARE, true), mean);
      return crossSum(p, square, null);
    }

    /** The normalisation of tile n; returns the op its store waits for. */
    Op stageB(int n, int p, Op a, Op prevB) {
      TensorRef x = TensorRef.sbuf(p, seg, dtype);
      TensorRef stat = TensorRef.sbuf(p, 1, DType.FP32);
      TensorRef total = TensorRef.psum(p, 2, DType.FP32); // hi + lo sums
      if (kind.equals("softmax")) {
        Op rcp = core.add(new Instruction.TensorScalar(EngineKind.VECTOR, total, stat, AluOp.DIVIDE), a);
        psumReader[n % 2] = rcp;
        return core.add(new Instruction.TensorScalar(EngineKind.VECTOR, x, x, AluOp.MULTIPLY), rcp);
      }
      Op rstd = core.add(new Instruction.TensorScalar(EngineKind.VECTOR, total, stat, AluOp.MULTIPLY), a);
      psumReader[n % 2] = rstd;
      Op scale = core.add(new Instruction.TensorScalar(EngineKind.VECTOR, x, x, kind.equals("rmsnorm") ? AluOp.MULTIPLY : AluOp.SUBTRACT), rstd);
      Op gamma = core.add(new Instruction.TensorTensor(EngineKind.VECTOR, x, x, x, AluOp.MULTIPLY), scale);
      if (kind.equals("rmsnorm")) {
        return gamma;
      }
      return core.add(new Instruction.TensorTensor(EngineKind.GPSIMD, x, x, x, AluOp.ADD), gamma, prevB);
    }
  }
}
