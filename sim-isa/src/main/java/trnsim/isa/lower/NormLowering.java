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
import trnsim.isa.workload.WorkloadException;

/**
 * Row-wise kernels over a {@code [rows x cols]} tensor: softmax, RMSNorm and LayerNorm. Rows go on
 * partitions: every tile is {@code [128 x cols]} (a whole row per partition, so the reductions are
 * free-dimension reductions and never cross partitions). Row tiles are split evenly over the cores
 * and streamed through an SBUF ring: the loads of the next tiles are issued before the store of the
 * current one, and loads and stores use disjoint halves of the DMA queues so a store waiting for
 * compute never blocks a later load (DMA queues are in order).
 *
 * <p>Per tile:
 * <ul>
 *   <li>softmax: vector {@code tensor_reduce max}; scalar {@code activation_reduce exp(x - max)} (sum
 *       in the same instruction); vector reciprocal of the sum ([128 x 1]); vector
 *       {@code tensor_scalar multiply}.
 *   <li>rmsnorm: scalar {@code activation_reduce square} (sum of squares); vector rsqrt of the mean
 *       ([128 x 1]); vector {@code tensor_scalar multiply} by it; vector {@code tensor_tensor} by the
 *       weight row (loaded once per core, broadcast to all partitions).
 *   <li>layernorm: a mean pass first (vector {@code tensor_reduce add}); the variance as scalar
 *       {@code activation_reduce square(x - mean)}; vector {@code tensor_scalar} (x - mean) * rstd;
 *       vector {@code tensor_tensor} by gamma; gpsimd {@code tensor_tensor} add beta (gpsimd takes
 *       the last op so the vector engine is not the bottleneck).
 * </ul>
 * When a row does not fit one partition (small-SBUF targets such as the H100 template), rows are
 * split over several partitions instead ({@link SplitRows}): the same element operations plus a
 * cross-partition reduction.
 *
 * <p>Simplified: {@code bn_stats}/{@code bn_aggr} are not in the instruction set, so LayerNorm uses a
 * two-pass mean/variance; fused multi-op {@code tensor_scalar} forms are one instruction each.
 */
public final class NormLowering {
  /** Bytes per partition each DMA should move at least (past the DMA size-curve knee). */
  static final long MIN_DMA_BYTES_PP = 8192;
  /** Tile slots (at most): loads run ring - 1 tiles ahead, so several tiles' dependent op chains overlap. */
  static final int RING = 6;

  private NormLowering() {}

