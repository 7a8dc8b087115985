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
 * Flash-attention backward (the FlashAttention-2 structure): key tiles outer, query tiles inner.
 * Work items are (batch, kv head, key tile of up to 512 keys), split over cores in contiguous runs
 * of about equal work; an item visits every (128-row Q tile, query head of the group) that sees
 * its keys (causal: Q tiles at or below the diagonal). The row statistics LSE and
 * delta = rowsum(dO * O) are assumed precomputed by the forward pass and a small pre-kernel (as in
 * FlashAttention-2), so O itself is not read here.
 *
 * <p>Per (Q tile, head) block, with N keys in the item and Q-side tiles loaded per Q tile for all
 * heads of the group at once:
 * <ol>
 *   <li>tensor: S = Q^T-stationary x K^T-moving and dP = dO^T-stationary x V^T-moving, [128 x N]
 *       each in PSUM (recompute);
 *   <li>scalar: P = exp(S - LSE) (reads PSUM, writes bf16 SBUF); vector: dS = P * (dP - delta)
 *       (one scalar_tensor_tensor-style instruction);
 *   <li>tensor: dV += P-stationary [128 q x 128 keys] x dO-moving [128 q x D] and
 *       dK += dS-stationary x Q-moving, per 128-key piece, accumulating in PSUM over all blocks of
 *       the item (no transposes needed: queries are already on partitions);
 *   <li>tensor: dS^T by 128x128 transposes; scalar copies it back to SBUF;
 *       tensor: dQ = sum over pieces of dS^T-stationary x K-moving [128 keys x D];
 *   <li>dQ accumulates across items: in SBUF (vector add from PSUM) when all dQ tiles of the
 *       core's (batch, kv head) fit, else by a read-modify-write of an fp32 tile in HBM (the
 *       atomic add of FlashAttention-2).
 * </ol>
 * At the end of an item, dK and dV are evacuated (vector and scalar) and stored. The tensor queue
 * is pipelined three stages deep: S/dP of block i, dV/dK/transposes of block i-1, dQ of block i-2.
 * Q^T/dO^T and Q/dO are both loaded (the transposed copies by DMA transpose, modelled at full DMA
 * rate); K^T and V^T likewise next to K.
 */
public final class AttentionBackward {
  /** Largest key tile; smaller (256, 128) when there would be fewer than 2 items per core (load balance). */
  static final int KEY_TILE = AttentionLowering.KEY_TILE;
  static final int Q_TILE = AttentionLowering.Q_TILE;

  private AttentionBackward() {}

  record Item(long b, long g, int kTile, int keys, long qTiles0, long qTiles1, long work) {}

  record Block(int item, long qTile, int head, int qRows, boolean firstOfItem, boolean lastOfItem, boolean firstHead) {}

