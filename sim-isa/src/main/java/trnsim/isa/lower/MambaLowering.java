package trnsim.isa.lower;

import trnsim.isa.ActFunc;
import trnsim.isa.AluOp;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.Instruction;
import trnsim.isa.Program;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.TensorRef;
import trnsim.isa.lower.TileKernel.Tile;
import trnsim.isa.target.TargetSpec;

/**
 * The NKI fused Mamba tutorial's selective-scan kernels ({@code mamba_v1}, {@code _v2}, {@code _v3}),
 * written as the tutorial writes them and planned by {@link TileKernel} (dependencies, SBUF
 * allocation, spills). For each batch, channel tile (128 channels on the partitions), state and
 * sequence position:
 * {@code h = exp(delta * A) * h + delta * u * B}, {@code out += C * h}.
 *
 * <p>Per body (one batch, state, channel tile and, in v3, sequence tile of F columns): ScalarE
 * {@code activation exp(delta * A)} (A is the per-partition scale); VectorE {@code delta * u};
 * TensorE broadcasts the B row to 128 partitions (a matmul against a ones stationary into PSUM);
 * VectorE {@code deltaU * B}, {@code tensor_tensor_scan} (multiply, add), {@code scan * C} (C
 * broadcast like B) and the accumulation {@code accum += scanC}. Loop orders:
 * <ul>
 *   <li>v1: batch &gt; state &gt; channel tile &gt; body, every input loaded inside the body; one
 *       accumulator per channel tile for all states; stores after the state loop.
 *   <li>v2: batch &gt; channel tile (delta and u loaded once, accumulator zeroed) &gt; state &gt; body
 *       (A, B and C rows loaded); store.
 *   <li>v3: as v2, and inside the state loop a carry is zeroed and the sequence is walked in tiles of
 *       {@code seqTile}: the scan starts from the carry and its last column is copied into it.
 * </ul>
 *
 * <p>What the compiler is assumed to do (docs/model.md, "Fused Mamba kernel"): with {@code hoist},
 * {@code delta * u}, which does not depend on the state, is computed once per channel tile (and
 * sequence tile) before the state loop (v2, v3; in v1 the loads it reads are inside the state loop).
 * A broadcast wider than one PSUM bank cannot stay in PSUM (a PSUM tile is at most one bank): it is
 * built bank by bank and copied to SBUF by ScalarE, and its consumer reads SBUF (2N instead of N).
 * v1's delta/u reloads are kept as written (16x).
 */
public final class MambaLowering {
  private MambaLowering() {}

  /**
   * @param channels channels (partitions, in tiles of 128)
   * @param seq sequence length (free dimension)
   * @param state state size (the accumulated axis)
   * @param batch batch size
   * @param version 1, 2 or 3
   * @param seqTile v3's sequence tile (512 in the tutorial)
   * @param hoist whether the state-invariant {@code delta * u} is hoisted out of the state loop (v2, v3)
   */
  public record Spec(long channels, long seq, long state, long batch, int version, long seqTile, boolean hoist,
      DType dtype) {
    public Spec {
      if (version < 1 || version > 3) {
        throw new IllegalArgumentException("version must be 1, 2 or 3");
      }
      if (channels <= 0 || seq <= 0 || state <= 0 || batch <= 0 || seqTile <= 0 || dtype == null) {
        throw new IllegalArgumentException("mamba sizes must be positive: channels " + channels + ", seq " + seq
            + ", state " + state + ", batch " + batch + ", seq_tile " + seqTile);
      }
    }
  }

  /** The program and, per core, what the tile planner did (allocation peak, spills, DMAs). */
  public record Lowered(Program program, java.util.List<TileKernel.Plan> plans) {
    public Lowered {
      plans = java.util.List.copyOf(plans);
    }
  }

  public static Program lower(TargetSpec t, Spec s, int coresRequested) {
    return lowerWithPlans(t, s, coresRequested).program();
  }

