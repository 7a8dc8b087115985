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
import trnsim.isa.ProgramChain;
import trnsim.isa.TensorRef;
import trnsim.isa.target.TargetSpec;

/**
 * Decode attention as a compiled (XLA) token-generation graph computes it on one rank: one new query
 * per sequence against the whole compiled KV buffer of {@code span} positions (positions past the
 * live context are masked, not skipped: the graph has static shapes). Three kernels, each a full
 * synchronisation point, in the order Transformers-NeuronX writes the graph ({@code attention.score},
 * {@code mask}, {@code context}); the scores and probabilities stay in SBUF between them (one
 * {@code [rows x span]} fp32 block per partition row, 32 KiB at 8192 positions):
 * <ol>
 *   <li>{@link #scores}: per (sequence, kv head) {@code S[r x span] = q[r x D] K^T[D x span]}: the
 *       r query heads' {@code q^T} is the stationary operand and {@code K^T} streams as the moving one
 *       in 512-key pieces (one DMA per 2048 keys, the cache read transposed by the DMA); the pieces of
 *       all (sequence, kv head) pairs land on their own PSUM partitions, so each 512-key block is
 *       evacuated once for all {@code rows = batch x query heads} rows.
 *   <li>{@link #softmax}: on the {@code [rows x span]} fp32 scores (rows on partitions, positions on
 *       the free axis), chunk by chunk: sweep 1 = mask select, running max; sweep 2 = subtract the
 *       max, exp (scalar engine), mask select of the probabilities, running sum, cast to the compute
 *       type. Every element-wise and reduce op is one vector-engine instruction (no cross-op fusion),
 *       the exp one scalar-engine instruction. Its cost grows with {@code span} but not with the batch
 *       while {@code rows <= 128}.
 *   <li>{@link #values}: {@code P^T} by tensor-engine transposes of 128-position pieces of all rows at
 *       once; per (sequence, kv head) {@code O^T[D x r] += V[128 x D]^T P^T[128 x r]} over the span (V
 *       streamed in 2048-key DMAs, keys on partitions); normalised by the row sums and stored.
 * </ol>
 */
public final class CompiledDecodeAttention {
  static final int KEY_DMA = 2048;
  static final int SOFTMAX_CHUNK = 2048;
  static final int RING = 3;

  private CompiledDecodeAttention() {}

  /**
   * One rank's shape: {@code batch} sequences, {@code qHeads} query heads over {@code kvHeads} kv
   * heads of width {@code d}, against a KV buffer of {@code span} positions.
   */
  public record Shape(long batch, long qHeads, long kvHeads, long d, long span, DType dtype) {
    public long rows() {
      return batch * qHeads;
    }

    public long group() {
      return qHeads / kvHeads;
    }

    /** K or V bytes of the span for all sequences and kv heads. */
    public long kvBytes() {
      return dtype.bytes(batch * kvHeads * span * d);
    }
  }

  public static Program scores(TargetSpec t, Shape a) {
    return scores(t, a, new ProgramChain.Independent());
  }