  /** {@code kind} is softmax, rmsnorm or layernorm. */
  public static Program lower(TargetSpec t, String kind, long rows, long cols, DType dtype, int coresRequested) {
    Kernels.guard(kind, Kernels.tiles(rows, 128) * (8 + 2.0 * t.dmaQueues()) * Math.max(1, Kernels.tiles(cols, 65536)));
    int parts = t.partitions();
    long rowBytes = dtype.bytes(cols);
    // SBUF per partition: RING tiles of k rows each (in place), the fp32 scratch of one row for the
    // squares (norms), weight rows, a few [128 x 1] statistics.
    long weights = kind.equals("softmax") ? 0 : (kind.equals("layernorm") ? 2 : 1) * rowBytes;
    long scratch = kind.equals("softmax") ? 0 : rowBytes;
    long budget = (long) (t.sbufBytesPerPartition() * 0.9) - weights - scratch - 256;
    if (2 * rowBytes > budget) {
      int split = rowSplit(t, kind, cols, dtype);
      if (split == 0) {
        throw new WorkloadException(kind, kind + ".cols", String.valueOf(cols), "a row of " + rowBytes + " B does not fit SBUF "
            + "twice even split over all " + parts + " partitions (" + t.sbufBytesPerPartition() + " B per partition)");
      }
      return SplitRows.lower(t, kind, rows, cols, dtype, coresRequested, split);
    }
    int ring = (int) Math.min(RING, budget / rowBytes);
    long rowsPerTile = parts; // rows in one tile; k rows per partition when rows are short
    long k = Math.max(1, Math.min(Kernels.ceilDiv(MIN_DMA_BYTES_PP, rowBytes), budget / (ring * rowBytes)));
    k = Math.max(1, Math.min(k, Kernels.ceilDiv(rows, parts)));
    long tileRows = rowsPerTile * k;
    long tiles = Kernels.ceilDiv(rows, tileRows);
    int cores = (int) Math.max(1, Math.min(Math.min(coresRequested, t.cores()), tiles));
    ProgramBuilder pb = new ProgramBuilder(kind + " rows=" + rows + " cols=" + cols + " " + dtype.label(), t.dmaQueues());
    int q = t.dmaQueues();
    int splitLoadQ = Math.max(1, q / 2);
    for (int c = 0; c < cores; c++) {
      var core = pb.core(c);
      long myTiles = tiles / cores + (c < tiles % cores ? 1 : 0);
      long first = c * (tiles / cores) + Math.min(c, tiles % cores);
      // When every load of this core fits the ring's prologue, all loads are queued before any
      // store, so loads and stores can share all queues; otherwise split them (a store waiting for
      // compute would block later loads in an in-order queue).
      boolean allAhead = myTiles <= ring - 1;
      int loadQ = allAhead ? q : splitLoadQ;
      int storeQ0 = allAhead || q == 1 ? 0 : splitLoadQ;
      int storeQ = allAhead ? q : Math.max(1, q - splitLoadQ);
      core.alloc(MemSpace.SBUF, kind + " ring", parts, ring * k * rowBytes);
      if (scratch > 0) {
        core.alloc(MemSpace.SBUF, "squares", parts, scratch);
      }
      core.alloc(MemSpace.SBUF, "row stats", parts, 64);
      Op[] weightLoads = new Op[0];
      if (weights > 0) {
        // only the partitions this core's tiles use need the broadcast weights
        int used = (int) Math.min(parts, Kernels.ceilDiv(Math.min(rows - first * tileRows, myTiles * tileRows), k));
        core.alloc(MemSpace.SBUF, "weights", used, weights);
        // The weight row(s) broadcast to every partition: one DMA reading the row per partition.
        weightLoads = spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, used, weights);
      }
      List<Op[]> loads = new ArrayList<>();
      List<Op[]> stores = new ArrayList<>();
      List<long[]> shape = new ArrayList<>();
      for (long i = 0; i < myTiles; i++) {
        long r0 = (first + i) * tileRows;
        long n = Math.min(tileRows, rows - r0);
        long kk = Kernels.ceilDiv(n, parts);
        int p = (int) Math.min(parts, Kernels.ceilDiv(n, kk));
        shape.add(new long[] {p, kk});
      }
      int lookahead = ring - 1;
      for (long i = 0; i < Math.min(lookahead, myTiles); i++) {
        long[] s = shape.get((int) i);
        loads.add(spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, (int) s[0], s[1] * rowBytes));
      }
      // Row tasks in order; stage A (up to the scalar op) of task n is emitted before stage B of
      // task n-1, so the in-order vector queue never waits for the scalar op of the row it is on.
      List<long[]> tasks = new ArrayList<>();
      for (long i = 0; i < myTiles; i++) {
        for (long r = 0; r < shape.get((int) i)[1]; r++) {
          tasks.add(new long[] {i, r});
        }
      }
      Op[] stageA = new Op[tasks.size()];
      Op[] stageB = new Op[tasks.size()];
      for (int n = 0; n <= tasks.size(); n++) {
        if (n < tasks.size()) {
          long i = tasks.get(n)[0];
          int p = (int) shape.get((int) i)[0];
          Op[] deps = tasks.get(n)[1] == 0 ? Kernels.concat(loads.get((int) i), weightLoads) : new Op[0];
          stageA[n] = emitA(core, kind, p, cols, dtype, deps);
        }
        if (n >= 1) {
          int m = n - 1;
          long i = tasks.get(m)[0];
          long[] s = shape.get((int) i);
          stageB[m] = emitB(core, kind, (int) s[0], cols, dtype, stageA[m], m >= 1 ? stageB[m - 1] : null);
          if (tasks.get(m)[1] == s[1] - 1) {
            stores.add(spread(core, storeQ0, storeQ, MemSpace.SBUF, MemSpace.HBM, (int) s[0], s[1] * rowBytes, stageB[m]));
            long nextLoad = i + lookahead;
            if (nextLoad < myTiles) {
              long[] ns = shape.get((int) nextLoad);
              // The slot of tile i + ring - 1 last held tile i - 1: wait for its store.
              Op[] war = i >= 1 ? stores.get((int) (i - 1)) : new Op[0];
              loads.add(spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, (int) ns[0], ns[1] * rowBytes, war));
            }
          }
        }
      }
    }
    long data = dtype.bytes(rows * cols);
    pb.flops(0).hbmBytesMin(2 * data + weights);
    pb.note(kind + ": rows on partitions, [" + parts + " x " + k + " rows x " + cols + "] per DMA tile, " + ring
        + "-slot SBUF ring, loads on DMA queues 0-" + (splitLoadQ - 1) + ", stores on " + splitLoadQ + "-" + (q - 1)
        + " (all queues for both when a core's tiles all fit the ring)"
        + ", " + tiles + " tiles over " + cores + " cores");
    return pb.build();
  }

  /** Whether a row is too long for SBUF even split over every partition ({@link #lower} would reject it). */
  static boolean needsChunks(TargetSpec t, String kind, long cols, DType dtype) {
    long rowBytes = dtype.bytes(cols);
    long budget = (long) (t.sbufBytesPerPartition() * 0.9) - (kind.equals("softmax") ? 0 : (kind.equals("layernorm") ? 3 : 2) * rowBytes) - 256;
    return 2 * rowBytes > budget && rowSplit(t, kind, cols, dtype) == 0;
  }

  /**
   * A row kernel whose rows do not fit SBUF even split over all partitions (softmax over a 128 K vocabulary on the
   * GPU templates), as two passes over HBM: the row kernel on {@code chunks} column chunks per row that fit (each
   * chunk normalised by its own statistics, which are kept), then an element-wise pass that rescales every chunk
   * by its row's combined statistics (softmax: exp(m_chunk - m_row) / sum; norms: the row's rstd over the chunk's).
   * Simplified: the combine of the per-chunk statistics ({@code rows x chunks} scalars) is not charged, and the
   * data moves twice (read + write per pass, 4x the tensor) where an online two-pass kernel moves it 3x.
   */
  static List<Step> chunkedRows(TargetSpec t, String kind, long rows, long cols, DType dtype, int cores) {
    // chunks of whole rows per partition with a ring of at least 3 slots next to the weight and scratch rows
    long extraRows = kind.equals("softmax") ? 0 : (kind.equals("layernorm") ? 3 : 2);
    long chunks = 2;
    while (chunks < cols && (3 + extraRows) * dtype.bytes(Kernels.ceilDiv(cols, chunks)) > t.sbufBytesPerPartition() * 0.9 - 256) {
      chunks *= 2;
    }
    long chunkCols = Kernels.ceilDiv(cols, chunks);
    Program pass1 = lower(t, kind, rows * chunks, chunkCols, dtype, cores);
    Program pass2 = StreamLowering.elementwise(t, "bias", rows * chunks * chunkCols, dtype, cores);
    List<String> notes = new ArrayList<>(pass1.notes());
    notes.add(0, kind + ": a row of " + dtype.bytes(cols) + " B does not fit SBUF even split over all " + t.partitions()
        + " partitions; two passes: the row kernel on " + chunks + " chunks of " + chunkCols + " columns per row, then a"
        + " rescale of every chunk by its row's combined statistics (their combine is not charged)");
    pass1 = new Program(pass1.name(), pass1.cores(), notes, pass1.flops(), pass1.hbmBytesMin());
    return List.of(new Step(kind + "_chunks", pass1, 1, dtype), new Step(kind + "_rescale", pass2, 1, dtype));
  }

  /** Bytes per partition of the weight rows (gamma, beta) a kind needs next to its data. */
  static long weightBytes(String kind, long rowBytes) {
    return kind.equals("softmax") ? 0 : (kind.equals("layernorm") ? 2 : 1) * rowBytes;
  }

  /**
   * How many partitions one row is split over: 1 when a whole row (with its weights and scratch)
   * fits one partition twice, else the smallest divisor of the partition count for which a row
   * segment fits a ring of at least {@value SplitRows#MIN_RING} slots (2 at the full split); 0 when
   * even a split over every partition does not fit.
   */
  static int rowSplit(TargetSpec t, String kind, long cols, DType dtype) {
    int parts = t.partitions();
    for (int sp = 1; sp <= parts; sp++) {
      if (parts % sp != 0) {
        continue;
      }
      long segBytes = dtype.bytes(Kernels.ceilDiv(cols, sp));
      long budget = SplitRows.budget(t, kind, segBytes, sp);
      int need = sp == 1 || sp == parts ? 2 : SplitRows.MIN_RING;
      if (need * segBytes <= budget) {
        return sp;
      }
    }
    return 0;
  }

  /** Stage A of one [p x cols] row block: the first reduction(s), ending with the scalar-engine pass. */
  private static Op emitA(ProgramBuilder.CoreBuilder core, String kind, int p, long cols, DType dtype, Op[] loaded) {
    TensorRef x = TensorRef.sbuf(p, cols, dtype);
    TensorRef stat = TensorRef.sbuf(p, 1, DType.FP32);
    if (kind.equals("softmax")) {
      Op max = core.add(new Instruction.TensorReduce(EngineKind.VECTOR, x, stat, AluOp.MAX), loaded);
      return core.add(new Instruction.Activation(x, x, ActFunc.EXP, true), max);
    }
    TensorRef sq = TensorRef.sbuf(p, cols, dtype);
    if (kind.equals("rmsnorm")) {
      return core.add(new Instruction.Activation(x, sq, ActFunc.SQUARE, true), loaded);
    }
    Op mean = core.add(new Instruction.TensorReduce(EngineKind.VECTOR, x, stat, AluOp.ADD), loaded);
    return core.add(new Instruction.Activation(x, sq, ActFunc.SQUARE, true), mean);
  }

  /** Stage B: the normalisation; returns the last op (what the store waits for). */
  private static Op emitB(ProgramBuilder.CoreBuilder core, String kind, int p, long cols, DType dtype, Op a, Op prevB) {
    TensorRef x = TensorRef.sbuf(p, cols, dtype);
    TensorRef stat = TensorRef.sbuf(p, 1, DType.FP32);
    if (kind.equals("softmax")) {
      Op rcp = core.add(new Instruction.TensorScalar(EngineKind.VECTOR, stat, stat, AluOp.DIVIDE), a);
      return core.add(new Instruction.TensorScalar(EngineKind.VECTOR, x, x, AluOp.MULTIPLY), rcp);
    }
    Op rstd = core.add(new Instruction.TensorScalar(EngineKind.VECTOR, stat, stat, AluOp.MULTIPLY), a);
    Op scale = core.add(new Instruction.TensorScalar(EngineKind.VECTOR, x, x, kind.equals("rmsnorm") ? AluOp.MULTIPLY : AluOp.SUBTRACT), rstd);
    Op gamma = core.add(new Instruction.TensorTensor(EngineKind.VECTOR, x, x, x, AluOp.MULTIPLY), scale);
    if (kind.equals("rmsnorm")) {
      return gamma;
    }
    return core.add(new Instruction.TensorTensor(EngineKind.GPSIMD, x, x, x, AluOp.ADD), gamma, prevB);
  }

  /** Like {@link Kernels#spreadDma} but over queues {@code q0 .. q0 + nq - 1} only. */
  static Op[] spread(ProgramBuilder.CoreBuilder core, int q0, int nq, MemSpace from, MemSpace to, int partitions,
      long bytesPerPartition, Op... deps) {
    int queues = Math.min(nq, partitions);
    Op[] ops = new Op[queues];
    int base = partitions / queues;
    int extra = partitions % queues;
    for (int i = 0; i < queues; i++) {
      int p = base + (i < extra ? 1 : 0);
      ops[i] = core.dma(q0 + i, new Instruction.DmaCopy(new TensorRef(from, p, bytesPerPartition, DType.INT8),
          new TensorRef(to, p, bytesPerPartition, DType.INT8)), deps);
    }
    return ops;
  }
}