  public static Lowered lowerWithPlans(TargetSpec t, Spec s, int coresRequested) {
    int parts = t.partitions();
    long nct = Kernels.ceilDiv(s.channels(), parts);
    long items = s.batch() * nct;
    int cores = (int) Math.max(1, Math.min(Math.min(coresRequested, t.cores()), s.version() == 1 ? s.batch() : items));
    long written = s.version() == 3 ? Math.min(s.seqTile(), s.seq()) : s.seq();
    long fit = fitColumns(t, s);
    long width = Math.min(written, fit);
    long seqTiles = width < s.seq() ? Kernels.ceilDiv(s.seq(), width) : 1;
    long bank = t.psumBankFp32Elements();
    long chunks = Kernels.ceilDiv(width, bank);
    // Instructions per body, generously: ~10 compute, a matmul and a copy per broadcast bank (two
    // broadcasts), two row loads, and a 128-partition load spread over every DMA queue.
    double perBody = 10 + 4.0 * chunks + 2 + t.dmaQueues();
    Kernels.guard("mamba", s.batch() * (double) nct * s.state() * seqTiles * perBody);
    String name = String.format(java.util.Locale.ROOT, "mamba v%d channels=%d seq=%d state=%d batch=%d %s", s.version(),
        s.channels(), s.seq(), s.state(), s.batch(), s.dtype().label());
    ProgramBuilder pb = new ProgramBuilder(name, t.dmaQueues());
    TileKernel.Plan worst = null;
    java.util.List<TileKernel.Plan> plans = new java.util.ArrayList<>();
    long spillStores = 0;
    long spillBytes = 0;
    long reloadBytes = 0;
    for (int c = 0; c < cores; c++) {
      TileKernel k = new TileKernel(t.sbufBytesPerPartition(), t.psumBytesPerPartition());
      Body body = new Body(t, s, k);
      if (width < written) {
        // the kernel's full-width tiles do not fit this target's partitions: sequence chunks with carries
        if (s.version() == 1) {
          for (long b = c; b < s.batch(); b += cores) {
            body.v1Chunked(nct, width);
          }
        } else {
          for (long item = c; item < items; item += cores) {
            body.chunked(tilePartitions(s, item % nct, parts), width);
          }
        }
      } else if (s.version() == 1) {
        for (long b = c; b < s.batch(); b += cores) {
          body.v1(nct);
        }
      } else {
        for (long item = c; item < items; item += cores) {
          body.v23(tilePartitions(s, item % nct, parts));
        }
      }
      var core = pb.core(c);
      TileKernel.Plan plan = k.emit(core, TileKernel.Queues.split(t.dmaQueues()), t.dmaQueues());
      plans.add(plan);
      core.alloc(trnsim.isa.MemSpace.SBUF, "mamba tiles (peak live)", parts, Math.max(1, plan.peakSbufBytesPerPartition()));
      if (plan.peakPsumBytesPerPartition() > 0) {
        core.alloc(trnsim.isa.MemSpace.PSUM, "broadcast banks (peak live)", parts, plan.peakPsumBytesPerPartition());
      }
      spillStores += plan.spillStores() + plan.cleanEvictions();
      spillBytes += plan.spillBytes();
      reloadBytes += plan.reloadBytes();
      if (worst == null || plan.peakSbufBytesPerPartition() > worst.peakSbufBytesPerPartition()) {
        worst = plan;
      }
    }
    long el = s.dtype().bytes(1);
    long du = 2 * s.batch() * s.channels() * s.seq() * el;
    long bc = 2 * s.batch() * s.state() * s.seq() * el;
    long a = s.channels() * s.state() * el;
    long out = s.batch() * s.channels() * s.seq() * el;
    // Vector and scalar work: no tensor-engine FLOPs besides the broadcasts (counted by the simulator).
    pb.flops(0).hbmBytesMin(du + bc + a + out);
    pb.note(String.format(java.util.Locale.ROOT, "v%d: %d channel tiles x %d states x %d seq tiles of %d columns; "
        + "delta*u %s; broadcasts %s; %d cores", s.version(), nct, s.state(), seqTiles,
        width,
        s.version() == 1 ? "per body" : (s.hoist() ? "hoisted out of the state loop" : "per body"),
        chunks == 1 ? "read from PSUM" : "built in " + chunks + " PSUM banks and copied to SBUF by ScalarE", cores));
    pb.note(String.format(java.util.Locale.ROOT, "SBUF peak %d of %d B per partition; %s", worst.peakSbufBytesPerPartition(),
        t.sbufBytesPerPartition(), spillStores == 0 ? "no spills"
            : String.format(java.util.Locale.ROOT, "%d evictions, %.1f MiB spilled, %.1f MiB reloaded", spillStores,
                spillBytes / 1048576.0, reloadBytes / 1048576.0)));
    return new Lowered(pb.build(), plans);
  }