  /** As above; the K-cache loads (they need nothing from earlier kernels) are recorded in {@code independent}. */
  public static Program scores(TargetSpec t, Shape a, ProgramChain.Independent independent) {
    check(t, a);
    ProgramBuilder pb = new ProgramBuilder("attention scores (compiled graph) b=" + a.batch() + " heads=" + a.qHeads() + "/" + a.kvHeads()
        + " span=" + a.span() + " d=" + a.d(), t.dmaQueues());
    var c = pb.core(0);
    int d = (int) a.d();
    int r = (int) a.group();
    int rows = (int) Math.min(t.partitions(), a.rows());
    long rowTiles = Kernels.ceilDiv(a.rows(), t.partitions());
    int pieceKeys = t.maxMovingFree();
    c.alloc(MemSpace.SBUF, "q^T", d, a.dtype().bytes(a.rows()));
    long pairs = a.batch() * a.kvHeads();
    // K^T slots for every (sequence, kv head) pair of two 2048-key chunks: the next chunk loads while this one computes
    int ring = (int) Math.min(2 * pairs + 1, Math.max(RING, t.sbufBytesPerPartition() / 2 / a.dtype().bytes(KEY_DMA)));
    c.alloc(MemSpace.SBUF, "K^T ring", d, ring * a.dtype().bytes(KEY_DMA));
    c.alloc(MemSpace.SBUF, "scores", rows, rowTiles * 4 * a.span());
    c.alloc(MemSpace.PSUM, "score blocks", rows, t.psumBytesPerPartition());
    int loadQ = t.dmaQueues(); // loads only: the scores stay on chip
    Op[] q = Kernels.spreadDma(c, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, d, a.dtype().bytes(a.rows()));
    Op[] ringReader = new Op[ring];
    Op[] bankEvac = new Op[t.psumBanks()];
    int slot = 0;
    int bank = 0;
    int evacs = 0;
    for (long k0 = 0; k0 < a.span(); k0 += KEY_DMA) {
      int keys = (int) Math.min(KEY_DMA, a.span() - k0);
      // every (sequence, kv head) pair's K^T block of these keys, then one evacuation per 512-key piece
      Op[][] loads = new Op[(int) pairs][];
      int[] slots = new int[(int) pairs];
      for (int pr = 0; pr < pairs; pr++) {
        slots[pr] = slot;
        Op war = ringReader[slot];
        if (war == null) {
          loads[pr] = Kernels.spreadDma(c, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, d, a.dtype().bytes(keys));
          independent.add(0, loads[pr]);
        } else {
          loads[pr] = Kernels.spreadDma(c, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, d, a.dtype().bytes(keys), war);
        }
        slot = (slot + 1) % ring;
      }
      for (int p0 = 0; p0 < keys; p0 += pieceKeys) {
        int pk = Math.min(pieceKeys, keys - p0);
        List<Op> mms = new ArrayList<>();
        for (int pr = 0; pr < pairs; pr++) {
          Op[] deps = Kernels.concat(p0 == 0 ? loads[pr] : new Op[0], q);
          if (bankEvac[bank] != null) {
            deps = Kernels.concat(deps, bankEvac[bank]);
          }
          Op mm = c.add(new Instruction.MatMul(TensorRef.sbuf(d, r, a.dtype()), TensorRef.sbuf(d, pk, a.dtype()),
              TensorRef.psum(r, pk, DType.FP32), false), deps);
          mms.add(mm);
          ringReader[slots[pr]] = mm;
        }
        for (long rt = 0; rt < rowTiles; rt++) {
          int rr = (int) Math.min(t.partitions(), a.rows() - rt * t.partitions());
          // evacuations alternate between the vector and scalar engines
          TensorRef ps = TensorRef.psum(rr, pk, DType.FP32);
          TensorRef sb = TensorRef.sbuf(rr, pk, DType.FP32);
          bankEvac[bank] = (evacs++ & 1) == 0 ? c.add(new Instruction.TensorCopy(EngineKind.VECTOR, ps, sb), mms.toArray(new Op[0]))
              : c.add(new Instruction.Activation(ps, sb, ActFunc.IDENTITY, false), mms.toArray(new Op[0]));
        }
        bank = (bank + 1) % t.psumBanks();
      }
    }
    // the scores stay in SBUF for the softmax (the graph keeps the [rows x span] block on chip)
    pb.flops(2 * a.rows() * a.span() * a.d()).hbmBytesMin(a.kvBytes());
    pb.note("scores over the compiled KV buffer of " + a.span() + " positions (masked past the live context, not skipped)");
    return pb.build();
  }

  public static Program softmax(TargetSpec t, Shape a) {
    return softmax(t, a, new ProgramChain.Independent());
  }

