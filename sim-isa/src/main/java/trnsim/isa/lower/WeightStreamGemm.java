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
import trnsim.isa.workload.WorkloadException;

/**
 * A linear layer of an inference graph, {@code Y^T[N x T] = W^T[N x K] X^T[K x T]}, in the
 * feature-major layout Transformers-NeuronX compiles (hidden on the leading dimension, tokens
 * after): activations enter and leave as {@code [features x tokens]}, so the weight tile is the
 * stationary operand ({@code [128 K x 128 N]}) and the tokens stream as the moving one (at most one
 * PSUM bank of them), which is also the short-moving-operand form the NKI guide recommends for
 * few tokens. Every weight element is read from HBM once per token block, at its storage width.
 *
 * <p>Per core: the token block's {@code X^T} is loaded once and kept resident; weights stream in
 * slabs of {@code [128 K rows x k-tiles x up to 512 N columns]} (at least 8 KiB per partition per
 * DMA, past the size-curve knee) through a three-slot ring. When the weights are stored narrower
 * than the compute type (int8 or fp8 storage, bf16 matmuls), each slab is de-quantised by one
 * element-wise convert on a SIMD engine into a compute-type copy before its matmuls: the converts
 * alternate between the engines given (the scale is per output channel, i.e. per PSUM partition,
 * so it is applied during the PSUM evacuation at no extra pass). Each {@code [128 N x tokens]}
 * accumulator is evacuated by the vector and scalar engines in turn and a group of up to four
 * N-tiles is stored with one DMA. Loads use the first three quarters of the DMA queues, stores the
 * rest. With {@code cores > 1} (a logical core of several physical ones) the N columns are split
 * evenly over them.
 */
public final class WeightStreamGemm {
  /** Weight slab slots: loads run two slabs ahead of the matmuls that free them. */
  static final int RING = 3;
  /** Bytes per partition a weight slab DMA moves at least. */
  static final long MIN_SLAB_BYTES_PP = 8192;

  private WeightStreamGemm() {}

  /** Shape and types of one linear layer. */
  public record Spec(String label, long tokens, long k, long n, DType compute, DType storage) {
    public Spec {
      if (tokens <= 0 || k <= 0 || n <= 0) {
        throw new WorkloadException("linear", label, tokens + "x" + k + "x" + n, "all sizes must be positive");
      }
    }

    public long flops() {
      return 2 * tokens * k * n;
    }

    public boolean dequantises() {
      return storage != compute;
    }
  }

  /** Lowers {@code s} on {@code cores} cores, de-quantising (if needed) on {@code dequantEngines} in turn. */
  public static Program lower(TargetSpec t, Spec s, int cores, List<EngineKind> dequantEngines) {
    return lower(t, s, cores, dequantEngines, new ProgramChain.Independent());
  }

  /** As above; the weight loads that need nothing from earlier kernels are recorded in {@code independent}. */
  public static Program lower(TargetSpec t, Spec s, int cores, List<EngineKind> dequantEngines, ProgramChain.Independent independent) {
    if (!t.supports(s.compute())) {
      throw new WorkloadException("linear", "dtype", s.compute().label(), t.name() + " does not support it");
    }
    int parts = t.partitions();
    long nTiles = Kernels.ceilDiv(s.n(), t.peCols());
    long kTiles = Kernels.ceilDiv(s.k(), parts);
    Kernels.guard("linear " + s.label(), (double) nTiles * kTiles * Kernels.tiles(s.tokens(), t.maxMovingFree()) * 1.2);
    cores = (int) Math.max(1, Math.min(Math.min(cores, t.cores()), nTiles));
    ProgramBuilder pb = new ProgramBuilder("linear " + s.label() + " tokens=" + s.tokens() + " k=" + s.k() + " n=" + s.n() + " "
        + s.compute().label() + (s.dequantises() ? " (" + s.storage().label() + " weights)" : ""), t.dmaQueues());
    Plan plan = plan(t, s);
    for (int c = 0; c < cores; c++) {
      long n0 = nTiles * c / cores;
      long n1 = nTiles * (c + 1) / cores;
      new CoreEmitter(t, s, plan, pb.core(c), n0, n1, dequantEngines, independent).emit();
    }
    pb.flops(s.flops());
    pb.hbmBytesMin((long) Math.ceil(s.k() * (double) s.n() * s.storage().bits() / 8.0) + s.compute().bytes(s.tokens() * (s.k() + s.n())));
    pb.note(String.format(java.util.Locale.ROOT, "weight-stationary linear: %d-token blocks (moving chunks of %d), weight slabs of %d k-tiles x %d"
        + " columns, %d-slot ring, %d cores%s", plan.tokenBlock, plan.tokenChunk, plan.kSlab, plan.nGroupTiles * t.peCols(), RING, cores,
        s.dequantises() ? "; " + s.storage().label() + " -> " + s.compute().label() + " convert per slab on " + dequantEngines : ""));
    return pb.build();
  }