  /**
   * Live tiles of one body (accumulator, delta, u, delta*u, exp(delta*A), the B and C rows and
   * broadcasts, deltaBu, scan, scanC): a body of {@code f} columns keeps about this many
   * {@code f}-column tiles resident.
   */
  static final int LIVE_TILES = 12;

  /**
   * Columns of one body. The kernel's own width wherever the tiles of its widest instruction fit a
   * partition (the scan reads exp(delta*A) and deltaBu and writes scan: three full-width tiles plus
   * the carry column; the planner spills the rest), which holds on every Trainium target at the
   * tutorial's sizes, so those programs are unchanged. Where they do not (the GPU templates: 3,648 B
   * per partition), the largest power of two of which {@link #LIVE_TILES} fit 90% of a partition, at
   * most one PSUM bank so the broadcasts stay in PSUM; the sequence is then walked in chunks of that
   * width with one scan carry per state, which is exact: the scan's state at a chunk boundary is
   * all the next chunk needs.
   */
  static long fitColumns(TargetSpec t, Spec s) {
    long el = s.dtype().bytes(1);
    long written = s.version() == 3 ? Math.min(s.seqTile(), s.seq()) : s.seq();
    if (3 * written * el + el <= t.sbufBytesPerPartition()) {
      return written;
    }
    long budget = (long) (0.9 * t.sbufBytesPerPartition());
    long f = Math.max(1, Math.min(t.psumBankFp32Elements(), budget / (LIVE_TILES * el)));
    return Long.highestOneBit(f);
  }

  static int tilePartitions(Spec s, long ct, int parts) {
    long rest = s.channels() - ct * parts;
    return (int) Math.min(parts, rest);
  }

  /** Emits the kernel's ops into one core's tile kernel. */
  private static final class Body {
    private final TargetSpec t;
    private final Spec s;
    private final TileKernel k;
    private final DType dt;
    private final int parts;
    private final long bank;
    private Tile ones;

    Body(TargetSpec t, Spec s, TileKernel k) {
      this.t = t;
      this.s = s;
      this.k = k;
      this.dt = s.dtype();
      this.parts = t.partitions();
      this.bank = t.psumBankFp32Elements();
    }

    private TensorRef sb(int p, long f) {
      return TensorRef.sbuf(p, f, dt);
    }

    private Tile tile(String name, int p, long f) {
      return k.sbuf(name, p, dt.bytes(f));
    }

    /** The ones row the broadcasts multiply by (stationary [1 x 128]), set once per core. */
    private Tile ones() {
      if (ones == null) {
        ones = tile("ones", 1, parts);
        k.compute(new Instruction.Memset(EngineKind.VECTOR, sb(1, parts)), TileKernel.of(), TileKernel.of(ones));
      }
      return ones;
    }

    /** v1 as written: the whole sequence in one walk (the one-chunk case of {@link #v1Chunked}, no carries). */
    void v1(long nct) {
      v1Chunked(nct, s.seq());
    }

    void v23(int p) {
      long seq = s.seq();
      long ft = s.version() == 3 ? Math.min(s.seqTile(), seq) : seq;
      int tilesN = (int) Kernels.ceilDiv(seq, ft);
      Tile[] acc = new Tile[tilesN];
      Tile[] delta = new Tile[tilesN];
      Tile[] u = new Tile[tilesN];
      for (int j = 0; j < tilesN; j++) {
        long f = width(j, ft);
        acc[j] = tile("accum", p, f);
        delta[j] = tile("delta", p, f);
        u[j] = tile("u", p, f);
      }
      k.compute(new Instruction.Memset(EngineKind.VECTOR, sb(p, seq)), TileKernel.of(), acc);
      k.load(delta);
      k.load(u);
      Tile[] deltaU = new Tile[tilesN];
      if (s.hoist()) {
        for (int j = 0; j < tilesN; j++) {
          deltaU[j] = multiply(p, width(j, ft), delta[j], u[j], "deltaU");
        }
      }
      for (long st = 0; st < s.state(); st++) {
        Tile a = tile("A", p, 1);
        k.load(a);
        Tile carry = null;
        if (s.version() == 3) {
          carry = tile("scan carry", p, 1);
          k.compute(new Instruction.Memset(EngineKind.VECTOR, sb(p, 1)), TileKernel.of(), TileKernel.of(carry));
        }
        for (int j = 0; j < tilesN; j++) {
          long f = width(j, ft);
          Tile deltaA = activation(p, f, delta[j], a);
          Tile du = s.hoist() ? deltaU[j] : null;
          state(p, f, deltaA, du, s.hoist() ? null : new Tile[] {delta[j], u[j]}, acc[j], carry);
        }
      }
      k.store(acc);
    }

