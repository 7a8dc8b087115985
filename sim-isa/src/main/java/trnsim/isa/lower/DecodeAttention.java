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
 * Decode attention: one new query token per sequence against a KV cache of {@code ctx} tokens. It
 * is memory-bound: every K and V byte is read once, each used by only the {@code h/kv_heads} query
 * heads of its group. Work items are (batch, kv head, chunk of {@value #CHUNK} keys), split over
 * cores in equal contiguous runs (a (batch, kv head) whose chunks land on two cores is split-context
 * "flash decoding"; the final combine of the partial results is small and not emitted).
 *
 * <p>Orientation: keys go on partitions so that no transposes of P are needed. Per chunk:
 * <ol>
 *   <li>DMA K^T [D x chunk] and V [128 keys x pieces x D] into a 3-slot ring;
 *   <li>tensor: S^T [128 keys x r] per 128-key piece = K^T-piece stationary [D x 128] x q^T moving
 *       [D x r] (the cache tile is the stationary operand and the r query heads the moving one:
 *       {@code max(min(64, 128), r)} = 64 cycles per piece instead of 128 the other way round);
 *   <li>softmax max across partitions: vector reduce over the pieces, a tensor transpose of the
 *       [128 x r] partial maxima, vector reduce, running max and (scalar) rescale factor, and a
 *       broadcast back to 128 partitions by a matmul against an identity; vector subtract;
 *       scalar exp to P^T (bf16, SBUF);
 *   <li>tensor: row sums l by a ones-vector matmul; O^T [D x r] += V-piece stationary x P^T-piece
 *       moving (accumulating over the chunk's pieces in PSUM);
 *   <li>gpsimd O *= alpha; vector O += O^T chunk; at the end of a (batch, kv head): normalise, store.
 * </ol>
 * Stages are software-pipelined two chunks deep on the tensor queue (S of chunk i, softmax-side
 * tensor ops of chunk i-1, PV of chunk i-2).
 */
public final class DecodeAttention {
  static final int CHUNK = 2048;
  static final int RING = 3;
  /** K/V chunk slots: loads run up to this many chunks ahead of the PV matmuls that free them. */
  static final int KV_RING = 6;

  private DecodeAttention() {}

  record Item(long b, long g, long chunk, int keys, boolean first, boolean last) {}

  /**
   * Chunk keys, K/V ring slots, keys per piece (the contraction of the PV and row-sum matmuls, so
   * at most the PE rows) and head-dim rows per S^T contraction. Trainium: 2048-key chunks, 6 slots,
   * 128-key pieces. Small-SBUF targets (compact): the K/V tiles are accounted packed over all
   * partitions, 3 slots, and the chunk halves until the ring fits.
   */
  record Tiles(int chunk, int kvRing, int piece, int dk, boolean compact) {
    static Tiles choose(TargetSpec t, AttentionSpec a) {
      int piece = Math.min(t.partitions(), t.peRows());
      int dk = (int) Math.min(a.d(), piece);
      Tiles tr = new Tiles(CHUNK, KV_RING, piece, dk, false);
      if (tr.fits(t, a)) {
        return tr;
      }
      for (int c = CHUNK; c >= piece; c /= 2) {
        Tiles f = new Tiles(c, RING, piece, dk, true);
        if (f.fits(t, a)) {
          return f;
        }
      }
      throw new trnsim.isa.workload.WorkloadException("attention-decode", "attention-decode.d", String.valueOf(a.d()),
          "no K/V chunk ring fits " + t.name() + "'s SBUF (" + t.sbufBytesPerPartition() + " B per partition)");
    }

    long kvBytes(TargetSpec t, AttentionSpec a) {
      DType dt = a.dtype();
      long nd = Kernels.ceilDiv(a.d(), dk);
      return compact ? 2 * Kernels.ceilDiv(dt.bytes(a.d() * chunk), t.partitions())
          : nd * dt.bytes(chunk) + dt.bytes((long) (chunk / piece) * a.d());
    }

    long otherBytes(TargetSpec t, AttentionSpec a) {
      long nd = Kernels.ceilDiv(a.d(), dk);
      long r = a.group();
      return RING * a.dtype().bytes((long) (chunk / piece) * r) + 2L * nd * r * (a.dtype().bytes(1) + 4) + 4L * t.partitions() + 512;
    }

    boolean fits(TargetSpec t, AttentionSpec a) {
      return kvRing * kvBytes(t, a) + otherBytes(t, a) <= t.sbufBytesPerPartition();
    }
  }

  public static Program lower(TargetSpec t, AttentionSpec a, int coresRequested) {
    Kernels.guard("attention-decode", (double) a.b() * a.kvHeads() * Kernels.tiles(a.sKv(), 128) * 12);
    AttentionLowering.checkHeadDim(t, a);
    Tiles tl = Tiles.choose(t, a);
    final int chunkKeys = tl.chunk();
    long chunks = Kernels.ceilDiv(a.sKv(), chunkKeys);
    long total = a.b() * a.kvHeads() * chunks;
    int cores = (int) Math.max(1, Math.min(Math.min(coresRequested, t.cores()), total));
    ProgramBuilder pb = new ProgramBuilder("attention-decode b=" + a.b() + " h=" + a.h() + " ctx=" + a.sKv() + " d=" + a.d()
        + " kv_heads=" + a.kvHeads() + " " + a.dtype().label(), t.dmaQueues());
    int r = (int) a.group();
    if (r > t.peRows()) {
      throw new trnsim.isa.workload.WorkloadException("attention-decode", "attention-decode.h", String.valueOf(a.h()),
          "at most " + t.peRows() + " query heads per kv head (the broadcast of the row maxima contracts over them)");
    }
    for (int c = 0; c < cores; c++) {
      long n = total / cores + (c < total % cores ? 1 : 0);
      long first = c * (total / cores) + Math.min(c, total % cores);
      List<Item> items = new ArrayList<>();
      for (long i = first; i < first + n; i++) {
        long bg = i / chunks;
        long ch = i % chunks;
        int keys = (int) (Math.min(a.sKv(), (ch + 1) * chunkKeys) - ch * chunkKeys);
        items.add(new Item(bg / a.kvHeads(), bg % a.kvHeads(), ch, keys, i == first || ch == 0,
            i == first + n - 1 || ch == chunks - 1));
      }
      emitCore(t, a, tl, pb.core(c), items);
    }
    long flops = 4L * a.b() * a.h() * a.sKv() * a.d();
    long bytes = a.dtype().bytes(2 * a.b() * a.kvHeads() * a.sKv() * a.d() + 2 * a.b() * a.h() * a.d());
    pb.flops(flops).hbmBytesMin(bytes);
    pb.note("decode attention: (batch, kv head, " + chunkKeys + "-key chunk) items over " + cores + " cores; keys on partitions,"
        + " K^T cache piece stationary x " + r + " query heads moving; " + tl.kvRing() + "-slot K/V ring on DMA queues 0-" + (t.dmaQueues() - 2) + ", O stores on the last");
    if (total / cores < chunks && a.b() * a.kvHeads() < cores) {
      pb.note("split-context: a (batch, kv head) spans cores; the cross-core combine is not emitted");
    }
    return pb.build();
  }

  static void emitCore(TargetSpec t, AttentionSpec a, Tiles tl, ProgramBuilder.CoreBuilder core, List<Item> items) {
    // keys per piece: at most the partitions and the PE rows (the PV and row-sum matmuls contract over them)
    int parts = tl.piece();
    final int KV_RING = tl.kvRing();
    int d = (int) a.d();
    int dk = tl.dk();
    int nd = (int) Kernels.ceilDiv(d, dk);
    int r = (int) a.group();
    DType dt = a.dtype();
    int q = t.dmaQueues();
    // loads on all queues but the last; the O stores (which wait for compute) on the last, so they
    // never block a prefetch in an in-order DMA queue
    int loadQ = Math.max(1, q - 1);
    int storeQ = q - 1;
    int maxPieces = tl.chunk() / parts;
    long kvBytes = tl.kvBytes(t, a);
    core.alloc(MemSpace.SBUF, "K^T/V chunk ring", parts, KV_RING * kvBytes);
    core.alloc(MemSpace.SBUF, "P^T ring", parts, RING * dt.bytes((long) maxPieces * r));
    core.alloc(MemSpace.SBUF, "q^T, O^T, statistics", parts, 2L * nd * r * (dt.bytes(1) + 4) + 4L * parts + 512);
    core.alloc(MemSpace.PSUM, "S^T ring, O^T, maxima, sums", parts, Math.min(t.psumBytesPerPartition(),
        6L * t.psumBytesPerPartition() / t.psumBanks()));
    Op[][] slotLoad = new Op[KV_RING][];
    Op[] slotReader = new Op[KV_RING];
    Op[] pReader = new Op[RING];
    Op[] sReader = new Op[RING];
    Op[] qLoad = new Op[0];
    Op[] qReader = new Op[2]; // q^T double-buffered by group parity
    Op oUpd = null;
    // O^T accumulators in SBUF alternate between consecutive (batch, kv head) groups; the per-chunk
    // O^T product in PSUM alternates between two banks.
    Op[] lastStore = new Op[2];
    Op[] oPsReader = new Op[2];
    int[] groupOf = new int[items.size()];
    for (int i = 0, g = -1; i < items.size(); i++) {
      g += items.get(i).first() ? 1 : 0;
      groupOf[i] = g;
    }
    int n = items.size();
    Op[] expOf = new Op[n];
    Op[] alphaOf = new Op[n];
    Op[] qkOf = new Op[n];
    for (int s = 0; s < n + 2; s++) {
      if (s < n) {
        Item it = items.get(s);
        int slot = s % RING;
        int kvSlot = s % KV_RING;
        if (it.first()) {
          // q^T is tiny (r values per partition): one DMA on one queue, not one per queue
          Op war = qReader[groupOf[s] % 2];
          qLoad = new Op[] {core.dma(groupOf[s] % loadQ, new Instruction.DmaCopy(TensorRef.hbm(dk, (long) nd * r, dt),
              TensorRef.sbuf(dk, (long) nd * r, dt)), war)};
        }
        Op[] war = slotReader[kvSlot] == null ? new Op[0] : new Op[] {slotReader[kvSlot]};
        Op[] loads = new Op[0];
        for (int c = 0; c < nd; c++) {
          int kk = Math.min(dk, d - c * dk);
          loads = Kernels.concat(loads, Kernels.spreadDma(core, loadQ, MemSpace.HBM, MemSpace.SBUF, kk, dt.bytes(it.keys()), war));
        }
        int pieces = (int) Kernels.ceilDiv(it.keys(), parts);
        loads = Kernels.concat(loads, Kernels.spreadDma(core, loadQ, MemSpace.HBM, MemSpace.SBUF, Math.min(parts, it.keys()),
            dt.bytes((long) pieces * d), war));
        slotLoad[kvSlot] = loads;
        // stage A: S^T pieces
        Op qk = null;
        for (int pc = 0; pc < pieces; pc++) {
          int kp = Math.min(parts, it.keys() - pc * parts);
          for (int c = 0; c < nd; c++) {
            int kk = Math.min(dk, d - c * dk);
            List<Op> deps = new ArrayList<>();
            AttentionLowering.addAll(deps, loads);
            AttentionLowering.addAll(deps, qLoad);
            if (sReader[slot] != null) {
              deps.add(sReader[slot]);
            }
            qk = core.add(new Instruction.MatMul(TensorRef.sbuf(kk, kp, dt), TensorRef.sbuf(kk, r, dt), TensorRef.psum(kp, r, DType.FP32),
                c > 0), deps.toArray(new Op[0]));
            deps.clear();
          }
          loads = new Op[0];
        }
        qkOf[s] = qk;
        qReader[groupOf[s] % 2] = qk;
      }
      if (s >= 1 && s - 1 < n) {
        // stage B: softmax of chunk s-1
        int i = s - 1;
        Item it = items.get(i);
        int slot = i % RING;
        int pieces = (int) Kernels.ceilDiv(it.keys(), parts);
        int kp = Math.min(parts, it.keys());
        TensorRef sT = TensorRef.psum(kp, (long) pieces * r, DType.FP32);
        TensorRef partial = TensorRef.sbuf(kp, r, DType.FP32);
        Op red = core.add(new Instruction.TensorReduce(EngineKind.VECTOR, sT, partial, AluOp.MAX), qkOf[i]);
        Op tr = core.add(new Instruction.Transpose(EngineKind.TENSOR, partial, TensorRef.psum(r, kp, DType.FP32)), red);
        TensorRef stat = TensorRef.sbuf(r, 1, DType.FP32);
        Op m = core.add(new Instruction.TensorReduce(EngineKind.VECTOR, TensorRef.psum(r, kp, DType.FP32), stat, AluOp.MAX), tr);
        if (!it.first()) {
          m = core.add(new Instruction.TensorTensor(EngineKind.VECTOR, stat, stat, stat, AluOp.MAX), m);
          alphaOf[i] = core.add(new Instruction.Activation(stat, stat, ActFunc.EXP, false), m);
        }
        TensorRef mRow = TensorRef.sbuf(r, parts, DType.FP32);
        Op bcastSrc = core.add(new Instruction.TensorScalar(EngineKind.VECTOR, mRow, mRow, AluOp.BYPASS), m);
        Op bcast = core.add(new Instruction.MatMul(TensorRef.sbuf(r, kp, DType.BF16), TensorRef.sbuf(r, r, DType.BF16),
            TensorRef.psum(kp, r, DType.FP32), false), bcastSrc);
        Op sub = core.add(new Instruction.TensorTensor(EngineKind.VECTOR, sT, TensorRef.psum(kp, r, DType.FP32), sT, AluOp.SUBTRACT), bcast);
        Op exp = core.add(new Instruction.Activation(sT, TensorRef.sbuf(kp, (long) pieces * r, dt), ActFunc.EXP, false),
            sub, pReader[slot]);
        sReader[slot] = exp;
        expOf[i] = exp;
      }
      if (s >= 2) {
        // stage C: sums, PV and the O update of chunk s-2
        int i = s - 2;
        Item it = items.get(i);
        int slot = i % RING;
        int pieces = (int) Kernels.ceilDiv(it.keys(), parts);
        int kpAll = Math.min(parts, it.keys());
        // row sums: ones [keys x 1] stationary against P^T, in moving chunks of at most one PSUM bank
        Op sums = null;
        long sumCols = (long) pieces * r;
        for (long c0 = 0; c0 < sumCols; c0 += t.maxMovingFree()) {
          long w = Math.min(t.maxMovingFree(), sumCols - c0);
          sums = core.add(new Instruction.MatMul(TensorRef.sbuf(kpAll, 1, dt), TensorRef.sbuf(kpAll, w, dt),
              TensorRef.psum(1, w, DType.FP32), false), expOf[i]);
        }
        Op pv = sums;
        for (int pc = 0; pc < pieces; pc++) {
          int kp = Math.min(parts, it.keys() - pc * parts);
          for (int c = 0; c < nd; c++) {
            int kk = Math.min(dk, d - c * dk);
            pv = core.add(new Instruction.MatMul(TensorRef.sbuf(kp, kk, dt), TensorRef.sbuf(kp, r, dt), TensorRef.psum(kk, r, DType.FP32),
                pc > 0), expOf[i], pc == 0 ? oPsReader[i % 2] : null);
          }
        }
        pReader[slot] = pv;
        slotReader[i % KV_RING] = pv;
        TensorRef o = TensorRef.sbuf(dk, (long) nd * r, DType.FP32);
        TensorRef oPs = TensorRef.psum(dk, (long) nd * r, DType.FP32);
        Op lr = core.add(new Instruction.TensorReduce(EngineKind.VECTOR, TensorRef.psum(1, (long) pieces * r, DType.FP32),
            TensorRef.sbuf(1, r, DType.FP32), AluOp.ADD), sums);
        if (it.first()) {
          oUpd = core.add(new Instruction.TensorCopy(EngineKind.VECTOR, oPs, o), pv, lastStore[groupOf[i] % 2]);
        } else {
          Op sc = core.add(new Instruction.TensorTensor(EngineKind.GPSIMD, o, o, o, AluOp.MULTIPLY), alphaOf[i], oUpd);
          oUpd = core.add(new Instruction.TensorTensor(EngineKind.VECTOR, oPs, o, o, AluOp.ADD), pv, sc, lr);
        }
        oPsReader[i % 2] = oUpd;
        if (it.last()) {
          Op rcp = core.add(new Instruction.TensorScalar(EngineKind.VECTOR, TensorRef.sbuf(1, r, DType.FP32),
              TensorRef.sbuf(1, r, DType.FP32), AluOp.DIVIDE), lr);
          Op norm = core.add(new Instruction.TensorTensor(EngineKind.VECTOR, o, o, TensorRef.sbuf(dk, (long) nd * r, dt),
              AluOp.MULTIPLY), oUpd, rcp);
          lastStore[groupOf[i] % 2] = core.dma(storeQ, new Instruction.DmaCopy(TensorRef.sbuf(dk, (long) nd * r, dt),
              TensorRef.hbm(dk, (long) nd * r, dt)), norm);
        }
      }
    }
  }
}