  /**
   * Whether the kernel fits {@code t}: its SBUF buffers (resident X^T block, weight ring, output staging) in one
   * partition, and a matmul's contraction of all partitions in the PE rows.
   */
  public static boolean fits(TargetSpec t, Spec s) {
    if (t.kPerMatmul(s.compute()) < t.partitions()) {
      return false; // the kernel contracts a whole partition column per matmul (K = partitions)
    }
    Plan p = plan(t, s);
    long kTiles = Kernels.ceilDiv(s.k(), t.partitions());
    long cols = (long) p.nGroupTiles() * t.peCols();
    double wb = s.storage().bits() / 8.0;
    double bytes = kTiles * s.compute().bytes(p.tokenBlock()) + RING * Math.ceil(p.kSlab() * cols * wb)
        + (s.dequantises() ? RING * s.compute().bytes(p.kSlab() * cols) : 0) + 2 * s.compute().bytes(p.nGroupTiles() * p.tokenBlock());
    return bytes <= t.sbufBytesPerPartition();
  }

  /** Blocking of one linear layer. */
  record Plan(long tokenBlock, long tokenChunk, long kSlab, int nGroupTiles) {}

  static Plan plan(TargetSpec t, Spec s) {
    int parts = t.partitions();
    long kTiles = Kernels.ceilDiv(s.k(), parts);
    long xBytesPerToken = kTiles * s.compute().bytes(1);
    long sbuf = t.sbufBytesPerPartition();
    long chunk = Math.min(s.tokens(), t.maxMovingFree());
    // X^T of a token block stays resident: at most ~35% of a partition.
    long block = Math.max(chunk, Math.min(s.tokens(), (long) (0.35 * sbuf) / Math.max(1, xBytesPerToken)));
    // ... and its accumulators (one PSUM region per chunk for at least one N-tile) fit half of PSUM.
    long maxChunks = Math.max(1, t.psumBytesPerPartition() / 2 / (chunk * 4));
    block = Math.min(block, maxChunks * chunk);
    if (block > chunk) {
      block = (block / chunk) * chunk;
    }
    long chunksPerBlock = Kernels.ceilDiv(block, chunk);
    // Accumulators of one N-group use at most half of PSUM, so the next group can start while this one drains.
    long accBytes = chunksPerBlock * chunk * 4;
    double wb = s.storage().bits() / 8.0;
    // Four N-tiles per group, more when K is so short that a slab of all of K would stay under the DMA size
    // target (an output projection from few heads), within the PSUM budget and the N-tiles there are.
    long nTiles = Kernels.ceilDiv(s.n(), t.peCols());
    long wanted = Math.max(4, (long) Math.ceil(MIN_SLAB_BYTES_PP / (kTiles * t.peCols() * wb)));
    int group = (int) Math.max(1, Math.min(Math.min(wanted, nTiles), t.psumBytesPerPartition() / 2 / Math.max(1, accBytes)));
    long cols = (long) group * t.peCols();
    long kSlab = Math.max(1, Math.min(kTiles, (long) Math.ceil(MIN_SLAB_BYTES_PP / (cols * wb))));
    // The weight ring (storage copy plus converted copy) must fit next to X and the output staging.
    while (kSlab > 1 && RING * kSlab * cols * (wb + (s.dequantises() ? s.compute().bytes(1) : 0))
        + block * xBytesPerToken + 2L * group * block * s.compute().bytes(1) > 0.9 * sbuf) {
      kSlab /= 2;
    }
    return new Plan(block, chunk, kSlab, group);
  }