    /**
     * v2/v3 on a target whose partitions cannot hold the written tiles: channel tile &gt; sequence
     * chunk of {@code f} columns (delta, u loaded, accumulator zeroed, delta*u hoisted) &gt; state
     * (A loaded; the scan starts from that state's carry, zeroed at the first chunk, and its last
     * column is copied back) &gt; body; the chunk's accumulator is stored after its state loop.
     */
    void chunked(int p, long f) {
      Tile[] carry = new Tile[(int) s.state()];
      for (int st = 0; st < carry.length; st++) {
        carry[st] = tile("scan carry", p, 1);
        k.compute(new Instruction.Memset(EngineKind.VECTOR, sb(p, 1)), TileKernel.of(), TileKernel.of(carry[st]));
      }
      int n = (int) Kernels.ceilDiv(s.seq(), f);
      for (int j = 0; j < n; j++) {
        long w = width(j, f);
        Tile acc = tile("accum", p, w);
        Tile delta = tile("delta", p, w);
        Tile u = tile("u", p, w);
        k.compute(new Instruction.Memset(EngineKind.VECTOR, sb(p, w)), TileKernel.of(), TileKernel.of(acc));
        k.load(delta);
        k.load(u);
        Tile du = s.hoist() ? multiply(p, w, delta, u, "deltaU") : null;
        for (int st = 0; st < carry.length; st++) {
          Tile a = tile("A", p, 1);
          k.load(a);
          Tile deltaA = activation(p, w, delta, a);
          state(p, w, deltaA, du, du != null ? null : new Tile[] {delta, u}, acc, carry[st]);
        }
        k.store(acc);
      }
    }

    /**
     * v1 on a small-partition target: batch &gt; sequence chunk &gt; state &gt; channel tile &gt;
     * body (every input loaded inside the body, as written), one carry per state and channel tile,
     * the chunk's accumulators stored after its state loop.
     */
    void v1Chunked(long nct, long f) {
      int n = (int) Kernels.ceilDiv(s.seq(), f);
      // one chunk covers the sequence: no scan carries between chunks
      Tile[][] carry = n > 1 ? new Tile[(int) s.state()][(int) nct] : null;
      if (carry != null) {
        for (int st = 0; st < carry.length; st++) {
          for (int ct = 0; ct < nct; ct++) {
            int p = tilePartitions(s, ct, parts);
            carry[st][ct] = tile("scan carry", p, 1);
            k.compute(new Instruction.Memset(EngineKind.VECTOR, sb(p, 1)), TileKernel.of(), TileKernel.of(carry[st][ct]));
          }
        }
      }
      for (int j = 0; j < n; j++) {
        long w = width(j, f);
        Tile[] acc = new Tile[(int) nct];
        for (int ct = 0; ct < nct; ct++) {
          int p = tilePartitions(s, ct, parts);
          acc[ct] = tile("accum", p, w);
          k.compute(new Instruction.Memset(EngineKind.VECTOR, sb(p, w)), TileKernel.of(), TileKernel.of(acc[ct]));
        }
        for (int st = 0; st < s.state(); st++) {
          for (int ct = 0; ct < nct; ct++) {
            int p = tilePartitions(s, ct, parts);
            Tile delta = tile("delta", p, w);
            k.load(delta);
            Tile a = tile("A", p, 1);
            k.load(a);
            Tile deltaA = activation(p, w, delta, a);
            Tile u = tile("u", p, w);
            k.load(u);
            state(p, w, deltaA, null, new Tile[] {delta, u}, acc[ct], carry == null ? null : carry[st][ct]);
          }
        }
        for (int ct = 0; ct < nct; ct++) {
          k.store(acc[ct]);
        }
      }
    }

    private long width(int j, long ft) {
      return Math.min(ft, s.seq() - j * ft);
    }

    private Tile activation(int p, long f, Tile delta, Tile a) {
      Tile deltaA = tile("deltaA", p, f);
      k.compute(new Instruction.Activation(sb(p, f), sb(p, f), ActFunc.EXP, false), TileKernel.of(delta, a),
          TileKernel.of(deltaA));
      return deltaA;
    }