  /**
   * The backward tiling: {@code qTile} query rows per block, {@code keyTile} keys per item,
   * {@code piece} keys per dK/dV/dQ contraction and transpose, {@code dk} head-dim rows per S/dP
   * contraction, {@code hpi} query heads per Q-side load; {@code compact} as in the forward
   * (exact buffer sizes spread over all partitions, packed loads, PSUM checked byte by byte).
   */
  record BwdTiles(int qTile, int keyTile, int piece, int dk, int hpi, boolean compact) {
    /** Trainium's tiling when it fits (results unchanged), else the first compact tiling that fits. */
    static BwdTiles choose(TargetSpec t, AttentionSpec a, int cores) {
      int keyTile = KEY_TILE;
      while (keyTile > Q_TILE && a.b() * a.kvHeads() * Kernels.ceilDiv(a.sKv(), keyTile) < 2L * cores) {
        keyTile /= 2;
      }
      BwdTiles tr = new BwdTiles(Q_TILE, keyTile, t.partitions(), (int) Math.min(a.d(), t.partitions()), (int) a.group(), false);
      if (t.partitions() >= Q_TILE && t.peRows() >= Q_TILE && t.peCols() >= Q_TILE && t.maxMovingFree() >= KEY_TILE
          && tr.fixedBytes(t, a) <= budget(t)) {
        return tr;
      }
      int qMax = Math.min(Q_TILE, Math.min(t.partitions(), t.peCols()));
      int piece0 = Math.min(t.peRows(), t.partitions());
      for (int qt = qMax; qt >= 16; qt /= 2) {
        int piece = Math.min(qt, piece0);
        for (int kt = Math.min(KEY_TILE, t.maxMovingFree()); kt >= piece; kt /= 2) {
          for (int hpi = (int) a.group(); hpi >= 1; hpi--) {
            BwdTiles f = new BwdTiles(qt, kt, piece, (int) Math.min(a.d(), piece0), hpi, true);
            if (a.group() % hpi == 0 && f.fixedBytes(t, a) <= budget(t) && f.psumBytes(a) <= t.psumBytesPerPartition()) {
              return f;
            }
          }
        }
      }
      throw new WorkloadException("attention", "attention.d", String.valueOf(a.d()),
          "no flash-attention backward tiling fits " + t.name() + "'s SBUF (" + t.sbufBytesPerPartition() + " B per partition) and PSUM");
    }

    static long budget(TargetSpec t) {
      return (long) (t.sbufBytesPerPartition() * 0.9);
    }

    long bytes(TargetSpec t, long rows, long freeBytes) {
      return compact ? Kernels.ceilDiv(rows * freeBytes, t.partitions()) : Kernels.ceilDiv(rows, t.partitions()) * freeBytes;
    }

    /** K side (3 sets): K^T and V^T [D x keys], K [keys x D]. */
    long kSide(TargetSpec t, AttentionSpec a) {
      long eb = a.dtype().bytes(1);
      return 3L * (bytes(t, a.d(), 2L * keyTile * eb) + (compact ? bytes(t, keyTile, a.d() * eb) : Kernels.ceilDiv(keyTile, piece) * a.d() * eb));
    }

    /** Q side (3 sets): Q^T, dO^T [D x heads x q], Q, dO [q x heads x D], LSE, delta. */
    long qSide(TargetSpec t, AttentionSpec a) {
      long eb = a.dtype().bytes(1);
      long rowsBytes = 2L * hpi * a.d() * eb + 8L * hpi;
      return qSets() * (bytes(t, a.d(), 2L * hpi * qTile * eb) + (compact ? bytes(t, qTile, rowsBytes) : rowsBytes));
    }

    /** P, dS, dS^T rings and the two dQ read-modify-write slots. */
    long work(TargetSpec t, AttentionSpec a) {
      long eb = a.dtype().bytes(1);
      return compact ? 3L * (2 * bytes(t, qTile, keyTile * eb) + bytes(t, keyTile, qTile * eb)) + 2 * bytes(t, qTile, a.d() * 4)
          : 3L * keyTile * eb * 2 + 2L * a.d() * 4;
    }

    /** Q-side sets: a set is last read by the dV/dK matmuls one block later, so two suffice; Trainium keeps three (slack). */
    int qSets() {
      return compact ? 2 : 3;
    }

    long stats() {
      return compact ? 256 : 1024;
    }

    long fixedBytes(TargetSpec t, AttentionSpec a) {
      return kSide(t, a) + qSide(t, a) + work(t, a) + stats();
    }

    /** PSUM per partition: S and dP rings, dK and dV accumulators, dS^T ring, dQ ring. */
    long psumBytes(AttentionSpec a) {
      long pieces = Kernels.ceilDiv(keyTile, piece);
      return 2L * 2 * keyTile * 4 + 2L * pieces * a.d() * 4 + 2L * pieces * qTile * a.dtype().bytes(1) + 2L * a.d() * 4;
    }
  }