  private static final class CoreEmitter {
    final TargetSpec t;
    final Spec s;
    final Plan p;
    final ProgramBuilder.CoreBuilder c;
    final long n0;
    final long n1;
    final List<EngineKind> dq;
    final int loadQ;
    final int storeQ;
    final Op[] slotReader = new Op[RING];
    final Op[] slotConverted = new Op[RING];
    final Op[][] slotLoad = new Op[RING][];
    int nextSlot;
    int nextDq;
    int evacToggle;
    int stagingToggle;
    /** Per PSUM half (n-group parity): the evacuations that free it. */
    final List<List<Op>> accFree = new ArrayList<>(List.of(new ArrayList<>(), new ArrayList<>()));
    final Op[][] stagingStore = new Op[2][];

    final ProgramChain.Independent independent;

    CoreEmitter(TargetSpec t, Spec s, Plan p, ProgramBuilder.CoreBuilder c, long n0, long n1, List<EngineKind> dq,
        ProgramChain.Independent independent) {
      this.independent = independent;
      this.t = t;
      this.s = s;
      this.p = p;
      this.c = c;
      this.n0 = n0;
      this.n1 = n1;
      this.dq = dq.isEmpty() ? List.of(EngineKind.VECTOR) : dq;
      // Queues split between loads and stores in proportion to their bytes (outputs are as large as the
      // weights in a long context-encoding pass, and negligible in decode).
      double loads = s.k() * (double) (n1 - n0) * t.peCols() * s.storage().bits() / 8.0 * Kernels.ceilDiv(s.tokens(), p.tokenBlock())
          + s.compute().bytes(s.tokens() * s.k());
      double stores = s.compute().bytes(s.tokens() * (n1 - n0) * t.peCols());
      this.loadQ = InferenceLowering.loadShare(t.dmaQueues(), loads, stores);
      this.storeQ = t.dmaQueues() - loadQ;
    }

    void emit() {
      int parts = t.partitions();
      long kTiles = Kernels.ceilDiv(s.k(), parts);
      long cols = (long) p.nGroupTiles() * t.peCols();
      double wb = s.storage().bits() / 8.0;
      long slabPP = (long) Math.ceil(p.kSlab() * cols * wb);
      c.alloc(MemSpace.SBUF, "X^T token block", parts, kTiles * s.compute().bytes(p.tokenBlock()));
      c.alloc(MemSpace.SBUF, "weight slab ring (" + s.storage().label() + ")", parts, RING * slabPP);
      if (s.dequantises()) {
        c.alloc(MemSpace.SBUF, "de-quantised slab ring", parts, RING * s.compute().bytes(p.kSlab() * cols));
      }
      c.alloc(MemSpace.SBUF, "output staging", parts, 2 * s.compute().bytes(p.nGroupTiles() * p.tokenBlock()));
      c.alloc(MemSpace.PSUM, "accumulators", parts, t.psumBytesPerPartition());
      int group = 0;
      for (long tb0 = 0; tb0 < s.tokens(); tb0 += p.tokenBlock()) {
        long tb = Math.min(p.tokenBlock(), s.tokens() - tb0);
        int kp = (int) Math.min(parts, s.k());
        // X^T block: one load, waiting for nothing (the previous block's readers are ordered by the tensor queue).
        // K rows spread over the partitions: exactly K x tokens elements move
        Op[] xLoad = Kernels.spreadDma(c, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, kp, Kernels.ceilDiv(s.compute().bytes(s.k() * tb), kp));
        boolean xAwaited = false;
        for (long g0 = n0; g0 < n1; g0 += p.nGroupTiles()) {
          long g1 = Math.min(n1, g0 + p.nGroupTiles());
          int half = group++ % 2;
          List<Op> free = accFree.get(half);
          Op[] lastMm = new Op[(int) ((g1 - g0) * Kernels.ceilDiv(tb, p.tokenChunk()))];
          long groupCols = Math.min(s.n(), g1 * t.peCols()) - g0 * t.peCols();
          for (long ks = 0; ks < kTiles; ks += p.kSlab()) {
            long ke = Math.min(kTiles, ks + p.kSlab());
            long rows = Math.min(s.k(), ke * parts) - ks * parts;
            int slot = nextSlot;
            nextSlot = (nextSlot + 1) % RING;
            Op war = slotReader[slot];
            long bytesPP = (long) Math.ceil(rows * groupCols * wb / Math.min(parts, rows));
            Op[] load;
            if (war == null) {
              load = Kernels.spreadDma(c, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, (int) Math.min(parts, rows), bytesPP);
              independent.add(c.index(), load);
            } else {
              load = Kernels.spreadDma(c, 0, loadQ, MemSpace.HBM, MemSpace.SBUF, (int) Math.min(parts, rows), bytesPP, war);
            }
            Op[] ready = load;
            if (s.dequantises()) {
              EngineKind e = dq.get(nextDq++ % dq.size());
              TensorRef in = TensorRef.sbuf((int) Math.min(parts, rows), (ke - ks) * groupCols, s.storage());
              TensorRef out = TensorRef.sbuf((int) Math.min(parts, rows), (ke - ks) * groupCols, s.compute());
              Instruction conv = e == EngineKind.SCALAR ? new Instruction.Activation(in, out, ActFunc.IDENTITY, false)
                  : new Instruction.TensorCopy(e, in, out);
              Op[] deps = war == null ? load : Kernels.concat(load, war);
              ready = new Op[] {c.add(conv, deps)};
            }
            int acc = 0;
            for (long nt = g0; nt < g1; nt++) {
              long nSize = Math.min(t.peCols(), s.n() - nt * t.peCols());
              for (long kt = ks; kt < ke; kt++) {
                int kSize = (int) Math.min(parts, s.k() - kt * parts);
                int a = acc;
                for (long ch = 0; ch < tb; ch += p.tokenChunk()) {
                  long cs = Math.min(p.tokenChunk(), tb - ch);
                  List<Op> deps = new ArrayList<>();
                  if (kt == ks) {
                    for (Op o : ready) {
                      deps.add(o);
                    }
                  }
                  if (!xAwaited) {
                    for (Op o : xLoad) {
                      deps.add(o);
                    }
                    xAwaited = true;
                  }
                  if (kt == 0) {
                    deps.addAll(free);
                  }
                  Op mm = c.add(new Instruction.MatMul(TensorRef.sbuf(kSize, nSize, s.compute()), TensorRef.sbuf(kSize, cs, s.compute()),
                      TensorRef.psum((int) nSize, cs, DType.FP32), kt > 0), deps.toArray(new Op[0]));
                  lastMm[a++] = mm;
                  slotReader[slot] = mm;
                }
              }
              acc += (int) Kernels.ceilDiv(tb, p.tokenChunk());
            }
          }
          evacuateAndStore(lastMm, g0, g1, tb, free);
        }
      }
    }