  /** As above; the mask loads are recorded in {@code independent}. */
  public static Program softmax(TargetSpec t, Shape a, ProgramChain.Independent independent) {
    check(t, a);
    ProgramBuilder pb = new ProgramBuilder("attention softmax (compiled graph) rows=" + a.rows() + " span=" + a.span(), t.dmaQueues());
    var c = pb.core(0);
    long rowTiles = Kernels.ceilDiv(a.rows(), t.partitions());
    int loadQ = t.dmaQueues();
    long chunks = Kernels.ceilDiv(a.span(), SOFTMAX_CHUNK);
    c.alloc(MemSpace.SBUF, "scores and probabilities", t.partitions(), 4 * a.span() + a.dtype().bytes(a.span()));
    c.alloc(MemSpace.SBUF, "mask chunk ring, statistics", t.partitions(), softmaxBytes(t, a) - 4 * a.span() - a.dtype().bytes(a.span()));
    for (long rt = 0; rt < rowTiles; rt++) {
      int rows = (int) Math.min(t.partitions(), a.rows() - rt * t.partitions());
      Op[] mask = new Op[(int) chunks];
      Op last = null;
      List<Op> maxes = new ArrayList<>();
      for (long ch = 0; ch < chunks; ch++) {
        long w = Math.min(SOFTMAX_CHUNK, a.span() - ch * SOFTMAX_CHUNK);
        // the [1 x positions] mask row, broadcast over the rows
        mask[(int) ch] = c.dma((int) (ch % loadQ), new Instruction.DmaCopy(TensorRef.hbm(1, w, a.dtype()), TensorRef.sbuf(1, w, a.dtype())));
        independent.add(0, mask[(int) ch]);
        TensorRef s = TensorRef.sbuf(rows, w, DType.FP32);
        Op sel = c.add(new Instruction.TensorTensor(EngineKind.VECTOR, s, s, s, AluOp.BYPASS), mask[(int) ch]);
        last = c.add(new Instruction.TensorReduce(EngineKind.VECTOR, s, TensorRef.sbuf(rows, 1, DType.FP32), AluOp.MAX), sel);
        maxes.add(last);
      }
      Op max = c.add(new Instruction.TensorReduce(EngineKind.VECTOR, TensorRef.sbuf(rows, chunks, DType.FP32),
          TensorRef.sbuf(rows, 1, DType.FP32), AluOp.MAX), last);
      Op cast = null;
      List<Op> casts = new ArrayList<>();
      for (long ch = 0; ch < chunks; ch++) {
        long w = Math.min(SOFTMAX_CHUNK, a.span() - ch * SOFTMAX_CHUNK);
        TensorRef s = TensorRef.sbuf(rows, w, DType.FP32);
        Op sub = c.add(new Instruction.TensorScalar(EngineKind.VECTOR, s, s, AluOp.SUBTRACT), max);
        Op exp = c.add(new Instruction.Activation(s, s, ActFunc.EXP, false), sub);
        Op sel = c.add(new Instruction.TensorTensor(EngineKind.VECTOR, s, s, s, AluOp.BYPASS), exp);
        Op sum = c.add(new Instruction.TensorReduce(EngineKind.VECTOR, s, TensorRef.sbuf(rows, 1, DType.FP32), AluOp.ADD), sel);
        cast = c.add(new Instruction.TensorCopy(EngineKind.VECTOR, s, TensorRef.sbuf(rows, w, a.dtype())), sum);
        casts.add(cast);
      }
      Op denom = c.add(new Instruction.TensorReduce(EngineKind.VECTOR, TensorRef.sbuf(rows, chunks, DType.FP32),
          TensorRef.sbuf(rows, 1, DType.FP32), AluOp.ADD), cast);
      // the probabilities and sums stay in SBUF for the values kernel
      c.add(new Instruction.TensorCopy(EngineKind.VECTOR, TensorRef.sbuf(rows, 1, DType.FP32), TensorRef.sbuf(rows, 1, DType.FP32)), denom);
    }
    pb.flops(0).hbmBytesMin(a.dtype().bytes(a.span()));
    pb.note("softmax over [" + a.rows() + " rows x " + a.span() + "] in " + chunks + " chunks: mask, max | subtract, exp, mask, sum, cast"
        + " (one instruction each, rows on partitions)");
    return pb.build();
  }

  public static Program values(TargetSpec t, Shape a) {
    return values(t, a, new ProgramChain.Independent());
  }