  public static Program lower(TargetSpec t, AttentionSpec a, int coresRequested) {
    AttentionLowering.checkHeadDim(t, a);
    int cores = Math.max(1, Math.min(coresRequested, t.cores()));
    BwdTiles f = BwdTiles.choose(t, a, cores);
    // blocks x (S and dP chunks, dV/dK matmuls per piece and query chunk, transposes, dQ, ~8 others)
    Kernels.guard("attention", (a.causal() ? 0.5 : 1.0) * a.b() * a.h() * Kernels.tiles(a.s(), f.qTile()) * Kernels.tiles(a.sKv(), f.keyTile())
        * (Kernels.tiles(a.d(), f.dk()) * 2 + Kernels.tiles(f.keyTile(), f.piece()) * (2 * Kernels.tiles(f.qTile(), t.peRows()) + 2) + 8));
    ProgramBuilder pb = new ProgramBuilder("attention bwd b=" + a.b() + " h=" + a.h() + " s=" + a.s() + " s_kv=" + a.sKv()
        + " d=" + a.d() + " kv_heads=" + a.kvHeads() + (a.causal() ? " causal" : "") + " " + a.dtype().label(), t.dmaQueues());
    final int kt = f.keyTile();
    final int qT = f.qTile();
    long kTiles = Kernels.ceilDiv(a.sKv(), kt);
    long qTiles = Kernels.ceilDiv(a.s(), qT);
    List<AttentionLowering.Item> weighted = new ArrayList<>();
    List<Item> all = new ArrayList<>();
    for (long b = 0; b < a.b(); b++) {
      for (long g = 0; g < a.kvHeads(); g++) {
        for (int jj = 0; jj < kTiles; jj++) {
          // causal: interleave cheap and expensive key tiles (0, n-1, 1, n-2, ...) so contiguous runs balance
          int j = !a.causal() ? jj : (int) (jj % 2 == 0 ? jj / 2 : kTiles - 1 - jj / 2);
          int keys = (int) (Math.min(a.sKv(), (long) (j + 1) * kt) - (long) j * kt);
          long q0 = a.causal() ? ((long) j * kt) / qT : 0;
          long work = (qTiles - q0) * keys * a.group();
          all.add(new Item(b, g, j, keys, q0, qTiles, work));
          // reuse the forward's splitter: it only looks at work
          weighted.add(new AttentionLowering.Item(b, g, j, 0, 0, work, 0));
        }
      }
    }
    List<List<AttentionLowering.Item>> runs = AttentionLowering.split(weighted, cores);
    int idx = 0;
    boolean anyRmw = false;
    for (int c = 0; c < runs.size(); c++) {
      List<Item> mine = new ArrayList<>(all.subList(idx, idx + runs.get(c).size()));
      idx += runs.get(c).size();
      BwdCore bc = new BwdCore(t, a, f, pb.core(c), mine);
      anyRmw |= !bc.dqResident;
      bc.emit();
    }
    pb.flops(a.backwardFlops()).hbmBytesMin(a.backwardBytes());
    pb.note("flash attention bwd (FA2 order): items (batch, kv head, " + kt + "-key tile) over " + runs.size()
        + " cores; dK/dV accumulate in PSUM per item; 5 matmul groups per block"
        + (f.compact() ? "; compact tiling for " + t.name() + ": " + qT + "-row Q tiles, " + f.hpi() + " heads per Q-side load, head-dim chunks of "
        + f.dk() + ", " + f.piece() + "-key pieces" : ""));
    pb.note(anyRmw ? "dQ accumulated by fp32 read-modify-write in HBM (does not fit SBUF)" : "dQ accumulated in SBUF per (batch, kv head), stored once");
    return pb.build();
  }

  static final class BwdCore {
    final TargetSpec t;
    final AttentionSpec a;
    final ProgramBuilder.CoreBuilder core;
    final List<Item> items;
    final int group;
    final int d;
    final int nd;
    final int dk;
    final DType dt;
    final int parts;
    final int loadQ;
    final int storeQ0;
    final int storeQN;
    final boolean dqResident;
    final long qTiles;