    /** Drains one N-group's accumulators to SBUF (scale fused) and stores them with one DMA. */
    void evacuateAndStore(Op[] lastMm, long g0, long g1, long tb, List<Op> free) {
      int slot = stagingToggle++ % 2;
      Op[] prevStore = stagingStore[slot];
      free.clear();
      List<Op> evacs = new ArrayList<>();
      int a = 0;
      for (long nt = g0; nt < g1; nt++) {
        int nSize = (int) Math.min(t.peCols(), s.n() - nt * t.peCols());
        for (long ch = 0; ch < tb; ch += p.tokenChunk()) {
          long cs = Math.min(p.tokenChunk(), tb - ch);
          TensorRef ps = TensorRef.psum(nSize, cs, DType.FP32);
          TensorRef sb = TensorRef.sbuf(nSize, cs, s.compute());
          Op[] deps = prevStore != null && a == 0 ? Kernels.concat(prevStore, lastMm[a]) : new Op[] {lastMm[a]};
          Op ev = (evacToggle++ & 1) == 0
              ? c.add(new Instruction.TensorScalar(EngineKind.VECTOR, ps, sb, AluOp.MULTIPLY), deps)
              : c.add(new Instruction.Activation(ps, sb, ActFunc.IDENTITY, false), deps);
          evacs.add(ev);
          free.add(ev);
          a++;
        }
      }
      long groupCols = Math.min(s.n(), g1 * t.peCols()) - g0 * t.peCols();
      int rows = (int) Math.min(t.peCols(), groupCols);
      long bytesPP = Kernels.ceilDiv(s.compute().bytes(groupCols * tb), rows);
      stagingStore[slot] = Kernels.spreadDma(c, loadQ, storeQ, MemSpace.SBUF, MemSpace.HBM, rows, bytesPP, evacs.toArray(new Op[0]));
    }
  }
}
