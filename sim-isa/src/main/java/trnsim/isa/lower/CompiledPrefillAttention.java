package trnsim.isa.lower;

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
 * Causal self-attention of a context-encoding pass as a compiled (XLA) graph computes it on one
 * rank, without a fused flash-attention kernel: for each 128-query tile of each (sequence, head),
 * the whole score row block {@code [128 x prompt]} (the causal mask is applied, not skipped, in a
 * static-shape graph), the same softmax op sequence as the token-generation graph
 * ({@link CompiledDecodeAttention}: mask select, max, subtract, exp, mask select, sum, cast, one
 * instruction each over the row block), then {@code P V} by tensor-engine transposes of
 * 128-position pieces of {@code P}. K^T and V of a (sequence, kv head) stay resident in SBUF while
 * its query tiles pass; the query tiles of one pair are software-pipelined two deep (scores of tile
 * i+1 while the softmax of tile i runs).
 */
public final class CompiledPrefillAttention {
  static final int SLOTS = 2;

  private CompiledPrefillAttention() {}

  public static Program lower(TargetSpec t, AttentionSpec a) {
    int parts = t.partitions();
    int d = (int) a.d();
    long span = a.sKv();
    long qTiles = Kernels.ceilDiv(a.s(), parts);
    long kPieces = Kernels.ceilDiv(span, parts);
    long blocks = Kernels.ceilDiv(span, t.maxMovingFree());
    Kernels.guard("attention-prefill", (double) a.b() * a.h() * qTiles * (blocks * 2 + kPieces * 3 + 12));
    if (d > parts) {
      throw new trnsim.isa.workload.WorkloadException("attention", "attention.d", String.valueOf(d), "head dims up to " + parts);
    }
    DType dt = a.dtype();
    long rowBytes = 4 * span + dt.bytes(span);
    if (SLOTS * rowBytes + dt.bytes(span) + dt.bytes(kPieces * d) + 4096 > t.sbufBytesPerPartition()) {
      throw new trnsim.isa.workload.WorkloadException("attention", "attention.s", String.valueOf(a.s()),
          "the compiled-graph attention keeps a whole [128 x " + span + "] score block in SBUF; it does not fit (use attention=flash)");
    }
    ProgramBuilder pb = new ProgramBuilder("attention prefill (compiled graph) b=" + a.b() + " heads=" + a.h() + "/" + a.kvHeads()
        + " s=" + a.s() + " " + dt.label(), t.dmaQueues());
    var c = pb.core(0);
    c.alloc(MemSpace.SBUF, "K^T, V of one (sequence, kv head)", parts, dt.bytes(span) + dt.bytes(kPieces * d));
    c.alloc(MemSpace.SBUF, "score blocks and probabilities", parts, SLOTS * rowBytes);
    c.alloc(MemSpace.SBUF, "Q^T, P^T pieces, O", parts, 2 * dt.bytes(parts) + 2 * dt.bytes(4L * parts) + 8 * d);
    c.alloc(MemSpace.PSUM, "scores, P^T, O^T", parts, t.psumBytesPerPartition());
    int lq = Kernels.loadQueues(t.dmaQueues());
    Op[] blockFree = new Op[SLOTS];
    Op[] kvReader = null;
    int slot = 0;
    for (long b = 0; b < a.b(); b++) {
      for (long g = 0; g < a.kvHeads(); g++) {
        Op[] kv = Kernels.concat(
            Kernels.spreadDma(c, 0, lq, MemSpace.HBM, MemSpace.SBUF, d, dt.bytes(span), kvReader == null ? new Op[0] : kvReader),
            Kernels.spreadDma(c, 0, lq, MemSpace.HBM, MemSpace.SBUF, (int) Math.min(parts, span), dt.bytes(kPieces * d),
                kvReader == null ? new Op[0] : kvReader));
        Op lastPv = null;
        for (long h = 0; h < a.group(); h++) {
          for (long qt = 0; qt < qTiles; qt++) {
            int rows = (int) Math.min(parts, a.s() - qt * parts);
            Op[] q = Kernels.spreadDma(c, 0, lq, MemSpace.HBM, MemSpace.SBUF, d, dt.bytes(rows));
            Op evac = null;
            for (long k0 = 0, i = 0; k0 < span; k0 += t.maxMovingFree(), i++) {
              long w = Math.min(t.maxMovingFree(), span - k0);
              Op[] deps = Kernels.concat(Kernels.concat(q, kv), blockFree[slot] == null ? new Op[0] : new Op[] {blockFree[slot]});
              Op mm = c.add(new Instruction.MatMul(TensorRef.sbuf(d, rows, dt), TensorRef.sbuf(d, w, dt), TensorRef.psum(rows, w,
                  DType.FP32), false), deps);
              TensorRef ps = TensorRef.psum(rows, w, DType.FP32);
              TensorRef sb = TensorRef.sbuf(rows, w, DType.FP32);
              evac = (i & 1) == 0 ? c.add(new Instruction.TensorCopy(EngineKind.VECTOR, ps, sb), mm)
                  : c.add(new Instruction.Activation(ps, sb, ActFunc.IDENTITY, false), mm);
            }
            TensorRef s = TensorRef.sbuf(rows, span, DType.FP32);
            Op sel = c.add(new Instruction.TensorTensor(EngineKind.VECTOR, s, s, s, AluOp.BYPASS), evac);
            Op max = c.add(new Instruction.TensorReduce(EngineKind.VECTOR, s, TensorRef.sbuf(rows, 1, DType.FP32), AluOp.MAX), sel);
            Op sub = c.add(new Instruction.TensorScalar(EngineKind.VECTOR, s, s, AluOp.SUBTRACT), max);
            Op exp = c.add(new Instruction.Activation(s, s, ActFunc.EXP, false), sub);
            Op sel2 = c.add(new Instruction.TensorTensor(EngineKind.VECTOR, s, s, s, AluOp.BYPASS), exp);
            Op sum = c.add(new Instruction.TensorReduce(EngineKind.VECTOR, s, TensorRef.sbuf(rows, 1, DType.FP32), AluOp.ADD), sel2);
            Op cast = c.add(new Instruction.TensorCopy(EngineKind.VECTOR, s, TensorRef.sbuf(rows, span, dt)), sum);
            // P^T pieces by tensor-engine transposes (four per PSUM bank, one copy per bank) and O^T += V^T P^T
            Op pv = null;
            for (long p0 = 0; p0 < kPieces; p0 += 4) {
              int n = (int) Math.min(4, kPieces - p0);
              Op tr = null;
              for (int i = 0; i < n; i++) {
                tr = c.add(new Instruction.Transpose(EngineKind.TENSOR, TensorRef.sbuf(rows, parts, dt), TensorRef.psum(parts, rows,
                    DType.FP32)), cast);
              }
              Op cp = c.add(new Instruction.Activation(TensorRef.psum(parts, (long) n * rows, DType.FP32),
                  TensorRef.sbuf(parts, (long) n * rows, dt), ActFunc.IDENTITY, false), tr);
              for (int i = 0; i < n; i++) {
                int kp = (int) Math.min(parts, span - (p0 + i) * parts);
                pv = c.add(new Instruction.MatMul(TensorRef.sbuf(kp, d, dt), TensorRef.sbuf(kp, rows, dt), TensorRef.psum(d, rows,
                    DType.FP32), p0 + i > 0), cp);
              }
            }
            blockFree[slot] = pv;
            slot = (slot + 1) % SLOTS;
            Op oc = c.add(new Instruction.Activation(TensorRef.psum(d, rows, DType.FP32), TensorRef.sbuf(d, rows, DType.FP32),
                ActFunc.IDENTITY, false), pv);
            Op o = c.add(new Instruction.TensorTensor(EngineKind.GPSIMD, TensorRef.sbuf(d, rows, DType.FP32), TensorRef.sbuf(d, rows,
                DType.FP32), TensorRef.sbuf(d, rows, dt), AluOp.MULTIPLY), oc);
            Kernels.spreadDma(c, lq, t.dmaQueues() - lq, MemSpace.SBUF, MemSpace.HBM, d, dt.bytes(rows), o);
            lastPv = pv;
          }
        }
        kvReader = new Op[] {lastPv};
      }
    }
    pb.flops(a.forwardFlops()).hbmBytesMin(a.forwardBytes());
    pb.note("compiled-graph attention (no flash kernel): full [128 x " + span + "] score blocks, causal mask applied, softmax as"
        + " mask, max, subtract, exp, mask, sum, cast; " + kPieces + " P^T transposes per query tile");
    return pb.build();
  }
}