    final int keyTile;
    final BwdTiles f;
    final int qTile;
    final int piece;
    /** Query rows per dK/dV contraction (the PE rows). */
    final int kq;

    BwdCore(TargetSpec t, AttentionSpec a, BwdTiles f, ProgramBuilder.CoreBuilder core, List<Item> items) {
      this.keyTile = f.keyTile();
      this.f = f;
      this.qTile = f.qTile();
      this.piece = f.piece();
      this.kq = Math.min(f.qTile(), t.peRows());
      this.t = t;
      this.a = a;
      this.core = core;
      this.items = items;
      this.group = (int) a.group();
      this.d = (int) a.d();
      this.parts = t.partitions();
      this.dk = f.dk();
      this.nd = (int) Kernels.ceilDiv(d, dk);
      this.dt = a.dtype();
      int q = t.dmaQueues();
      this.storeQN = q >= 8 ? 4 : 1;
      this.loadQ = Math.max(1, q - storeQN);
      this.storeQ0 = q == 1 ? 0 : loadQ;
      this.qTiles = Kernels.ceilDiv(a.s(), qTile);
      // K side (3 sets: the dQ matmuls that last read a set run two blocks late): K^T and V^T [D x 512] per D chunk, K [128 keys x pieces x D].
      long kSide = f.kSide(t, a);
      // Q side (3 sets): Q^T, dO^T [D x r*128] per D chunk, Q, dO [128 x r*D], LSE/delta.
      long qSide = f.qSide(t, a);
      long work = f.work(t, a); // P, dS, dS^T rings; dQ RMW slots
      long fixed = f.fixedBytes(t, a);
      long dqAll = f.compact() ? f.bytes(t, qTiles * qTile * group, (long) d * 4) : qTiles * group * (long) d * 4;
      long budget = (long) (t.sbufBytesPerPartition() * 0.9);
      if (fixed > budget) {
        throw new WorkloadException("attention", "attention.d", String.valueOf(a.d()), "backward tiles for " + group
            + " heads per kv head do not fit SBUF (" + fixed + " B per partition)");
      }
      this.dqResident = fixed + dqAll <= budget;
      core.alloc(MemSpace.SBUF, "K^T, V^T, K tiles (3 sets)", parts, kSide);
      core.alloc(MemSpace.SBUF, "Q^T, dO^T, Q, dO, LSE, delta (3 sets)", parts, qSide);
      core.alloc(MemSpace.SBUF, "P, dS, dS^T rings, dQ staging", parts, work + f.stats());
      if (dqResident) {
        core.alloc(MemSpace.SBUF, "dQ accumulators fp32", f.compact() ? parts : Q_TILE, Math.max(1, dqAll));
      }
      core.alloc(MemSpace.PSUM, "S, dP, dS^T, dQ, dK, dV", parts, f.compact() ? f.psumBytes(a) : t.psumBytesPerPartition());
    }