    private Tile multiply(int p, long f, Tile x, Tile y, String name) {
      Tile out = tile(name, p, f);
      k.compute(new Instruction.TensorTensor(EngineKind.VECTOR, sb(p, f), sb(p, f), sb(p, f), AluOp.MULTIPLY),
          TileKernel.of(x, y), TileKernel.of(out));
      return out;
    }

    /**
     * The rest of one body after the activation: B row, (delta * u), B broadcast, deltaBu, scan,
     * (carry copy), C row, C broadcast, scanC, accumulate.
     */
    private void state(int p, long f, Tile deltaA, Tile deltaU, Tile[] deltaAndU, Tile acc, Tile carry) {
      Tile bRow = tile("B row", 1, f);
      k.load(bRow);
      Tile du = deltaU != null ? deltaU : multiply(p, f, deltaAndU[0], deltaAndU[1], "deltaU");
      Operand bB = broadcast(p, f, bRow, "B");
      Tile deltaBu = tile("deltaBu", p, f);
      k.compute(new Instruction.TensorTensor(EngineKind.VECTOR, sb(p, f), bB.ref, sb(p, f), AluOp.MULTIPLY),
          TileKernel.of(du, bB.tile), TileKernel.of(deltaBu));
      Tile scan = tile("scan", p, f);
      TensorRef init = carry == null ? null : sb(p, 1);
      Tile[] scanReads = carry == null ? TileKernel.of(deltaA, deltaBu) : TileKernel.of(deltaA, deltaBu, carry);
      k.compute(new Instruction.TensorTensorScan(EngineKind.VECTOR, sb(p, f), sb(p, f), init, sb(p, f), AluOp.MULTIPLY,
          AluOp.ADD), scanReads, TileKernel.of(scan));
      if (carry != null) {
        k.compute(new Instruction.TensorCopy(EngineKind.VECTOR, sb(p, 1), sb(p, 1)), TileKernel.of(scan),
            TileKernel.of(carry));
      }
      Tile cRow = tile("C row", 1, f);
      k.load(cRow);
      Operand cB = broadcast(p, f, cRow, "C");
      Tile scanC = tile("scanC", p, f);
      k.compute(new Instruction.TensorTensor(EngineKind.VECTOR, sb(p, f), cB.ref, sb(p, f), AluOp.MULTIPLY),
          TileKernel.of(scan, cB.tile), TileKernel.of(scanC));
      k.compute(new Instruction.TensorTensor(EngineKind.VECTOR, sb(p, f), sb(p, f), sb(p, f), AluOp.ADD),
          TileKernel.of(acc, scanC), TileKernel.of(acc));
    }

    private record Operand(Tile tile, TensorRef ref) {}

    /**
     * A [1 x f] row replicated to p partitions: matmuls of the ones stationary [1 x p] against the
     * row (moving, one PSUM bank of columns each). Up to one bank the result stays in PSUM for its
     * consumer; wider, each bank is copied by ScalarE into one SBUF tile.
     */
    private Operand broadcast(int p, long f, Tile row, String what) {
      Tile o = ones();
      TensorRef stationary = sb(1, p);
      if (f <= bank) {
        Tile ps = k.psum(what + " broadcast", p, DType.FP32.bytes(bank));
        k.compute(new Instruction.MatMul(stationary, sb(1, f), TensorRef.psum(p, f, DType.FP32), false),
            TileKernel.of(o, row), TileKernel.of(ps));
        return new Operand(ps, TensorRef.psum(p, f, DType.FP32));
      }
      Tile dst = tile(what + " broadcast", p, f);
      for (long c0 = 0; c0 < f; c0 += bank) {
        long fc = Math.min(bank, f - c0);
        Tile ps = k.psum(what + " broadcast bank", p, DType.FP32.bytes(bank));
        k.compute(new Instruction.MatMul(stationary, sb(1, fc), TensorRef.psum(p, fc, DType.FP32), false),
            TileKernel.of(o, row), TileKernel.of(ps));
        k.compute(new Instruction.TensorCopy(EngineKind.SCALAR, TensorRef.psum(p, fc, DType.FP32), sb(p, fc)),
            TileKernel.of(ps), TileKernel.of(dst));
      }
      return new Operand(dst, sb(p, f));
    }
  }
}