  /** As above; the V-cache loads are recorded in {@code independent}. */
  public static Program values(TargetSpec t, Shape a, ProgramChain.Independent independent) {
    check(t, a);
    ProgramBuilder pb = new ProgramBuilder("attention values (compiled graph) b=" + a.batch() + " heads=" + a.qHeads() + "/" + a.kvHeads()
        + " span=" + a.span() + " d=" + a.d(), t.dmaQueues());
    var c = pb.core(0);
    int parts = t.partitions();
    int d = (int) a.d();
    int r = (int) a.group();
    int rows = (int) Math.min(parts, a.rows());
    long rowTiles = Kernels.ceilDiv(a.rows(), parts);
    int loadQ = InferenceLowering.loadShare(t.dmaQueues(), a.kvBytes(), a.dtype().bytes(a.rows() * d));
    int storeQ = t.dmaQueues() - loadQ;
    long pieces = Kernels.ceilDiv(a.span(), parts);
    long pairs = a.batch() * a.kvHeads();
    int ring = vSlots(t, a);
    c.alloc(MemSpace.SBUF, "P", rows, rowTiles * a.dtype().bytes(a.span()));
    c.alloc(MemSpace.SBUF, "P^T pieces", parts, a.dtype().bytes(pieces * a.rows()));
    c.alloc(MemSpace.SBUF, "V buffer (" + ring + " slots of " + KEY_DMA + " keys)", parts, ring * vSlotBytes(t, a));
    c.alloc(MemSpace.SBUF, "O^T", d, 4 * a.rows());
    c.alloc(MemSpace.PSUM, "P^T, O^T", parts, t.psumBytesPerPartition());
    Op[] pLoad = new Op[0]; // P is in SBUF (left there by the softmax)
    // P^T: one transpose per 128-position piece (all rows at once), four pieces per PSUM bank, one copy per bank
    int perBank = (int) Math.max(1, Math.min(4, t.psumBankFp32Elements() / Math.max(1, a.rows())));
    List<Op> pT = new ArrayList<>();
    Op[] bankCopy = new Op[t.psumBanks() / 2];
    int bank = 0;
    for (long p0 = 0; p0 < pieces; p0 += perBank) {
      int n = (int) Math.min(perBank, pieces - p0);
      Op tr = null;
      for (int i = 0; i < n; i++) {
        for (long rt = 0; rt < rowTiles; rt++) {
          int rr = (int) Math.min(parts, a.rows() - rt * parts);
          Op[] deps = bankCopy[bank] == null ? pLoad : Kernels.concat(pLoad, bankCopy[bank]);
          tr = c.add(new Instruction.Transpose(EngineKind.TENSOR, TensorRef.sbuf(rr, parts, a.dtype()),
              TensorRef.psum(parts, rr, DType.FP32)), deps);
        }
      }
      bankCopy[bank] = c.add(new Instruction.TensorCopy(EngineKind.VECTOR, TensorRef.psum(parts, (long) n * a.rows(), DType.FP32),
          TensorRef.sbuf(parts, (long) n * a.rows(), a.dtype())), tr);
      pT.add(bankCopy[bank]);
      bank = (bank + 1) % bankCopy.length;
    }
    Op[] ringReader = new Op[ring];
    int slot = 0;
    List<Op> outs = new ArrayList<>();
    for (int pr = 0; pr < pairs; pr++) {
      Op pv = null;
      for (long k0 = 0; k0 < a.span(); k0 += KEY_DMA) {
        int keys = (int) Math.min(KEY_DMA, a.span() - k0);
        long np = Kernels.ceilDiv(keys, parts);
        Op war = ringReader[slot];
        Op[] v;
        if (war == null) {
          v = Kernels.spreadDma(c, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, Math.min(parts, keys), a.dtype().bytes(np * d));
          independent.add(0, v);
        } else {
          v = Kernels.spreadDma(c, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, Math.min(parts, keys), a.dtype().bytes(np * d), war);
        }
        for (long pc = 0; pc < np; pc++) {
          int kp = (int) Math.min(parts, keys - pc * parts);
          long piece = (k0 / parts) + pc;
          Op pReady = pT.get((int) Math.min(pT.size() - 1, piece / perBank));
          pv = c.add(new Instruction.MatMul(TensorRef.sbuf(kp, d, a.dtype()), TensorRef.sbuf(kp, r, a.dtype()),
              TensorRef.psum(d, r, DType.FP32), k0 > 0 || pc > 0), Kernels.concat(pc == 0 ? v : new Op[0], pReady));
        }
        ringReader[slot] = pv;
        slot = (slot + 1) % ring;
      }
      // normalise by the row sums while evacuating
      outs.add(c.add(new Instruction.TensorTensor(EngineKind.VECTOR, TensorRef.psum(d, r, DType.FP32), TensorRef.sbuf(d, r, DType.FP32),
          TensorRef.sbuf(d, r, a.dtype()), AluOp.MULTIPLY), pv));
    }
    Kernels.spreadDma(c, loadQ, storeQ, MemSpace.SBUF, MemSpace.HBM, d, a.dtype().bytes(a.rows()), outs.toArray(new Op[0]));
    pb.flops(2 * a.rows() * a.span() * a.d()).hbmBytesMin(a.kvBytes());
    pb.note("P^T by " + pieces * rowTiles + " tensor-engine transposes; V streamed in " + KEY_DMA + "-key DMAs per (sequence, kv head)");
    return pb.build();
  }