    void emit() {
      List<Block> blocks = new ArrayList<>();
      for (int i = 0; i < items.size(); i++) {
        Item it = items.get(i);
        for (long qt = it.qTiles0(); qt < it.qTiles1(); qt++) {
          for (int hh = 0; hh < group; hh++) {
            blocks.add(new Block(i, qt, hh, (int) Math.min(qTile, a.s() - qt * qTile), qt == it.qTiles0() && hh == 0,
                qt == it.qTiles1() - 1 && hh == group - 1, hh % f.hpi() == 0));
          }
        }
      }
      int n = blocks.size();
      Op[][] kLoad = new Op[items.size()][];
      Op[] kReader = new Op[3];
      Op[][] qLoad = new Op[n][];
      Op[] qReader = new Op[f.qSets()];
      int[] qSet = new int[n];
      int qSetNext = 0;
      Op[] sReader = new Op[2];
      Op[] dpReader = new Op[2];
      Op[] pReader = new Op[3];
      Op[] dsReader = new Op[3];
      Op[] dstReader = new Op[2];
      Op[] dstSbReader = new Op[3];
      Op[] dqReader = new Op[2];
      Op[] rmwStore = new Op[2];
      Op[] dkdvEvac = new Op[2];
      Op[] exp = new Op[n];
      Op[] ds = new Op[n];
      Op[] copy = new Op[n];
      Op[] lastDkDv = new Op[items.size()];
      // dQ accumulators of the core's current (batch, kv head) when resident: last writer per (q tile, head)
      java.util.Map<Long, Op> dqAcc = new java.util.HashMap<>();
      long curBg = -1;
      for (int s = 0; s < n + 2; s++) {
        if (s < n && blocks.get(s).head() == 0) {
          // One query tile of an item (all heads of its group) per iteration: the queues store the
          // repeating steps once (ProgramBuilder folds them; the stream is the same).
          core.iteration();
        }
        if (s < n) {
          Block bl = blocks.get(s);
          Item it = items.get(bl.item());
          if (bl.firstOfItem()) {
            kLoad[bl.item()] = loadK(it, kReader[bl.item() % 3]);
          }
          if (bl.firstHead()) {
            int set = qSetNext;
            qSetNext = (qSetNext + 1) % f.qSets();
            qLoad[s] = loadQSide(bl.qRows(), qReader[set]);
            qSet[s] = set;
          } else {
            qLoad[s] = qLoad[s - 1];
            qSet[s] = qSet[s - 1];
          }
          int keys = it.keys();
          TensorRef sPs = TensorRef.psum(bl.qRows(), keys, DType.FP32);
          Op sm = null;
          Op dpm = null;
          for (int c = 0; c < nd; c++) {
            int kk = Math.min(dk, d - c * dk);
            List<Op> deps = new ArrayList<>();
            AttentionLowering.addAll(deps, qLoad[s]);
            AttentionLowering.addAll(deps, kLoad[bl.item()]);
            if (sReader[s % 2] != null) {
              deps.add(sReader[s % 2]);
            }
            sm = core.add(new Instruction.MatMul(TensorRef.sbuf(kk, bl.qRows(), dt), TensorRef.sbuf(kk, keys, dt), sPs, c > 0),
                deps.toArray(new Op[0]));
          }
          for (int c = 0; c < nd; c++) {
            int kk = Math.min(dk, d - c * dk);
            dpm = core.add(new Instruction.MatMul(TensorRef.sbuf(kk, bl.qRows(), dt), TensorRef.sbuf(kk, keys, dt), sPs, c > 0),
                dpReader[s % 2]);
          }
          qReader[qSet[s]] = dpm;
          Op e = core.add(new Instruction.Activation(sPs, TensorRef.sbuf(bl.qRows(), keys, dt), ActFunc.EXP, false), sm, pReader[s % 3]);
          sReader[s % 2] = e;
          exp[s] = e;
          ds[s] = core.add(new Instruction.TensorTensor(EngineKind.VECTOR, sPs, TensorRef.sbuf(bl.qRows(), keys, dt),
              TensorRef.sbuf(bl.qRows(), keys, dt), AluOp.MULTIPLY), dpm, e, dsReader[s % 3]);
          dpReader[s % 2] = ds[s];
        }
        if (s >= 1 && s - 1 < n) {
          int i = s - 1;
          Block bl = blocks.get(i);
          Item it = items.get(bl.item());
          int keys = it.keys();
          int pieces = (int) Kernels.ceilDiv(keys, piece);
          Op last = null;
          for (int pc = 0; pc < pieces; pc++) {
            int kp = Math.min(piece, keys - pc * piece);
            // dV piece += P[q, keys]^T dO ; dK piece += dS^T Q, contracting over the block's queries in PE-row chunks
            for (int q0 = 0; q0 < bl.qRows(); q0 += kq) {
              int qq = Math.min(kq, bl.qRows() - q0);
              boolean acc = !bl.firstOfItem() || q0 > 0;
              boolean war = bl.firstOfItem() && pc == 0 && q0 == 0;
              last = core.add(new Instruction.MatMul(TensorRef.sbuf(qq, kp, dt), TensorRef.sbuf(qq, d, dt),
                  TensorRef.psum(kp, d, DType.FP32), acc), exp[i], war ? dkdvEvac[0] : null, war ? dkdvEvac[1] : null);
              last = core.add(new Instruction.MatMul(TensorRef.sbuf(qq, kp, dt), TensorRef.sbuf(qq, d, dt),
                  TensorRef.psum(kp, d, DType.FP32), acc), ds[i]);
            }
          }
          pReader[i % 3] = last;
          qReader[qSet[i]] = last; // Q and dO of this Q-side set are read by the dV/dK matmuls too
          Op tr = null;
          for (int pc = 0; pc < pieces; pc++) {
            int kp = Math.min(piece, keys - pc * piece);
            tr = core.add(new Instruction.Transpose(EngineKind.TENSOR, TensorRef.sbuf(bl.qRows(), kp, dt),
                TensorRef.psum(kp, bl.qRows(), dt)), ds[i], dstReader[i % 2]);
          }
          dsReader[i % 3] = tr;
          int kpAll = Math.min(piece, keys);
          copy[i] = core.add(new Instruction.Activation(TensorRef.psum(kpAll, (long) pieces * bl.qRows(), dt),
              TensorRef.sbuf(kpAll, (long) pieces * bl.qRows(), dt), ActFunc.IDENTITY, false), tr, dstSbReader[i % 3]);
          dstReader[i % 2] = copy[i];
          lastDkDv[bl.item()] = last;
          if (bl.lastOfItem()) {
            // evacuate dK and dV (vector and scalar in parallel) and store them
            TensorRef acc = TensorRef.psum(kpAll, (long) pieces * d, DType.FP32);
            TensorRef out = TensorRef.sbuf(kpAll, (long) pieces * d, dt);
            Op ev1 = core.add(new Instruction.TensorCopy(EngineKind.VECTOR, acc, out), last);
            Op ev2 = core.add(new Instruction.Activation(acc, out, ActFunc.IDENTITY, false), last);
            dkdvEvac = new Op[] {ev1, ev2};
            NormLowering.spread(core, storeQ0, storeQN, MemSpace.SBUF, MemSpace.HBM, kpAll, dt.bytes((long) pieces * d) * 2, ev1, ev2);
          }
        }
        if (s >= 2) {
          int i = s - 2;
          Block bl = blocks.get(i);
          Item it = items.get(bl.item());
          int keys = it.keys();
          int pieces = (int) Kernels.ceilDiv(keys, piece);
          TensorRef dq = TensorRef.psum(bl.qRows(), d, DType.FP32);
          Op mm = null;
          for (int pc = 0; pc < pieces; pc++) {
            int kp = Math.min(piece, keys - pc * piece);
            mm = core.add(new Instruction.MatMul(TensorRef.sbuf(kp, bl.qRows(), dt), TensorRef.sbuf(kp, d, dt), dq, pc > 0),
                copy[i], dqReader[i % 2]);
          }
          dstSbReader[i % 3] = mm;
          if (bl.lastOfItem()) {
            kReader[bl.item() % 3] = mm;
          }
          TensorRef acc = TensorRef.sbuf(bl.qRows(), d, DType.FP32);
          long bg = it.b() * a.kvHeads() + it.g();
          if (dqResident) {
            if (bg != curBg) {
              flushDq(dqAcc);
              curBg = bg;
            }
            long key = bl.qTile() * group + bl.head();
            Op prev = dqAcc.get(key);
            Op merge = prev == null
                ? core.add(new Instruction.TensorCopy(EngineKind.VECTOR, dq, acc), mm)
                : core.add(new Instruction.TensorTensor(EngineKind.VECTOR, dq, acc, acc, AluOp.ADD), mm, prev);
            dqAcc.put(key, merge);
            dqReader[i % 2] = merge;
          } else {
            Op[] old = NormLowering.spread(core, 0, 4, MemSpace.HBM, MemSpace.SBUF, bl.qRows(), (long) d * 4,
                rmwStore[i % 2] == null ? new Op[0] : new Op[] {rmwStore[i % 2]});
            Op merge = core.add(new Instruction.TensorTensor(EngineKind.VECTOR, dq, acc, acc, AluOp.ADD), Kernels.concat(old, mm));
            dqReader[i % 2] = merge;
            Op[] st = NormLowering.spread(core, storeQ0, storeQN, MemSpace.SBUF, MemSpace.HBM, bl.qRows(), (long) d * 4, merge);
            rmwStore[i % 2] = st[st.length - 1];
          }
        }
      }
      if (dqResident) {
        flushDq(dqAcc);
      }
    }

