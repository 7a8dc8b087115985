package trnsim.isa.lower;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import trnsim.isa.ActFunc;
import trnsim.isa.AluOp;
import trnsim.isa.CoreProgram;
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
 * The four kernels of the NKI matrix-multiplication tutorial (Neuron 2.20), lowered instruction by
 * instruction as the tutorial writes them (calibration/trainium/kernels.md section 1):
 *
 * <ul>
 *   <li>{@code tiled} ({@code nki_matmul_tiled_}): m &gt; n &gt; k, both operand tiles loaded in the k loop;
 *   <li>{@code hoisted} ({@code nki_matmul_hoist_load_}): the lhsT column of an M tile loaded once per m,
 *       the rhs column once per (m, n);
 *   <li>{@code block_free} ({@code nki_matmul_block_free_dimension_}): M and N blocked, K whole;
 *   <li>{@code block_k} ({@code nki_matmul_fully_optimized_}): M, N and K blocked, partial sums added by
 *       VectorE into a bf16 SBUF accumulator, the K-block loop sequential, packed 2-D stores.
 * </ul>
 *
 * <p>Tile sizes are the tutorial's {@code nl.tile_size} constants: TILE_M = PE columns (128), TILE_K =
 * partitions (128), TILE_N = one PSUM bank (512). The kernel receives the left operand already
 * transposed ({@code lhsT[K, M]}) and {@code rhs[K, N]}; the result has the input dtype.
 *
 * <p>Dependencies are tracked per tile (the compiler's semaphores follow address ranges), so a load
 * into a single-buffered column waits only for the last instruction that read that tile. SBUF
 * allocation follows the declarations: every tensor is allocated at its declared size (V2's lhsT
 * column with 512 columns per tile although 128 are used); a tensor declared inside an
 * {@code affine_range} loop then gets further physical copies, rotating between iterations, up to
 * four, while the kernel's footprint still fits SBUF (innermost loops first); tensors of the
 * {@code sequential_range} K-block loop are never rotated. DMAs are spread over the queues with
 * the target's minimum share per queue and a rotating first queue ({@link DmaSpread}).
 */
public final class NkiMatmulLowering {
  private NkiMatmulLowering() {}

  /** The tutorial's kernels, by the strategy name of the {@code gemm:} workload. */
  public enum Variant {
    TILED("tiled", "nki_matmul_tiled_"),
    HOISTED("hoisted", "nki_matmul_hoist_load_"),
    BLOCK_FREE("block_free", "nki_matmul_block_free_dimension_"),
    BLOCK_K("block_k", "nki_matmul_fully_optimized_");

    private final String key;
    private final String kernel;

    Variant(String key, String kernel) {
      this.key = key;
      this.kernel = kernel;
    }

    public String key() {
      return key;
    }

    /** Null when {@code key} names no tutorial kernel. */
    public static Variant of(String key) {
      for (Variant v : values()) {
        if (v.key.equals(key)) {
          return v;
        }
      }
      return null;
    }

    /** Whether the kernel has a block size along {@code dim} ('m', 'n' or 'k'). */
    public boolean hasBlock(char dim) {
      return this == BLOCK_K || (this == BLOCK_FREE && dim != 'k');
    }
  }

  /** Block sizes in elements (the tutorial's BLOCK_M/N/K); zero where the variant has none. */
  public record Blocks(long m, long n, long k) {
    /** The tutorial's values: V3 TILES_IN_BLOCK 2 x 2, V4 16 x 2 x 8 tiles. */
    public static Blocks defaults(Variant v, TargetSpec t) {
      return switch (v) {
        case BLOCK_FREE -> new Blocks(2L * t.peCols(), 2L * t.maxMovingFree(), 0);
        case BLOCK_K -> new Blocks(16L * t.peCols(), 2L * t.maxMovingFree(), 8L * t.partitions());
        default -> new Blocks(0, 0, 0);
      };
    }
  }

  /**
   * @param source where the workload came from, for error messages
   * @throws WorkloadException for shapes the kernel asserts against or blocks that do not fit SBUF
   */
  public static Program lower(TargetSpec t, GemmSpec g, int cores, Variant v, Blocks b, String source) {
    if (!t.supports(g.dtype())) {
      throw new WorkloadException(source, "gemm.dtype", g.dtype().label(), t.name() + " does not support it");
    }
    if (g.transposeB()) {
      throw new WorkloadException(source, "gemm.tb", "true", "the tutorial kernel " + v.kernel + " takes rhs as [K, N]");
    }
    Shape s = new Shape(t, g, v, b, source);
    s.check();
    Kernels.guard("gemm", s.estimatedInstructions());
    ProgramBuilder pb = new ProgramBuilder("gemm m=" + g.m() + " k=" + g.k() + " n=" + g.n() + " " + g.dtype().label()
        + " " + v.key, t.dmaQueues());
    long units = g.n() / s.nUnit;
    int used = (int) Math.min(Math.max(1, cores), units);
    for (int c = 0; c < used; c++) {
      long u0 = units * c / used;
      long u1 = units * (c + 1) / used;
      new Core(t, s, pb.core(c)).emit(u0 * s.nUnit, u1 * s.nUnit);
    }
    pb.flops(g.flops());
    long eb = s.eb;
    pb.hbmBytesMin((g.m() * g.k() + g.k() * g.n() + g.m() * g.n()) * eb);
    pb.note(v.key + ": the NKI tutorial's " + v.kernel + s.blockNote() + "; lhsT [K, M] and rhs [K, N] in HBM, "
        + used + (used == 1 ? " core" : " cores (N split)"));
    pb.note("SBUF per partition: " + s.sbufNote());
    pb.note("DMAs spread over " + t.dmaQueues() + " queues" + (t.dmaMinBytesPerQueue() > 0
        ? ", at least " + t.dmaMinBytesPerQueue() / 1024 + " KiB per queue" : "") + ", rotating first queue");
    return pb.build();
  }

  /** Shape checks, tile constants and the SBUF plan of one variant. */
  static final class Shape {
    /** At most this many rotating copies of one tensor (the 3-5 stages NKI and Hopper GEMMs pipeline). */
    static final int MAX_COPIES = 4;
    final TargetSpec t;
    final GemmSpec g;
    final Variant v;
    final String source;
    final long tm;
    final long tk;
    final long tn;
    final long eb;
    final long bm;
    final long bn;
    final long bk;
    final long nUnit;
    /** Physical copies of each declared tensor (1 to {@link #MAX_COPIES}), decided by {@link #plan()}. */
    int copiesA = 1;
    int copiesB = 1;
    int copiesOut = 1;
    int copiesAcc = 1;
    long sbufBytes;

    Shape(TargetSpec t, GemmSpec g, Variant v, Blocks b, String source) {
      this.t = t;
      this.g = g;
      this.v = v;
      this.source = source;
      this.tm = t.peCols();
      this.tk = t.partitions();
      this.tn = t.maxMovingFree();
      if (g.dtype().bits() % 8 != 0) {
        throw new WorkloadException(source, "gemm.dtype", g.dtype().label(), "the tutorial kernels move whole-byte elements");
      }
      this.eb = g.dtype().bits() / 8;
      this.bm = v.hasBlock('m') ? b.m() : tm;
      this.bn = v.hasBlock('n') ? b.n() : tn;
      this.bk = v.hasBlock('k') ? b.k() : g.k();
      this.nUnit = bn;
    }

    void check() {
      multiple("gemm.block_m", bm, tm, "TILE_M");
      multiple("gemm.block_n", bn, tn, "TILE_N");
      multiple("gemm.block_k", bk, tk, "TILE_K");
      divides("gemm.m", g.m(), bm, v.hasBlock('m') ? "block_m" : "TILE_M");
      divides("gemm.n", g.n(), bn, v.hasBlock('n') ? "block_n" : "TILE_N");
      divides("gemm.k", g.k(), v.hasBlock('k') ? bk : tk, v.hasBlock('k') ? "block_k" : "TILE_K");
      plan();
    }

    private void multiple(String key, long value, long tile, String tileName) {
      if (value <= 0 || value % tile != 0) {
        throw new WorkloadException(source, key, String.valueOf(value), "must be a positive multiple of " + tileName + " = " + tile);
      }
    }

    private void divides(String key, long value, long by, String byName) {
      if (value % by != 0) {
        throw new WorkloadException(source, key, String.valueOf(value), "the tutorial kernel " + v.kernel
            + " needs a multiple of " + byName + " = " + by);
      }
    }

    /** Declared bytes per partition of the operand buffers (one copy each). */
    long aBytes() {
      return switch (v) {
        case TILED -> tm * eb;
        // Declared with TILE_N columns per tile although only TILE_M are used (the tutorial's quirk).
        case HOISTED -> (g.k() / tk) * tn * eb;
        case BLOCK_FREE -> (bm / tm) * (g.k() / tk) * tm * eb;
        case BLOCK_K -> (bk / tk) * bm * eb;
      };
    }

    long bBytes() {
      return switch (v) {
        case TILED -> tn * eb;
        case HOISTED -> (g.k() / tk) * tn * eb;
        case BLOCK_FREE -> (bn / tn) * (g.k() / tk) * tn * eb;
        case BLOCK_K -> (bk / tk) * bn * eb;
      };
    }

    /** The result staging tile: 128 x 512 in V1-V3, the packed 128 x BLOCK_N in V4. */
    long outBytes() {
      return (v == Variant.BLOCK_K ? bn : tn) * eb;
    }

    /** V4's SBUF accumulator for a whole M x BLOCK_N stripe. */
    long accBytes() {
      return v == Variant.BLOCK_K ? (g.m() / tm) * bn * eb : 0;
    }

    /**
     * Allocates the declared tensors, then adds rotating copies (up to MAX_COPIES), innermost affine loop first, while
     * they fit. Loop nesting (innermost first): V1 k{A,B} n{out}; V2 n{B,out} m{A}; V3 n{B,out} m{A};
     * V4 bm{out} m{A} [k sequential: B never rotated] n{acc}.
     */
    private void plan() {
      long cap = t.sbufBytesPerPartition();
      long base = aBytes() + bBytes() + outBytes() + accBytes();
      if (base > cap) {
        throw new WorkloadException(source, tooBigKey(), String.valueOf(tooBigValue()), String.format(Locale.ROOT,
            "the %s kernel's SBUF tensors need %d KiB per partition, more than the %d KiB of %s (%s); "
                + "the compiler would spill, which is not modelled", v.kernel, ceilKiB(base), cap / 1024, t.name(), sbufNote(base)));
      }
      long used = base;
      List<Character> order = switch (v) {
        case TILED -> List.of('A', 'B', 'O');
        case HOISTED, BLOCK_FREE -> List.of('B', 'O', 'A');
        case BLOCK_K -> List.of('O', 'A', 'C');
      };
      for (char which : order) {
        long size = switch (which) {
          case 'A' -> aBytes();
          case 'B' -> bBytes();
          case 'O' -> outBytes();
          default -> accBytes();
        };
        int copies = 1;
        while (copies < MAX_COPIES && used + size <= cap) {
          used += size;
          copies++;
        }
        switch (which) {
          case 'A' -> copiesA = copies;
          case 'B' -> copiesB = copies;
          case 'O' -> copiesOut = copies;
          default -> copiesAcc = copies;
        }
      }
      sbufBytes = used;
    }

    private String tooBigKey() {
      return switch (v) {
        case TILED, HOISTED -> "gemm.k";
        case BLOCK_FREE -> bBytes() >= aBytes() ? "gemm.block_n" : "gemm.block_m";
        case BLOCK_K -> accBytes() >= Math.max(aBytes(), bBytes()) ? "gemm.block_n" : aBytes() >= bBytes() ? "gemm.block_m" : "gemm.block_n";
      };
    }

    private long tooBigValue() {
      return switch (tooBigKey()) {
        case "gemm.block_m" -> bm;
        case "gemm.block_n" -> bn;
        default -> g.k();
      };
    }

    static long ceilKiB(long b) {
      return Kernels.ceilDiv(b, 1024);
    }

    String sbufNote(long total) {
      String s = "lhsT " + ceilKiB(aBytes()) + " KiB + rhs " + ceilKiB(bBytes()) + " KiB + result " + ceilKiB(outBytes()) + " KiB";
      if (v == Variant.BLOCK_K) {
        s += " + accumulator " + ceilKiB(accBytes()) + " KiB";
      }
      return s + " = " + ceilKiB(total) + " KiB declared";
    }

    String sbufNote() {
      return sbufNote(aBytes() + bBytes() + outBytes() + accBytes()) + "; " + ceilKiB(sbufBytes) + " KiB with rotating copies of "
          + copyList();
    }

    private String copyList() {
      List<String> l = new ArrayList<>();
      String[] names = {"lhsT", "rhs", "result", "accumulator"};
      int[] copies = {copiesA, copiesB, copiesOut, copiesAcc};
      for (int i = 0; i < names.length; i++) {
        if (copies[i] > 1) {
          l.add(names[i] + " x" + copies[i]);
        }
      }
      return l.isEmpty() ? "nothing (single-buffered)" : String.join(", ", l);
    }

    String blockNote() {
      return switch (v) {
        case BLOCK_FREE -> " (block_m=" + bm + ", block_n=" + bn + ")";
        case BLOCK_K -> " (block_m=" + bm + ", block_n=" + bn + ", block_k=" + bk + ")";
        default -> "";
      };
    }

    /** Upper estimate of instructions per chip: matmuls, each load on up to every queue, evacuations. */
    double estimatedInstructions() {
      double mm = (double) (g.m() / tm) * (g.n() / tn) * (g.k() / tk);
      double loads = switch (v) {
        case TILED -> 2 * mm;
        case HOISTED -> mm + (double) (g.m() / tm) * (g.k() / tk);
        case BLOCK_FREE -> (double) (g.m() / bm) * (g.n() / tn) * (g.k() / tk) + (double) (g.m() / tm) * (g.k() / tk);
        case BLOCK_K -> (double) (g.n() / bn) * (g.k() / tk) * (1 + g.m() / bm);
      };
      return mm * 2 + loads * t.dmaQueues();
    }
  }

  /**
   * Spreads one DMA over a core's queues as the toolchain does: over as many queues as keep each
   * queue's share at least the target's minimum (and at most one queue per partition), starting at
   * a queue that rotates from one DMA to the next so that small DMAs use different queues.
   */
  static final class DmaSpread {
    final ProgramBuilder.CoreBuilder core;
    final int queues;
    final long minBytes;
    int next;

    DmaSpread(ProgramBuilder.CoreBuilder core, int queues, long minBytes) {
      this.core = core;
      this.queues = queues;
      this.minBytes = minBytes;
    }

    /** Queues one DMA of {@code partitions x bytesPerPartition} uses. */
    static int queuesFor(int queues, long minBytes, int partitions, long bytesPerPartition) {
      int n = Math.min(queues, partitions);
      if (minBytes > 0) {
        n = (int) Math.max(1, Math.min(n, partitions * bytesPerPartition / minBytes));
      }
      return n;
    }

    Op[] move(MemSpace from, MemSpace to, int partitions, long bytesPerPartition, Op[] deps) {
      int n = queuesFor(queues, minBytes, partitions, bytesPerPartition);
      Op[] ops = new Op[n];
      int base = partitions / n;
      int extra = partitions % n;
      for (int i = 0; i < n; i++) {
        int p = base + (i < extra ? 1 : 0);
        TensorRef src = new TensorRef(from, p, bytesPerPartition, DType.INT8);
        TensorRef dst = new TensorRef(to, p, bytesPerPartition, DType.INT8);
        ops[i] = core.dma((next + i) % queues, new Instruction.DmaCopy(src, dst), deps);
      }
      next = (next + n) % queues;
      return ops;
    }
  }

  /**
   * A tile of an on-chip tensor: the instructions that wrote its current contents and the last
   * reader on each queue since, so that a writer waits for readers (WAR) and a reader for writers
   * (RAW), each queue waiting on a given write only once (queues run in order).
   */
  static final class Tile {
    static final Op[] NONE = new Op[0];
    Op[] writers = NONE;
    long waited;
    Op[] readers = NONE;

    Op[] rawFor(int queue) {
      long bit = 1L << Math.min(queue, 63);
      if ((waited & bit) != 0) {
        return NONE;
      }
      waited |= bit;
      return writers;
    }

    void read(Op o) {
      for (int i = 0; i < readers.length; i++) {
        if (readers[i].queue() == o.queue()) {
          readers[i] = o;
          return;
        }
      }
      readers = Arrays.copyOf(readers, readers.length + 1);
      readers[readers.length - 1] = o;
    }

    void read(Op[] ops) {
      for (Op o : ops) {
        read(o);
      }
    }

    void write(Op... ops) {
      writers = ops;
      readers = NONE;
      waited = 0;
    }
  }

  /** A declared tensor of {@code tiles} tiles with {@code copies} physical copies used in turn. */
  static final class Buf {
    final Tile[][] copies;
    int next;

    Buf(int copies, int tiles) {
      this.copies = new Tile[copies][tiles];
      for (Tile[] c : this.copies) {
        for (int i = 0; i < tiles; i++) {
          c[i] = new Tile();
        }
      }
    }

    /** The next physical copy, for a new loop iteration's declaration. */
    Tile[] alloc() {
      Tile[] c = copies[next];
      next = (next + 1) % copies.length;
      return c;
    }
  }

  /** Emits one core's share (columns [n0, n1) of the result) of the kernel. */
  static final class Core {
    final TargetSpec t;
    final Shape s;
    final GemmSpec g;
    final ProgramBuilder.CoreBuilder c;
    final DmaSpread dma;
    final DType dt;
    final int tk;
    final int tm;
    final int tn;
    final Tile[] psum;
    int nextBank;
    int evacToggle;
    final List<PendingStore> pendingStores = new ArrayList<>();

    Core(TargetSpec t, Shape s, ProgramBuilder.CoreBuilder c) {
      this.t = t;
      this.s = s;
      this.g = s.g;
      this.c = c;
      this.dma = new DmaSpread(c, t.dmaQueues(), t.dmaMinBytesPerQueue());
      this.dt = g.dtype();
      this.tk = (int) s.tk;
      this.tm = (int) s.tm;
      this.tn = (int) s.tn;
      this.psum = new Tile[t.psumBanks()];
      for (int i = 0; i < psum.length; i++) {
        psum[i] = new Tile();
      }
    }

    void emit(long n0, long n1) {
      c.alloc(MemSpace.SBUF, "lhsT tiles", (int) s.tk, s.aBytes() * s.copiesA);
      c.alloc(MemSpace.SBUF, "rhs tiles", (int) s.tk, s.bBytes() * s.copiesB);
      c.alloc(MemSpace.SBUF, "result tile", (int) s.tm, s.outBytes() * s.copiesOut);
      if (s.v == Variant.BLOCK_K) {
        c.alloc(MemSpace.SBUF, "result accumulator", (int) s.tm, s.accBytes() * s.copiesAcc);
      }
      c.alloc(MemSpace.PSUM, "accumulation groups", (int) s.tm, t.psumBytesPerPartition());
      switch (s.v) {
        case TILED -> tiled(n0, n1);
        case HOISTED -> hoisted(n0, n1);
        case BLOCK_FREE -> blockFree(n0, n1);
        case BLOCK_K -> blockK(n0, n1);
      }
      flushStores();
    }

    // ---- V1: m > n > k, both tiles loaded in the innermost loop ----
    void tiled(long n0, long n1) {
      Buf a = new Buf(s.copiesA, 1);
      Buf b = new Buf(s.copiesB, 1);
      Buf out = new Buf(s.copiesOut, 1);
      long kt = g.k() / tk;
      for (long m = 0; m < g.m() / tm; m++) {
        for (long n = n0 / tn; n < n1 / tn; n++) {
          Tile ps = bank();
          for (long k = 0; k < kt; k++) {
            Tile at = a.alloc()[0];
            Tile bt = b.alloc()[0];
            load(at, tm * s.eb);
            load(bt, tn * s.eb);
            matmul(at, bt, ps, tm, tn, k > 0);
          }
          evacuateAndStore(ps, out.alloc()[0]);
        }
      }
    }

    // ---- V2: lhsT column per m, rhs column per (m, n) ----
    void hoisted(long n0, long n1) {
      int kt = (int) (g.k() / tk);
      Buf a = new Buf(s.copiesA, kt);
      Buf b = new Buf(s.copiesB, kt);
      Buf out = new Buf(s.copiesOut, 1);
      for (long m = 0; m < g.m() / tm; m++) {
        Tile[] col = a.alloc();
        for (int k = 0; k < kt; k++) {
          load(col[k], tm * s.eb); // only the 128 used columns of each over-allocated tile are loaded
        }
        for (long n = n0 / tn; n < n1 / tn; n++) {
          Tile[] rc = b.alloc();
          for (int k = 0; k < kt; k++) {
            load(rc[k], tn * s.eb);
          }
          Tile ps = bank();
          for (int k = 0; k < kt; k++) {
            matmul(col[k], rc[k], ps, tm, tn, k > 0);
          }
          evacuateAndStore(ps, out.alloc()[0]);
        }
      }
    }

    // ---- V3: M and N blocked, K whole ----
    void blockFree(long n0, long n1) {
      int kt = (int) (g.k() / tk);
      int tbm = (int) (s.bm / tm);
      int tbn = (int) (s.bn / tn);
      Buf a = new Buf(s.copiesA, tbm * kt);
      Buf b = new Buf(s.copiesB, tbn * kt);
      Buf out = new Buf(s.copiesOut, 1);
      for (long mb = 0; mb < g.m() / s.bm; mb++) {
        Tile[] at = a.alloc();
        for (int i = 0; i < tbm; i++) {
          for (int k = 0; k < kt; k++) {
            load(at[i * kt + k], tm * s.eb);
          }
        }
        for (long nb = n0 / s.bn; nb < n1 / s.bn; nb++) {
          Tile[] bt = b.alloc();
          for (int j = 0; j < tbn; j++) {
            for (int k = 0; k < kt; k++) {
              load(bt[j * kt + k], tn * s.eb);
            }
          }
          for (int i = 0; i < tbm; i++) {
            for (int j = 0; j < tbn; j++) {
              Tile ps = bank();
              for (int k = 0; k < kt; k++) {
                matmul(at[i * kt + k], bt[j * kt + k], ps, tm, tn, k > 0);
              }
              evacuateAndStore(ps, out.alloc()[0]);
            }
          }
        }
      }
    }

    // ---- V4: M, N and K blocked; SBUF accumulation; sequential K-block loop ----
    void blockK(long n0, long n1) {
      int tbk = (int) (s.bk / tk);
      int tbm = (int) (s.bm / tm);
      int tbn = (int) (s.bn / tn);
      int nbm = (int) (g.m() / s.bm);
      int nbk = (int) (g.k() / s.bk);
      Buf acc = new Buf(s.copiesAcc, nbm * tbm * tbn);
      Buf rhs = new Buf(1, tbk); // declared in the sequential K-block loop: one copy, reused every k
      Buf lhs = new Buf(s.copiesA, tbk);
      Buf packed = new Buf(s.copiesOut, 1);
      for (long nb = n0 / s.bn; nb < n1 / s.bn; nb++) {
        Tile[] accTiles = acc.alloc();
        // nl.zeros over the whole M x BLOCK_N stripe: one memset (GpSimd), after the last reads of this copy.
        List<Op> war = new ArrayList<>();
        for (Tile x : accTiles) {
          war.addAll(Arrays.asList(x.readers));
        }
        Op zero = c.add(new Instruction.Memset(EngineKind.GPSIMD, TensorRef.sbuf(tm, (long) nbm * tbm * tbn * tn, dt)),
            war.toArray(new Op[0]));
        for (Tile x : accTiles) {
          x.write(zero);
        }
        for (int kb = 0; kb < nbk; kb++) {
          Tile[] rt = rhs.alloc();
          for (int j = 0; j < tbk; j++) {
            load(rt[j], s.bn * s.eb);
          }
          if (kb == 0) {
            flushStores();
          }
          for (int mb = 0; mb < nbm; mb++) {
            Tile[] lt = lhs.alloc();
            for (int j = 0; j < tbk; j++) {
              load(lt[j], s.bm * s.eb);
            }
            for (int bn = 0; bn < tbn; bn++) {
              for (int bm = 0; bm < tbm; bm++) {
                Tile ps = bank();
                for (int bk = 0; bk < tbk; bk++) {
                  matmul(lt[bk], rt[bk], ps, tm, tn, bk > 0);
                }
                accumulate(ps, accTiles[(mb * tbm + bm) * tbn + bn]);
              }
            }
          }
        }
        for (int mb = 0; mb < nbm; mb++) {
          for (int bm = 0; bm < tbm; bm++) {
            Tile pk = packed.alloc()[0];
            flushStoresReading(pk);
            List<Op> copies = new ArrayList<>();
            for (int bn = 0; bn < tbn; bn++) {
              Tile src = accTiles[(mb * tbm + bm) * tbn + bn];
              Op cp = c.add(new Instruction.Activation(TensorRef.sbuf(tm, tn, dt), TensorRef.sbuf(tm, tn, dt), ActFunc.IDENTITY, false),
                  Kernels.concat(src.rawFor(CoreProgram.SCALAR), pk.readers));
              src.read(cp);
              copies.add(cp);
            }
            pk.write(copies.toArray(new Op[0]));
            deferStore(pk, s.bn * s.eb);
          }
        }
      }
    }

    Tile bank() {
      Tile b = psum[nextBank];
      nextBank = (nextBank + 1) % psum.length;
      return b;
    }

    /** HBM -> SBUF load of one tile: 128 partitions (the K rows), one contiguous run per partition. */
    void load(Tile dst, long bytesPerPartition) {
      Op[] ops = dma.move(MemSpace.HBM, MemSpace.SBUF, tk, bytesPerPartition, dst.readers);
      dst.write(ops);
    }

    void matmul(Tile st, Tile mv, Tile ps, int m, int n, boolean accumulate) {
      Op[] deps = Kernels.concat(st.rawFor(CoreProgram.TENSOR), mv.rawFor(CoreProgram.TENSOR));
      if (!accumulate) {
        deps = Kernels.concat(deps, ps.readers); // the group overwrites the bank: wait for its last evacuation
      }
      Op mm = c.add(new Instruction.MatMul(TensorRef.sbuf(tk, m, dt), TensorRef.sbuf(tk, n, dt),
          TensorRef.psum(m, n, DType.FP32), accumulate), deps);
      st.read(mm);
      mv.read(mm);
      ps.write(mm);
    }

    /** V1-V3: PSUM -> SBUF copy with the cast (VectorE and ScalarE in turn), then a 128 x 512 store. */
    void evacuateAndStore(Tile ps, Tile out) {
      flushStoresReading(out);
      TensorRef from = TensorRef.psum(tm, tn, DType.FP32);
      TensorRef to = TensorRef.sbuf(tm, tn, dt);
      boolean vector = (evacToggle++ & 1) == 0;
      int q = vector ? CoreProgram.VECTOR : CoreProgram.SCALAR;
      Op[] deps = Kernels.concat(ps.rawFor(q), out.readers);
      Op cp = vector ? c.add(new Instruction.TensorCopy(EngineKind.VECTOR, from, to), deps)
          : c.add(new Instruction.Activation(from, to, ActFunc.IDENTITY, false), deps);
      ps.read(cp);
      out.write(cp);
      deferStore(out, tn * s.eb);
    }

    /** V4: result_tiles[...] += res_tile, a VectorE tensor_tensor add reading PSUM. */
    void accumulate(Tile ps, Tile acc) {
      Op[] deps = Kernels.concat(ps.rawFor(CoreProgram.VECTOR), acc.rawFor(CoreProgram.VECTOR));
      Op add = c.add(new Instruction.TensorTensor(EngineKind.VECTOR, TensorRef.psum(tm, tn, DType.FP32),
          TensorRef.sbuf(tm, tn, dt), TensorRef.sbuf(tm, tn, dt), AluOp.ADD), deps);
      ps.read(add);
      acc.write(add);
    }

    /**
     * A store's trigger goes on the in-order DMA queues late, as the compiler's scheduler places a
     * trigger whose data is not ready yet: when its staging copy is needed again (after the loads
     * the next tiles issue), or when the next block's first loads have been queued, or at the end.
     * Queued right behind the loads it depends on, it would hold up the loads behind it.
     */
    void deferStore(Tile src, long bytesPerPartition) {
      pendingStores.add(new PendingStore(src, bytesPerPartition));
    }

    void flushStoresReading(Tile t) {
      for (PendingStore p : pendingStores) {
        if (p.src == t) {
          flushStores();
          return;
        }
      }
    }

    void flushStores() {
      for (PendingStore p : pendingStores) {
        Op[] ops = dma.move(MemSpace.SBUF, MemSpace.HBM, tm, p.bytesPerPartition, p.src.writers);
        p.src.read(ops);
      }
      pendingStores.clear();
    }
  }

  private record PendingStore(Tile src, long bytesPerPartition) {
  }
}
