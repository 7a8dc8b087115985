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
 * Flash-attention forward on the cores of one chip.
 *
 * <p>Work items are (batch, kv head, 128-row Q tile); each item processes the {@code h/kv_heads}
 * query heads that share the kv head, so a K/V tile is loaded once and used by the whole group.
 * Items are split over cores in contiguous runs of about equal work (causal items near the end of
 * a sequence cost more). On a core, the K/V tiles of a (batch, kv head) stay resident in SBUF when
 * they fit (then they are read from HBM once per core); otherwise a ring of tile slots streams them.
 *
 * <p>Per (query head, key tile of up to 512 keys) block:
 * <ol>
 *   <li>tensor: S[128 x 512] = Q^T-stationary [D x 128] x K^T-moving [D x 512] into a PSUM bank
 *       (ceil(D/128) accumulating matmuls for D &gt; 128);
 *   <li>causal diagonal tile only: vector adds a mask tile (built once per core by gpsimd iota) to the
 *       last 128 keys; key tiles wholly above the diagonal are skipped and the diagonal tile only
 *       spans keys up to the last query of the tile;
 *   <li>vector tensor_reduce max, vector max with the running max ([128 x 1]); scalar exp of the
 *       rescale factor alpha ([128 x 1]); scalar activation_reduce exp(S - m) reading PSUM, writing P
 *       (bf16) to SBUF with the row sum; gpsimd l = l * alpha + rowsum;
 *   <li>tensor: P^T by 128x128 transposes into PSUM; vector copy back to SBUF;
 *   <li>tensor: PV[128 x D] = sum over 128-key pieces of P^T-stationary x V-moving [128 keys x D];
 *   <li>O update: when the O accumulators of the group (two item sets) fit PSUM next to the S and
 *       P^T banks, O accumulates there across key tiles and the vector engine rescales it in place
 *       (O *= alpha) one pipeline step before the PV matmuls; otherwise PV goes to a fresh PSUM
 *       bank, gpsimd rescales O in SBUF (fp32) and the vector engine adds PV to it;
 *   <li>after the last key tile: vector 1/l and O * (1/l) to bf16; one store per item for all heads.
 * </ol>
 * The tensor stream is software-pipelined three stages deep (S of block i, the PV matmuls of
 * block i-2 and the transposes of block i-1 are issued together, in that order) so no engine waits for the
 * softmax or the P^T copy of the block it just produced. Q and K are assumed stored transposed ([B, H, D, S], as NKI's flash kernel takes them)
 * so every load is a plain DMA; V is [B, G, S, D]. Loads use DMA queues 0..Q-5, O stores the last
 * four queues, so a store waiting for compute never blocks a prefetch.
 *
 * <p>Simplified: the small [128 x 1] statistics ops are separate instructions (a real kernel fuses
 * some); softmax scaling by 1/sqrt(D) is folded into the exp's scale (free); PSUM bank conflicts
 * between engines are not modelled.
 */
public final class AttentionLowering {
  static final int KEY_TILE = 512;
  static final int Q_TILE = 128;
  /** Per-block fixed cost in key equivalents, for balancing causal work over cores. */
  static final int BLOCK_OVERHEAD_KEYS = 256;

  private AttentionLowering() {}

  /** One (query head, key tile) block of an item. */
  record Block(int item, int head, int kTile, int keys, int qRows, boolean first, boolean last, boolean diag) {}

  /** (batch, kv head, q tile), for the query heads {@code hs * hpi .. hs * hpi + hpi - 1} of the group. */
  record Item(long b, long g, long qTile, int qRows, int kTiles, long work, int hs) {}

  /**
   * The forward tiling. {@code qTile} query rows per block (on partitions, the stationary free size
   * of QK), {@code keyTile} keys per block (the moving free size, one PSUM bank of fp32),
   * {@code piece} keys per PV contraction and per P transpose, {@code dk} head-dim rows per QK
   * contraction, {@code hpi} query heads of a group per item (they share the K/V loads), ring
   * depth {@code pRing} of the P and P^T buffers, P^T by the tensor engine through PSUM or by the
   * vector engine SBUF to SBUF, and {@code compact}: buffers accounted at their exact size spread
   * over all partitions and K/V/Q loaded as packed tiles (small-SBUF targets) rather than one
   * tile per 128-row chunk.
   */
  record FwdTiles(int qTile, int keyTile, int piece, int dk, int hpi, int pRing, boolean tensorTranspose, boolean compact) {
    /** Trainium's fixed NKI-style tiling: 128-row Q tiles, 512-key tiles, the whole group per item. */
    static FwdTiles trainium(AttentionSpec a) {
      return new FwdTiles(Q_TILE, KEY_TILE, Q_TILE, (int) Math.min(a.d(), Q_TILE), (int) a.group(), 3, true, false);
    }

    /**
     * Trainium's tiling when the target's shape and memories take it (then results are those of
     * the fixed-tile lowering); otherwise the first compact tiling that fits, preferring larger Q
     * tiles (the stationary width the PE array needs), then larger key tiles (fewer, longer
     * instructions), then more heads per item (fewer K/V loads), then deeper rings.
     */
    static FwdTiles choose(TargetSpec t, AttentionSpec a) {
      FwdTiles tr = trainium(a);
      if (t.partitions() >= Q_TILE && t.peCols() >= Q_TILE && t.peRows() >= Q_TILE && t.maxMovingFree() >= KEY_TILE
          && tr.kvSlots(t, a) >= 3) {
        return tr;
      }
      int qMax = Math.min(Q_TILE, Math.min(t.partitions(), t.peCols()));
      int kMax = Math.min(KEY_TILE, t.maxMovingFree());
      int piece0 = Math.min(t.peRows(), t.partitions());
      int dk = (int) Math.min(a.d(), piece0);
      for (int qt = qMax; qt >= 16; qt /= 2) {
        int piece = Math.min(qt, piece0);
        for (int kt = kMax; kt >= piece; kt /= 2) {
          for (int hpi = (int) a.group(); hpi >= 1; hpi--) {
            if (a.group() % hpi != 0) {
              continue;
            }
            for (int ring = 3; ring >= 2; ring--) {
              FwdTiles f = new FwdTiles(qt, kt, piece, dk, hpi, ring, false, true);
              boolean tensorT = f.psumBanks(t, a, true) <= t.psumBanks();
              f = new FwdTiles(qt, kt, piece, dk, hpi, ring, tensorT, true);
              if (f.kvSlots(t, a) >= 3 && f.psumBanks(t, a, tensorT) <= t.psumBanks()) {
                return f;
              }
            }
          }
        }
      }
      throw new WorkloadException("attention", "attention.d", String.valueOf(a.d()),
          "no flash-attention tiling fits " + t.name() + "'s SBUF (" + t.sbufBytesPerPartition() + " B per partition) and PSUM");
    }

    long bank(TargetSpec t) {
      return t.psumBytesPerPartition() / t.psumBanks();
    }

    /** O accumulators of both item sets fit PSUM next to the S ring (and the P^T ring when P^T goes through PSUM). */
    boolean oInPsum(TargetSpec t, AttentionSpec a) {
      long oPsum = 2L * hpi * a.d() * 4;
      return (2 + (tensorTranspose ? 2 : 0)) * bank(t) + Kernels.ceilDiv(oPsum, bank(t)) * bank(t) <= t.psumBytesPerPartition();
    }

    /** PSUM banks used: S ring, P^T ring (tensor transposes), O accumulators or a PV ring. */
    long psumBanks(TargetSpec t, AttentionSpec a, boolean tensorT) {
      FwdTiles f = new FwdTiles(qTile, keyTile, piece, dk, hpi, pRing, tensorT, compact);
      long o = f.oInPsum(t, a) ? Kernels.ceilDiv(2L * hpi * a.d() * 4, bank(t)) : 2;
      return 2 + (tensorT ? 2 : 0) + o;
    }

    /** Bytes per partition of a [rows x free] buffer: exact spread over all partitions when compact. */
    long bytes(TargetSpec t, long rows, long freeBytes) {
      return compact ? Kernels.ceilDiv(rows * freeBytes, t.partitions()) : Kernels.ceilDiv(rows, t.partitions()) * freeBytes;
    }

    /** SBUF bytes per partition of one K^T/V slot. */
    long kvTileBytes(TargetSpec t, AttentionSpec a) {
      long eb = a.dtype().bytes(1);
      return bytes(t, a.d(), keyTile * eb) + bytes(t, keyTile, a.d() * eb);
    }

    /** SBUF bytes per partition outside the K/V cache: Q^T sets, O (SBUF), O staging, P rings, mask, statistics. */
    long otherBytes(TargetSpec t, AttentionSpec a) {
      long eb = a.dtype().bytes(1);
      long d = a.d();
      long qBytes = 2L * hpi * bytes(t, d, qTile * eb);
      long oBytes = !compact || !oInPsum(t, a) ? 2L * hpi * d * 4 : 0;
      long outBytes = 2L * hpi * d * eb;
      long pBytes = pRing * (keyTile * eb + bytes(t, keyTile, qTile * eb));
      long stats = compact ? 2L * hpi * 8 * 4 : 1024;
      return qBytes + oBytes + outBytes + pBytes + qTile * eb + stats;
    }

    /** K/V tile slots that fit next to the other buffers in 90% of SBUF. */
    long kvSlots(TargetSpec t, AttentionSpec a) {
      return ((long) (t.sbufBytesPerPartition() * 0.9) - otherBytes(t, a)) / kvTileBytes(t, a);
    }
  }

  static int keyTiles(AttentionSpec a, FwdTiles f, long qTile) {
    long kTilesAll = Kernels.ceilDiv(a.sKv(), f.keyTile());
    if (!a.causal()) {
      return (int) kTilesAll;
    }
    long lastQuery = Math.min(a.s(), (qTile + 1) * f.qTile()) - 1;
    return (int) Math.min(kTilesAll, lastQuery / f.keyTile() + 1);
  }

  /** Keys of key tile {@code j} that queries of q tile {@code qTile} may see. */
  static int keysOf(AttentionSpec a, FwdTiles f, long qTile, int j) {
    long end = Math.min(a.sKv(), (long) (j + 1) * f.keyTile());
    if (a.causal()) {
      end = Math.min(end, Math.min(a.s(), (qTile + 1) * f.qTile()));
    }
    return (int) (end - (long) j * f.keyTile());
  }

  static List<Item> items(AttentionSpec a, FwdTiles f) {
    List<Item> items = new ArrayList<>();
    long qTiles = Kernels.ceilDiv(a.s(), f.qTile());
    int subgroups = (int) (a.group() / f.hpi());
    for (long b = 0; b < a.b(); b++) {
      for (long g = 0; g < a.kvHeads(); g++) {
        for (int hs = 0; hs < subgroups; hs++) {
          for (long qt = 0; qt < qTiles; qt++) {
            int kt = keyTiles(a, f, qt);
            long work = 0;
            for (int j = 0; j < kt; j++) {
              // keys, plus the fixed per-block cost of the ~12 instructions (in key equivalents)
              work += keysOf(a, f, qt, j) + BLOCK_OVERHEAD_KEYS;
            }
            items.add(new Item(b, g, qt, (int) Math.min(f.qTile(), a.s() - qt * f.qTile()), kt, work * f.hpi(), hs));
          }
        }
      }
    }
    return items;
  }

  /** Splits {@code items} into at most {@code cores} contiguous runs of about equal work. */
  static List<List<Item>> split(List<Item> items, int cores) {
    long total = 0;
    for (Item it : items) {
      total += it.work();
    }
    List<List<Item>> out = new ArrayList<>();
    List<Item> cur = new ArrayList<>();
    long acc = 0;
    for (Item it : items) {
      cur.add(it);
      acc += it.work();
      // close this core's run once it reaches its share of the total
      if (out.size() < cores - 1 && acc * cores >= total * (out.size() + 1)) {
        out.add(cur);
        cur = new ArrayList<>();
      }
    }
    if (!cur.isEmpty()) {
      out.add(cur);
    }
    return out;
  }

  public static Program forward(TargetSpec t, AttentionSpec a, int coresRequested) {
    checkHeadDim(t, a);
    FwdTiles f = FwdTiles.choose(t, a);
    Kernels.guard("attention", (double) a.b() * a.h() * Kernels.tiles(a.s(), f.qTile()) * Kernels.tiles(a.sKv(), f.keyTile())
        * (Kernels.tiles(a.d(), f.dk()) + Kernels.tiles(f.keyTile(), f.piece()) * 2 + 10));
    int cores = Math.max(1, Math.min(coresRequested, t.cores()));
    ProgramBuilder pb = new ProgramBuilder("attention fwd b=" + a.b() + " h=" + a.h() + " s=" + a.s() + " s_kv=" + a.sKv()
        + " d=" + a.d() + " kv_heads=" + a.kvHeads() + (a.causal() ? " causal" : "") + " " + a.dtype().label(), t.dmaQueues());
    List<List<Item>> runs = split(items(a, f), cores);
    int resident = 0;
    for (int c = 0; c < runs.size(); c++) {
      FwdCore fc = new FwdCore(t, a, f, pb.core(c), runs.get(c));
      resident = fc.slots;
      fc.emit();
    }
    long kTiles = Kernels.ceilDiv(a.sKv(), f.keyTile());
    pb.flops(a.forwardFlops()).hbmBytesMin(a.forwardBytes());
    pb.note("flash attention fwd: items (batch, kv head, " + f.qTile() + "-row Q tile) x " + f.hpi()
        + " query heads, split over " + runs.size() + " cores by work; key tiles of " + f.keyTile()
        + (f.compact() ? "; compact tiling for " + t.name() + "'s " + t.sbufBytesPerPartition() + " B SBUF partitions (head-dim chunks of "
        + f.dk() + ", PV pieces of " + f.piece() + " keys, " + f.pRing() + "-deep P rings)" : ""));
    pb.note(resident >= kTiles ? "K/V of a (batch, kv head) resident in SBUF (" + kTiles + " tiles): read once per core"
        : "K/V streamed through " + resident + " SBUF tile slots (do not fit resident)");
    pb.note(f.tensorTranspose() ? "P^T by tensor-engine " + f.qTile() + "x" + f.piece() + " transposes through PSUM"
        : "P^T by vector-engine " + f.qTile() + "x" + f.piece() + " transposes SBUF to SBUF (PSUM holds the S ring and O)");
    if (a.causal()) {
      pb.note("causal: key tiles above the diagonal skipped, diagonal tile trimmed and masked (vector add of a gpsimd iota mask)");
    }
    return pb.build();
  }

  static void checkHeadDim(TargetSpec t, AttentionSpec a) {
    if (a.d() > t.maxMovingFree()) {
      throw new WorkloadException("attention", "attention.d", String.valueOf(a.d()),
          "head dims up to " + t.maxMovingFree() + " (one PSUM bank of the PV product)");
    }
    if (!t.supports(a.dtype())) {
      throw new WorkloadException("attention", "attention.dtype", a.dtype().label(), t.name() + " does not support it");
    }
  }

  /** Rotating buffers: each slot remembers the instruction that last read it. */
  static final class Ring {
    final Op[][] lastReader;
    int next;

    Ring(int n) {
      lastReader = new Op[n][];
    }

    int take() {
      int s = next;
      next = (next + 1) % lastReader.length;
      return s;
    }
  }

  /** Emits one core's share of the forward pass. */
  static final class FwdCore {
    final TargetSpec t;
    final AttentionSpec a;
    final FwdTiles f;
    final int qTile;
    final int keyTile;
    final int piece;
    final ProgramBuilder.CoreBuilder core;
    final List<Item> items;
    final int group;
    final int nd;
    final int dk;
    final int d;
    final DType dt;
    final int loadQ;
    final int storeQ0;
    final int storeQN;
    final int slots;
    final int kTilesAll;
    /** O accumulators of both item sets fit PSUM next to the S and P^T banks: accumulate there. */
    final boolean oInPsum;
    // K/V tile cache
    final long[] slotKey;
    final Op[][] slotLoad;
    final Op[] slotReader;
    int nextSlot;
    // rings
    final Ring sBank = new Ring(2);
    final Ring pSbuf;
    final Ring ptBank = new Ring(2);
    final Ring ptSbuf;
    final Ring pvBank = new Ring(2);
    final Op[] qReader = new Op[2];
    final Op[][] outStore = new Op[2][];
    Op mask;
    // per-block state carried from stage 1 to stage 2
    final List<Block> blocks = new ArrayList<>();

    FwdCore(TargetSpec t, AttentionSpec a, FwdTiles f, ProgramBuilder.CoreBuilder core, List<Item> items) {
      this.t = t;
      this.a = a;
      this.f = f;
      this.qTile = f.qTile();
      this.keyTile = f.keyTile();
      this.piece = f.piece();
      this.pSbuf = new Ring(f.pRing());
      this.ptSbuf = new Ring(f.pRing());
      this.core = core;
      this.items = items;
      this.group = f.hpi();
      this.d = (int) a.d();
      this.dk = f.dk();
      this.nd = (int) Kernels.ceilDiv(a.d(), dk);
      this.dt = a.dtype();
      int q = t.dmaQueues();
      this.storeQN = q >= 8 ? 4 : 1;
      this.loadQ = Math.max(1, q - storeQN);
      this.storeQ0 = q == 1 ? 0 : loadQ;
      this.kTilesAll = (int) Kernels.ceilDiv(a.sKv(), keyTile);
      long eb = dt.bytes(1);
      int parts = t.partitions();
      // SBUF per partition outside the K/V cache.
      long qBytes = 2L * group * f.bytes(t, d, qTile * eb);
      long oBytes = 2L * group * d * 4;
      long outBytes = 2L * group * d * eb;
      long pBytes = f.pRing() * (keyTile * eb + f.bytes(t, keyTile, qTile * eb)); // P and P^T rings
      long statBytes = f.otherBytes(t, a) - (qBytes + (f.compact() && f.oInPsum(t, a) ? 0 : oBytes) + outBytes + pBytes);
      long tileBytes = f.kvTileBytes(t, a);
      long fit = f.kvSlots(t, a);
      if (fit < 3) {
        throw new WorkloadException("attention", "attention.d", String.valueOf(a.d()),
            "three K/V tiles of " + keyTile + " keys do not fit SBUF next to the Q/O buffers of " + group + " heads");
      }
      this.slots = (int) Math.max(3, Math.min(fit, kTilesAll));
      slotKey = new long[slots];
      java.util.Arrays.fill(slotKey, -1);
      slotLoad = new Op[slots][];
      slotReader = new Op[slots];
      long bank = t.psumBytesPerPartition() / t.psumBanks();
      long oPsum = 2L * group * d * 4;
      this.oInPsum = f.oInPsum(t, a);
      core.alloc(MemSpace.SBUF, "Q^T tiles (2 sets)", parts, qBytes);
      core.alloc(MemSpace.SBUF, "K^T/V tile cache", parts, slots * tileBytes);
      if (f.compact() ? !oInPsum : t.psumBytesPerPartition() < 4 * bank + oBytes) {
        core.alloc(MemSpace.SBUF, "O accumulators fp32 (2 sets)", qTile, oBytes);
      }
      core.alloc(MemSpace.SBUF, "O staging bf16 (2 sets)", qTile, outBytes);
      core.alloc(MemSpace.SBUF, "P, P^T rings", parts, pBytes);
      core.alloc(MemSpace.SBUF, "mask + statistics", parts, statBytes);
      if (!f.compact()) {
        core.alloc(MemSpace.PSUM, oInPsum ? "S, P^T banks (2 each), O accumulators (2 sets)" : "S, P^T, PV banks (2 each)", parts,
            oInPsum ? 4 * bank + Kernels.ceilDiv(oPsum, bank) * bank : Math.min(t.psumBytesPerPartition(), 6 * bank));
      } else {
        core.alloc(MemSpace.PSUM, "S ring" + (f.tensorTranspose() ? ", P^T ring" : "") + (oInPsum ? ", O accumulators (2 sets)" : ", PV ring"),
            parts, f.psumBanks(t, a, f.tensorTranspose()) * bank);
      }
    }

    void emit() {
      for (int i = 0; i < items.size(); i++) {
        Item it = items.get(i);
        for (int j = 0; j < it.kTiles(); j++) {
          for (int hh = 0; hh < group; hh++) {
            int keys = keysOf(a, f, it.qTile(), j);
            boolean diag = a.causal() && (long) j * keyTile + keys > it.qTile() * qTile;
            blocks.add(new Block(i, hh, j, keys, it.qRows(), j == 0, j == it.kTiles() - 1, diag));
          }
        }
      }
      if (a.causal()) {
        mask = core.add(new Instruction.Iota(TensorRef.sbuf(qTile, qTile, dt)));
      }
      // Per block handles needed by stage 2.
      Op[] exp = new Op[blocks.size()];
      Op[] alpha = new Op[blocks.size()];
      Op[] lUpd = new Op[blocks.size()];
      int[] pSlot = new int[blocks.size()];
      int[] kvSlot = new int[blocks.size()];
      Op[] copyOf = new Op[blocks.size()];
      Op[] scaleOf = new Op[blocks.size()];
      int[] ptsOf = new int[blocks.size()];
      Op[][] qLoad = new Op[items.size()][];
      Op[][] oUpd = new Op[2][group];
      Op[][] finals = new Op[items.size()][group];
      Op[] lastQk = new Op[items.size()];
      for (int s = 0; s < blocks.size() + 2; s++) {
        if (s < blocks.size() && blocks.get(s).head() == 0) {
          // One key tile of an item (all heads of its group) per iteration: the queues store the
          // repeating steps once (ProgramBuilder folds them; the stream is the same).
          core.iteration();
        }
        if (s < blocks.size()) {
          Block bl = blocks.get(s);
          Item it = items.get(bl.item());
          if (bl.first() && bl.head() == 0) {
            qLoad[bl.item()] = loadQ(bl.item(), it);
          }
          kvSlot[s] = kv(it, bl.kTile(), s >= 1 ? kvSlot[s - 1] : -1, s >= 2 ? kvSlot[s - 2] : -1);
          // stage 1: S, mask, max, exp
          int sb = sBank.take();
          Op qk = null;
          TensorRef sPs = TensorRef.psum(bl.qRows(), bl.keys(), DType.FP32);
          for (int c = 0; c < nd; c++) {
            int kk = Math.min(dk, d - c * dk);
            List<Op> deps = new ArrayList<>();
            addAll(deps, qLoad[bl.item()]);
            addAll(deps, slotLoad[kvSlot[s]]);
            addAll(deps, sBank.lastReader[sb]);
            qk = core.add(new Instruction.MatMul(TensorRef.sbuf(kk, bl.qRows(), dt), TensorRef.sbuf(kk, bl.keys(), dt), sPs, c > 0),
                deps.toArray(new Op[0]));
          }
          lastQk[bl.item()] = qk;
          qReader[bl.item() % 2] = qk;
          Op sReady = qk;
          if (bl.diag()) {
            int mk = Math.min(qTile, bl.keys());
            TensorRef piece = TensorRef.psum(bl.qRows(), mk, DType.FP32);
            sReady = core.add(new Instruction.TensorTensor(EngineKind.VECTOR, piece, TensorRef.sbuf(bl.qRows(), mk, dt), piece, AluOp.ADD),
                qk, mask);
          }
          TensorRef stat = TensorRef.sbuf(bl.qRows(), 1, DType.FP32);
          Op max = core.add(new Instruction.TensorReduce(EngineKind.VECTOR, sPs, stat, AluOp.MAX), sReady);
          Op mNew = max;
          if (!bl.first()) {
            mNew = core.add(new Instruction.TensorTensor(EngineKind.VECTOR, stat, stat, stat, AluOp.MAX), max);
            alpha[s] = core.add(new Instruction.Activation(stat, stat, ActFunc.EXP, false), mNew);
          }
          pSlot[s] = pSbuf.take();
          List<Op> ed = new ArrayList<>();
          ed.add(mNew);
          addAll(ed, pSbuf.lastReader[pSlot[s]]);
          exp[s] = core.add(new Instruction.Activation(sPs, TensorRef.sbuf(bl.qRows(), bl.keys(), dt), ActFunc.EXP, true),
              ed.toArray(new Op[0]));
          sBank.lastReader[sb] = new Op[] {exp[s]};
        }
        if (s >= 2) {
          int p = s - 2;
          Block bl = blocks.get(p);
          int pieces = (int) Kernels.ceilDiv(bl.keys(), piece);
          Op copy = copyOf[p];
          int pts = ptsOf[p];
          int set = bl.item() % 2;
          // l = l * alpha + rowsum, two blocks after the exp that produced the row sum
          TensorRef lStat = TensorRef.sbuf(bl.qRows(), 1, DType.FP32);
          lUpd[p] = bl.first() ? exp[p]
              : core.add(new Instruction.TensorTensor(EngineKind.GPSIMD, lStat, lStat, lStat, AluOp.ADD), exp[p], alpha[p]);
          Op pv = null;
          Op upd;
          TensorRef o;
          if (oInPsum) {
            // O accumulates in its own PSUM region across key tiles; rescaled in place by the vector engine.
            o = TensorRef.psum(bl.qRows(), d, DType.FP32);
            Op scale = bl.first() ? oUpd[set][bl.head()] : scaleOf[p];
            for (int pc = 0; pc < pieces; pc++) {
              int kp = Math.min(piece, bl.keys() - pc * piece);
              pv = core.add(new Instruction.MatMul(TensorRef.sbuf(kp, bl.qRows(), dt), TensorRef.sbuf(kp, d, dt), o,
                  !(bl.first() && pc == 0)), copy, scale);
            }
            upd = pv;
          } else {
            int pvb = pvBank.take();
            TensorRef pvPs = TensorRef.psum(bl.qRows(), d, DType.FP32);
            for (int pc = 0; pc < pieces; pc++) {
              int kp = Math.min(piece, bl.keys() - pc * piece);
              pv = core.add(new Instruction.MatMul(TensorRef.sbuf(kp, bl.qRows(), dt), TensorRef.sbuf(kp, d, dt), pvPs, pc > 0),
                  copy, first(pvBank.lastReader[pvb]));
            }
            o = TensorRef.sbuf(bl.qRows(), d, DType.FP32);
            if (bl.first()) {
              // WAR: the previous item on this set finished normalising this head's accumulator
              upd = core.add(new Instruction.TensorCopy(EngineKind.VECTOR, pvPs, o), pv, oUpd[set][bl.head()]);
            } else {
              Op scale = core.add(new Instruction.TensorScalar(EngineKind.GPSIMD, o, o, AluOp.MULTIPLY), alpha[p], oUpd[set][bl.head()]);
              upd = core.add(new Instruction.TensorTensor(EngineKind.VECTOR, pvPs, o, o, AluOp.ADD), pv, scale);
            }
            pvBank.lastReader[pvb] = new Op[] {upd};
          }
          ptSbuf.lastReader[pts] = new Op[] {pv};
          slotReader[kvSlot[p]] = pv;
          oUpd[set][bl.head()] = upd;
          if (bl.last()) {
            TensorRef stat = TensorRef.sbuf(bl.qRows(), 1, DType.FP32);
            Op rcp = core.add(new Instruction.TensorScalar(EngineKind.VECTOR, stat, stat, AluOp.DIVIDE), lUpd[p]);
            List<Op> nd2 = new ArrayList<>();
            nd2.add(rcp);
            nd2.add(upd);
            addAll(nd2, outStore[set]);
            Op norm = core.add(new Instruction.TensorScalar(EngineKind.VECTOR, o, TensorRef.sbuf(bl.qRows(), d, dt), AluOp.MULTIPLY),
                nd2.toArray(new Op[0]));
            finals[bl.item()][bl.head()] = norm;
            oUpd[set][bl.head()] = norm;
            if (bl.head() == group - 1) {
              outStore[set] = NormLowering.spread(core, storeQ0, storeQN, MemSpace.SBUF, MemSpace.HBM, bl.qRows(),
                  dt.bytes((long) group * d), finals[bl.item()]);
            }
          }
        }
        if (s >= 1 && s - 1 < blocks.size()) {
          int p = s - 1;
          Block bl = blocks.get(p);
          Item it = items.get(bl.item());
          int pieces = (int) Kernels.ceilDiv(bl.keys(), piece);
          Op copy;
          int pts;
          if (f.tensorTranspose()) {
            int ptb = ptBank.take();
            Op tr = null;
            for (int pc = 0; pc < pieces; pc++) {
              int kp = Math.min(piece, bl.keys() - pc * piece);
              tr = core.add(new Instruction.Transpose(EngineKind.TENSOR, TensorRef.sbuf(bl.qRows(), kp, dt),
                  TensorRef.psum(kp, bl.qRows(), dt)), exp[p], first(ptBank.lastReader[ptb]));
            }
            pSbuf.lastReader[pSlot[p]] = new Op[] {tr};
            pts = ptSbuf.take();
            int kpAll = Math.min(piece, bl.keys());
            List<Op> cd = new ArrayList<>();
            cd.add(tr);
            addAll(cd, ptSbuf.lastReader[pts]);
            copy = core.add(new Instruction.TensorCopy(EngineKind.VECTOR, TensorRef.psum(kpAll, (long) pieces * bl.qRows(), dt),
                TensorRef.sbuf(kpAll, (long) pieces * bl.qRows(), dt)), cd.toArray(new Op[0]));
            ptBank.lastReader[ptb] = new Op[] {copy};
          } else {
            // vector-engine block transposes straight into the P^T ring (no PSUM round trip)
            pts = ptSbuf.take();
            copy = null;
            for (int pc = 0; pc < pieces; pc++) {
              int kp = Math.min(piece, bl.keys() - pc * piece);
              copy = core.add(new Instruction.Transpose(EngineKind.VECTOR, TensorRef.sbuf(bl.qRows(), kp, dt),
                  TensorRef.sbuf(kp, bl.qRows(), dt)), exp[p], first(ptSbuf.lastReader[pts]));
            }
            pSbuf.lastReader[pSlot[p]] = new Op[] {copy};
          }
          copyOf[p] = copy;
          ptsOf[p] = pts;
          if (oInPsum && !bl.first()) {
            // rescale this head's PSUM accumulator now, one step before its PV matmuls need it
            TensorRef oAcc = TensorRef.psum(bl.qRows(), d, DType.FP32);
            scaleOf[p] = core.add(new Instruction.TensorScalar(EngineKind.VECTOR, oAcc, oAcc, AluOp.MULTIPLY), alpha[p],
                oUpd[bl.item() % 2][bl.head()]);
          }
        }
      }
    }

    Op[] loadQ(int itemIndex, Item it) {
      Op[] war = qReader[itemIndex % 2] == null ? new Op[0] : new Op[] {qReader[itemIndex % 2]};
      if (f.compact()) {
        return packed(dt.bytes((long) d * group * it.qRows()), war);
      }
      Op[] all = new Op[0];
      for (int c = 0; c < nd; c++) {
        int kk = Math.min(dk, d - c * dk);
        all = Kernels.concat(all, NormLowering.spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, kk,
            dt.bytes((long) group * it.qRows()), war));
      }
      return all;
    }

    /** Makes K/V tile {@code j} of the item's (batch, kv head) resident; returns its slot. */
    int kv(Item it, int j, int busy1, int busy2) {
      long key = (it.b() * a.kvHeads() + it.g()) * kTilesAll + j;
      for (int s = 0; s < slots; s++) {
        if (slotKey[s] == key) {
          return s;
        }
      }
      // Round robin over the slots, never evicting a tile the previous two blocks read (their PV
      // matmuls, which free the slot, are not emitted yet: the pipeline lags two blocks).
      int slot = nextSlot;
      while (slot == busy1 || slot == busy2) {
        slot = (slot + 1) % slots;
      }
      nextSlot = (slot + 1) % slots;
      Op[] war = slotReader[slot] == null ? new Op[0] : new Op[] {slotReader[slot]};
      int keys = (int) (Math.min(a.sKv(), (long) (j + 1) * keyTile) - (long) j * keyTile);
      if (f.compact()) {
        // K^T and V as tiles packed over all partitions
        slotKey[slot] = key;
        slotLoad[slot] = Kernels.concat(packed(dt.bytes((long) d * keys), war), packed(dt.bytes((long) keys * d), war));
        return slot;
      }
      Op[] loads = new Op[0];
      for (int c = 0; c < nd; c++) {
        int kk = Math.min(dk, d - c * dk);
        loads = Kernels.concat(loads, NormLowering.spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, kk, dt.bytes(keys), war));
      }
      int pieces = (int) Kernels.ceilDiv(keys, piece);
      loads = Kernels.concat(loads, NormLowering.spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, Math.min(piece, keys),
          dt.bytes((long) pieces * d), war));
      slotKey[slot] = key;
      slotLoad[slot] = loads;
      return slot;
    }

    /** {@code bytes} spread over all partitions (a tile packed across the partition dimension), on the load queues. */
    Op[] packed(long bytes, Op[] war) {
      int parts = (int) Math.min(t.partitions(), bytes);
      return NormLowering.spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, parts, Kernels.ceilDiv(bytes, parts), war);
    }
  }

  static void addAll(List<Op> l, Op[] ops) {
    if (ops != null) {
      for (Op o : ops) {
        if (o != null) {
          l.add(o);
        }
      }
    }
  }

  static Op first(Op[] ops) {
    return ops == null || ops.length == 0 ? null : ops[0];
  }
}