    /** Stores the resident dQ tiles (converted to the data type by the DMA) and forgets them. */
    void flushDq(java.util.Map<Long, Op> dqAcc) {
      if (dqAcc.isEmpty()) {
        return;
      }
      // one store per q tile for all heads of the group
      java.util.Map<Long, List<Op>> perTile = new java.util.TreeMap<>();
      for (var e : dqAcc.entrySet()) {
        perTile.computeIfAbsent(e.getKey() / group, k -> new ArrayList<>()).add(e.getValue());
      }
      for (var e : perTile.entrySet()) {
        int rows = (int) Math.min(qTile, a.s() - e.getKey() * qTile);
        NormLowering.spread(core, storeQ0, storeQN, MemSpace.SBUF, MemSpace.HBM, rows, dt.bytes((long) group * d),
            e.getValue().toArray(new Op[0]));
      }
      dqAcc.clear();
    }

    Op[] loadK(Item it, Op war) {
      Op[] w = war == null ? new Op[0] : new Op[] {war};
      if (f.compact()) {
        // K^T, V^T and K as tiles packed over all partitions
        return Kernels.concat(packed(dt.bytes(2L * d * it.keys()), w), packed(dt.bytes((long) it.keys() * d), w));
      }
      Op[] all = new Op[0];
      for (int c = 0; c < nd; c++) {
        int kk = Math.min(dk, d - c * dk);
        // K^T and V^T chunks
        all = Kernels.concat(all, NormLowering.spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, kk, dt.bytes(2L * it.keys()), w));
      }
      int pieces = (int) Kernels.ceilDiv(it.keys(), parts);
      return Kernels.concat(all, NormLowering.spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, Math.min(parts, it.keys()),
          dt.bytes((long) pieces * d), w));
    }

    /** {@code bytes} spread over all partitions, on the load queues. */
    Op[] packed(long bytes, Op[] war) {
      int p = (int) Math.min(parts, bytes);
      return NormLowering.spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, p, Kernels.ceilDiv(bytes, p), war);
    }

    Op[] loadQSide(int qRows, Op war) {
      Op[] w = war == null ? new Op[0] : new Op[] {war};
      if (f.compact()) {
        int r = f.hpi();
        return Kernels.concat(packed(dt.bytes(2L * d * r * qRows), w), packed(dt.bytes(2L * r * d * qRows) + 8L * r * qRows, w));
      }
      Op[] all = new Op[0];
      for (int c = 0; c < nd; c++) {
        int kk = Math.min(dk, d - c * dk);
        // Q^T and dO^T for all heads of the group
        all = Kernels.concat(all, NormLowering.spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, kk,
            dt.bytes(2L * group * qRows), w));
      }
      // Q and dO (queries on partitions) plus LSE and delta
      return Kernels.concat(all, NormLowering.spread(core, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, qRows,
          dt.bytes(2L * group * d) + 8L * group, w));
    }
  }
}