  /** SBUF bytes per partition of one V slot: {@value #KEY_DMA} keys of one (sequence, kv head), keys on partitions. */
  static long vSlotBytes(TargetSpec t, Shape a) {
    return a.dtype().bytes((long) KEY_DMA / t.partitions() * a.d());
  }

  /** SBUF bytes per partition the softmax kernel holds: the fp32 scores and the probabilities, the mask ring and statistics. */
  static long softmaxBytes(TargetSpec t, Shape a) {
    long chunks = Kernels.ceilDiv(a.span(), SOFTMAX_CHUNK);
    return 4 * a.span() + a.dtype().bytes(a.span()) + RING * a.dtype().bytes(SOFTMAX_CHUNK) + 64 * chunks;
  }

  /**
   * V slots of the values kernel. The V cache is an input of the graph (its loads wait for nothing), so a
   * graph compiler issues them as early as SBUF allows: the V buffer takes what a partition has left beside
   * the softmax (the kernel the loads overlap in a chained graph) and the values kernel's own P, P^T and
   * O^T, up to the whole span of every (sequence, kv head), and at least {@value #RING} slots. V then
   * streams in while the softmax computes, instead of after it.
   */
  static int vSlots(TargetSpec t, Shape a) {
    int parts = t.partitions();
    long rowTiles = Kernels.ceilDiv(a.rows(), parts);
    long pieces = Kernels.ceilDiv(a.span(), parts);
    long own = rowTiles * a.dtype().bytes(a.span()) + a.dtype().bytes(pieces * a.rows()) + 4 * a.rows();
    long free = t.sbufBytesPerPartition() - softmaxBytes(t, a) - own;
    long loads = a.batch() * a.kvHeads() * Kernels.ceilDiv(a.span(), KEY_DMA);
    return (int) Math.max(RING, Math.min(loads, free / vSlotBytes(t, a)));
  }

  /**
   * The longest span whose fp32 score block, bf16 probabilities and their transposes stay in SBUF for
   * {@code rows} rows next to the K/V rings (half of a partition, in 2048-position steps): longer spans
   * run as segments of this length (split-context; the combine of the segments' softmax statistics is
   * not charged).
   */
  public static long maxResidentSpan(TargetSpec t, long rows) {
    long rowTiles = Kernels.ceilDiv(rows, t.partitions());
    long span = t.sbufBytesPerPartition() / 2 / (10 * rowTiles);
    return Math.max(KEY_DMA, span / KEY_DMA * KEY_DMA);
  }

  static Op[] nonNull(Op[] ops) {
    List<Op> l = new ArrayList<>();
    for (Op o : ops) {
      if (o != null) {
        l.add(o);
      }
    }
    return l.toArray(new Op[0]);
  }

  static void check(TargetSpec t, Shape a) {
    if (a.d() > t.partitions() || a.group() > t.peCols() || a.qHeads() % a.kvHeads() != 0) {
      throw new trnsim.isa.workload.WorkloadException("attention", "attention.head_dim", String.valueOf(a.d()),
          "the compiled decode attention needs head_dim <= " + t.partitions() + " and whole query groups per kv head");
    }
    Kernels.guard("attention-decode", (double) a.batch() * a.kvHeads() * Kernels.tiles(a.span(), 128) * 3);
  }
}
