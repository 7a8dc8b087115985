package trnsim.isa.lower;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import trnsim.isa.ActFunc;
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
 * Lowers a GEMM onto the cores of one chip as NKI kernels do it: the output is split into a grid
 * of per-core slabs; each core walks its slab in blocks; A^T tiles are the stationary operand
 * (K on partitions, at most 128 M columns), B tiles the moving one (at most one PSUM bank of N);
 * each 128 x 512 output tile accumulates over K in a PSUM bank, is evacuated to SBUF by the vector
 * and scalar engines in turn, and rows of tiles are stored back to HBM. Operand blocks are loaded
 * by DMA spread over all queues, double-buffered so the next block loads while this one computes,
 * and hoisted (kept resident) across the inner loop when the whole K fits.
 */
public final class GemmLowering {
  private GemmLowering() {}

  /** Bytes per element of the operands, counting packed 4-bit types as half a byte. */
  static double elemBytes(DType d) {
    return d.bits() / 8.0;
  }

  public static Program lower(TargetSpec t, GemmSpec g, int coresRequested, GemmTiling forced) {
    Kernels.guard("gemm", Kernels.tiles(g.m(), t.peCols()) * Kernels.tiles(g.n(), t.maxMovingFree()) * Kernels.tiles(g.k(), t.peRows()));
    if (!t.supports(g.dtype())) {
      throw new WorkloadException("gemm", "dtype", g.dtype().label(), t.name() + " does not support it (supported: "
          + String.join(", ", new java.util.TreeSet<>(t.dtypeRates().keySet())) + ")");
    }
    int cores = Math.min(coresRequested, t.cores());
    GemmTiling tiling = forced != null ? forced : choose(t, g, cores);
    return new Emitter(t, g, tiling).emit();
  }

  /**
   * As {@link #lower(TargetSpec, GemmSpec, int, GemmTiling)} with every instruction of every core
   * stored, no loop descriptors and no shared cores: the same stream, for checking the compact one.
   */
  public static Program lowerFlat(TargetSpec t, GemmSpec g, int coresRequested, GemmTiling forced) {
    int cores = Math.min(coresRequested, t.cores());
    GemmTiling tiling = forced != null ? forced : choose(t, g, cores);
    Emitter e = new Emitter(t, g, tiling);
    e.compact = false;
    return e.emit();
  }

  public static Program lower(TargetSpec t, GemmSpec g, int cores) {
    return lower(t, g, cores, null);
  }

  /** One piece of a split GEMM and how many identical copies of it the GEMM runs. */
  public record Piece(GemmSpec gemm, long copies) {}

  /**
   * A GEMM as kernels that fit the simulator: itself when its program fits the resource guard
   * (exactly the GEMMs that lowered before splitting existed), otherwise sub-GEMMs along N (each
   * reads the whole A) or M (each reads the whole B), whichever re-reads the smaller operand, cut
   * at tile boundaries into equal pieces plus at most one remainder, recursively along the other
   * dimension if one tile row is still too large. Identical pieces are one {@link Step} with a
   * repeat count, so each distinct piece is simulated once and its time multiplied.
   *
   * <p>Simplified: the pieces run back to back with a full synchronisation between them (a real
   * library runs one kernel whose waves flow into each other), and each piece reads its shared
   * operand from HBM again (a real kernel finds it in L2 or SBUF when it fits). The pieces'
   * compulsory bytes ({@link Program#hbmBytesMin}) are the unsplit GEMM's, shared out in
   * proportion to each piece's output: the re-reads are a cost of the simulation's cut, not of the
   * problem, so rooflines and intensities stay those of the whole GEMM; the simulated traffic
   * includes them.
   *
   * @param repeat how many times the workload runs the whole GEMM
   */
  public static List<Step> steps(TargetSpec t, String label, GemmSpec g, int cores, long repeat) {
    return steps(t, label, g, cores, repeat, COMPOSED_LIMIT);
  }

  /**
   * Instructions a GEMM composed into a larger workload (a layer, an LLM step) may hold before it is
   * split: a quarter of the guard, because such a workload holds all its kernels at once (a training
   * layer on a GPU template has a dozen GEMMs of millions of instructions each). A GEMM run on its
   * own ({@code gemm:} workloads, the calibration points) is split only above the guard itself.
   */
  public static final long COMPOSED_LIMIT = ProgramBuilder.MAX_INSTRUCTIONS / 4;

  /** As above with another instruction limit than the resource guard (tests: a split small enough to simulate fast). */
  public static List<Step> steps(TargetSpec t, String label, GemmSpec g, int cores, long repeat, long maxInstructions) {
    List<Piece> pieces = split(t, g, cores, maxInstructions);
    List<Step> steps = new ArrayList<>();
    for (Piece pc : pieces) {
      Program p = lower(t, pc.gemm(), cores);
      if (pieces.size() > 1 || pc.copies() > 1) {
        p = asPieceOf(p, pc, g, pieces);
      }
      steps.add(new Step(label, p, pc.copies() * repeat, g.dtype()));
    }
    return steps;
  }

  /** As {@link #steps(TargetSpec, String, GemmSpec, int, long)}, run once. */
  public static List<Step> steps(TargetSpec t, String label, GemmSpec g, int cores) {
    return steps(t, label, g, cores, 1);
  }

  /**
   * The largest GEMM that is split rather than rejected: 64 guards' worth of instructions (a Llama-3 70B
   * layer's largest GEMM on the H100 template is ~13 M, its LM head ~57 M); beyond it the guard's error
   * stands ("simulate a smaller problem"), so an absurd size still fails at once instead of simulating.
   */
  static final double MAX_SPLIT_INSTRUCTIONS = 64.0 * ProgramBuilder.MAX_INSTRUCTIONS;

  /** The pieces {@link #steps} lowers; one piece with one copy when the GEMM fits as it is. */
  public static List<Piece> split(TargetSpec t, GemmSpec g, int cores, long maxInstructions) {
    if (instructions(t, g, cores, maxInstructions) <= maxInstructions) {
      return List.of(new Piece(g, 1));
    }
    double matmuls = Kernels.tiles(g.m(), t.peCols()) * Kernels.tiles(g.n(), t.maxMovingFree()) * Kernels.tiles(g.k(), t.peRows());
    if (matmuls > MAX_SPLIT_INSTRUCTIONS) {
      Kernels.guard("gemm m=" + g.m() + " k=" + g.k() + " n=" + g.n() + " (too large to split)", matmuls);
    }
    List<Piece> out = new ArrayList<>();
    // The search counts some candidate pieces more than once (a bound's first candidate, the divisor
    // pass, the recursion into the chosen piece); each count is an emission, so it is kept per shape.
    Map<GemmSpec, Long> counts = new HashMap<>();
    splitInto(t, g, cores, 1, g.m() <= g.n(), maxInstructions, out, counts);
    return out;
  }

  private static void splitInto(TargetSpec t, GemmSpec g, int cores, long copies, boolean alongN, long limit, List<Piece> out,
      Map<GemmSpec, Long> counts) {
    long count = counts.computeIfAbsent(g, s -> instructions(t, s, cores, limit));
    if (count <= limit) {
      out.add(new Piece(g, copies));
      return;
    }
    long tile = alongN ? t.maxMovingFree() : t.peCols();
    long dim = alongN ? g.n() : g.m();
    long tiles = Kernels.ceilDiv(dim, tile);
    if (tiles < 2) {
      long otherTiles = alongN ? Kernels.ceilDiv(g.m(), t.peCols()) : Kernels.ceilDiv(g.n(), t.maxMovingFree());
      if (otherTiles < 2) {
        Kernels.guard("gemm m=" + g.m() + " k=" + g.k() + " n=" + g.n() + " (one output tile; K too deep to split)", count);
      }
      splitInto(t, g, cores, copies, !alongN, limit, out, counts);
      return;
    }
    long parts = parts(t, g, cores, count, alongN, tiles, limit, counts);
    long size = Math.min(dim, Kernels.ceilDiv(tiles, parts) * tile);
    long full = dim / size;
    long rest = dim - full * size;
    splitInto(t, resized(g, alongN, size), cores, copies * full, alongN, limit, out, counts);
    if (rest > 0) {
      splitInto(t, resized(g, alongN, rest), cores, copies, alongN, limit, out, counts);
    }
  }

  /**
   * How many pieces to cut {@code tiles} (along the split dimension) into. Instruction counts do not
   * scale linearly with a piece's size (the core grid and blocks change with it), so candidates are
   * counted: the fewest pieces that fit the limit; more, down to about a quarter of the limit each
   * (one piece simulates in seconds), only while a piece keeps two output tiles per core (a thinner
   * piece leaves cores idle that the whole GEMM would use); then a nearby count that divides the tiles
   * evenly (one distinct piece to simulate).
   */
  private static long parts(TargetSpec t, GemmSpec g, int cores, long count, boolean alongN, long tiles, long limit,
      Map<GemmSpec, Long> counts) {
    long tile = alongN ? t.maxMovingFree() : t.peCols();
    double otherTiles = alongN ? Kernels.tiles(g.m(), t.peCols()) : Kernels.tiles(g.n(), t.maxMovingFree());
    double minTiles = 2.0 * Math.min(cores, t.cores());
    long p = Math.min(tiles, Math.max(2, count / limit));
    p = firstAtMost(t, g, cores, alongN, tiles, p, tiles, tile, limit, limit, counts);
    long fits = p;
    long thinnest = p;
    while (thinnest < tiles && Kernels.ceilDiv(tiles, thinnest + 1) * otherTiles >= minTiles) {
      thinnest = thinnest < p + LINEAR_STEPS ? thinnest + 1 : Math.min(tiles, thinnest * 2);
    }
    p = firstAtMost(t, g, cores, alongN, tiles, p, thinnest, tile, limit, limit / 4, counts);
    for (long d = p; d <= Math.min(tiles, Math.min(2 * p, p + DIVISOR_CANDIDATES)); d++) {
      if (tiles % d == 0 && (d == p || Kernels.ceilDiv(tiles, d) * otherTiles >= minTiles)
          && pieceCount(t, g, cores, alongN, tiles, d, tile, limit, counts) <= limit) {
        return d;
      }
    }
    return Math.max(fits, p);
  }

  /**
   * Matmul instructions up to which a default GEMM's candidate tilings are each simulated and the
   * fastest kept (2^17: a trn2 8192^3 GEMM has 65,536). Above it the traffic-minimal tiling runs
   * alone (and the steady state may extrapolate it): each candidate would cost a full simulation.
   * The count depends on the shape and the array's tile sizes only, not on SBUF, bandwidths, clocks
   * or cores, so a sweep over those stays on one side of the threshold and keeps its monotonicity.
   */
  public static final long SEARCH_MAX_MATMULS = 1L << 17;

  /** True when a GEMM is small enough for the tiling search ({@link #SEARCH_MAX_MATMULS}). */
  public static boolean searchable(TargetSpec t, GemmSpec g) {
    return Kernels.tiles(g.m(), t.peCols()) * Kernels.tiles(g.n(), t.maxMovingFree()) * Kernels.tiles(g.k(), t.peRows())
        <= SEARCH_MAX_MATMULS;
  }

  /** Candidates counted one by one before the search gallops (a huge GEMM would need millions). */
  private static final int LINEAR_STEPS = 16;

  /** Piece counts above the chosen one tried for an even division of the tiles. */
  private static final int DIVISOR_CANDIDATES = 64;

  /**
   * The first piece count in [from, to] whose pieces hold at most {@code bound} instructions: one
   * by one for {@link #LINEAR_STEPS} candidates (the usual case, exact), then by doubling and
   * bisection, as a piece's count falls with the number of pieces.
   */
  private static long firstAtMost(TargetSpec t, GemmSpec g, int cores, boolean alongN, long tiles, long from, long to, long tile,
      long limit, long bound, Map<GemmSpec, Long> counts) {
    long p = from;
    for (int i = 0; i < LINEAR_STEPS && p < to; i++, p++) {
      if (pieceCount(t, g, cores, alongN, tiles, p, tile, limit, counts) <= bound) {
        return p;
      }
    }
    // Past the linear candidates the pieces are small against the whole: their count is bounded
    // without emission (an upper bound, so the pieces still fit), which keeps a GEMM of any size cheap.
    long lo = p - 1;
    long hi = p;
    while (hi < to && pieceBound(t, g, alongN, tiles, hi, tile) > bound) {
      lo = hi;
      hi = Math.min(to, hi * 2);
    }
    while (hi - lo > 1) {
      long mid = lo + (hi - lo) / 2;
      if (pieceBound(t, g, alongN, tiles, mid, tile) <= bound) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    return hi;
  }

  /** An upper bound on a piece's instructions: every matmul reloads both operands on every queue. */
  private static double pieceBound(TargetSpec t, GemmSpec g, boolean alongN, long tiles, long parts, long tile) {
    long size = Math.min(alongN ? g.n() : g.m(), Kernels.ceilDiv(tiles, parts) * tile);
    GemmSpec s = resized(g, alongN, size);
    double matmuls = Kernels.tiles(s.m(), t.peCols()) * Kernels.tiles(s.n(), t.maxMovingFree()) * Kernels.tiles(s.k(), t.peRows());
    return matmuls * (2.0 * t.dmaQueues() + 4);
  }

  private static long pieceCount(TargetSpec t, GemmSpec g, int cores, boolean alongN, long tiles, long parts, long tile, long limit,
      Map<GemmSpec, Long> counts) {
    long size = Math.min(alongN ? g.n() : g.m(), Kernels.ceilDiv(tiles, parts) * tile);
    return counts.computeIfAbsent(resized(g, alongN, size), s -> instructions(t, s, cores, limit));
  }

  private static GemmSpec resized(GemmSpec g, boolean alongN, long size) {
    return alongN ? new GemmSpec(g.m(), g.k(), size, g.dtype(), g.transposeA(), g.transposeB())
        : new GemmSpec(size, g.k(), g.n(), g.dtype(), g.transposeA(), g.transposeB());
  }

  /**
   * A piece's program with its share of the whole GEMM's compulsory bytes and a note on the split
   * (public so that a piece extrapolated rather than lowered whole is described the same way).
   */
  public static Program asPieceOf(Program p, Piece pc, GemmSpec whole, List<Piece> pieces) {
    GemmSpec s = pc.gemm();
    double eb = elemBytes(whole.dtype());
    double ob = whole.outDtype().bits() / 8.0;
    double share = (double) s.m() * s.n() / ((double) whole.m() * whole.n());
    // own output and the operand it owns; the shared operand by output share
    double bytes = s.m() * (double) s.n() * ob + share * (whole.m() * (double) whole.k() + whole.k() * (double) whole.n()) * eb;
    List<String> notes = new ArrayList<>(p.notes());
    long total = 0;
    for (Piece q : pieces) {
      total += q.copies();
    }
    notes.add(0, String.format(java.util.Locale.ROOT,
        "split: gemm m=%d k=%d n=%d exceeds the resource guard; run as %d sub-GEMMs back to back (this one m=%d n=%d, %d copies,"
            + " simulated once); each re-reads its shared operand from HBM", whole.m(), whole.k(), whole.n(), total, s.m(), s.n(),
        pc.copies()));
    return new Program(p.name(), p.cores(), notes, p.flops(), Math.round(bytes));
  }

  /**
   * The instruction count of the lowered GEMM without building it, or an upper bound when that is far
   * below the guard (the cheap case, no emission at all). Exactly: the cores' slabs come in at
   * most four shapes (full, or cut at the M and N edges), and a core's instruction stream depends
   * only on its slab's shape, so one core of each shape is emitted and counted.
   */
  static long instructions(TargetSpec t, GemmSpec g, int coresRequested) {
    return instructions(t, g, coresRequested, ProgramBuilder.MAX_INSTRUCTIONS);
  }

  /** As above; the cheap upper bound is taken only when it is below a quarter of {@code limit}. */
  static long instructions(TargetSpec t, GemmSpec g, int coresRequested, long limit) {
    double matmuls = Kernels.tiles(g.m(), t.peCols()) * Kernels.tiles(g.n(), t.maxMovingFree()) * Kernels.tiles(g.k(), t.peRows());
    // At most 2 DMA instructions per queue per matmul (both operands reloaded), plus evacuations.
    if (matmuls > limit) {
      return (long) Math.min(Long.MAX_VALUE / 4, matmuls); // a lower bound, already over the guard: split first
    }
    if (matmuls * (2.0 * t.dmaQueues() + 4) <= limit / 4.0) {
      return (long) Math.ceil(matmuls * (2.0 * t.dmaQueues() + 4));
    }
    return exactInstructions(t, g, coresRequested);
  }

  /** The instruction count of {@link #lower(TargetSpec, GemmSpec, int)}, exactly. */
  static long exactInstructions(TargetSpec t, GemmSpec g, int coresRequested) {
    if (!t.supports(g.dtype())) {
      return 0; // lower() reports the dtype
    }
    int cores = Math.min(coresRequested, t.cores());
    GemmTiling tl = choose(t, g, cores);
    return new Emitter(t, g, tl).count();
  }

  /** The naive strategy: every output tile reloads its operand tiles, single-buffered. */
  public static GemmTiling naive(TargetSpec t, GemmSpec g, int cores) {
    GemmTiling b = choose(t, g, Math.min(cores, t.cores()));
    return new GemmTiling("naive", b.gridM(), b.gridN(), t.peCols(), t.maxMovingFree(), t.kPerMatmul(g.dtype()), true, 1);
  }

  /** Picks the core grid and block sizes that minimise HBM traffic within the SBUF budget. */
  public static GemmTiling choose(TargetSpec t, GemmSpec g, int cores) {
    return choose(t, g, cores, Double.MAX_VALUE);
  }

  /**
   * Every tiling {@link #choose} would pick under some SBUF budget up to the target's: the budget
   * is lowered step by step below the current choice's operand footprint, which excludes it and
   * every larger block, until nothing fits. Less traffic first (the target's own choice first).
   * A target with more SBUF has a superset of these candidates, so the fastest of them is never
   * slower than with less SBUF (the simulator picks it; the model here knows no time).
   */
  public static List<GemmTiling> candidates(TargetSpec t, GemmSpec g, int coresRequested, int max) {
    int cores = Math.min(coresRequested, t.cores());
    List<GemmTiling> out = new ArrayList<>();
    double cap = Double.MAX_VALUE;
    while (out.size() < max) {
      GemmTiling c;
      try {
        c = choose(t, g, cores, cap);
      } catch (WorkloadException e) {
        break;
      }
      if (!out.isEmpty() && sameBlocks(out.get(out.size() - 1), c)) {
        break;
      }
      out.add(c);
      cap = operandBytes(t, g, c, c.buffers() >= 2 ? 2 : 1) - 1;
    }
    return out;
  }

  private static boolean sameBlocks(GemmTiling a, GemmTiling b) {
    return a.blockM() == b.blockM() && a.blockN() == b.blockN() && a.blockK() == b.blockK() && a.buffers() == b.buffers()
        && a.mOuter() == b.mOuter();
  }

  /** Operand plus output-staging bytes per SBUF partition of a tiling's block, as the emitter allocates them. */
  static double operandBytes(TargetSpec t, GemmSpec g, GemmTiling c, int buffers) {
    long mc = Kernels.ceilDiv(Kernels.ceilDiv(g.m(), t.peCols()), c.gridM()) * t.peCols();
    long nc = Kernels.ceilDiv(Kernels.ceilDiv(g.n(), t.maxMovingFree()), c.gridN()) * t.maxMovingFree();
    double kRows = Kernels.ceilDiv(Math.min(c.blockK(), g.k()), t.partitions());
    double aBytes = Math.ceil(kRows * Math.min(c.blockM(), mc) * elemBytes(g.dtype()));
    double bBytes = Math.ceil(kRows * Math.min(c.blockN(), nc) * elemBytes(g.dtype()));
    return buffers * (aBytes + bBytes) + 2 * c.blockN() * (g.outDtype().bits() / 8.0);
  }

  /** {@link #choose(TargetSpec, GemmSpec, int)} with the SBUF budget per partition capped at {@code capBytes}. */
  static GemmTiling choose(TargetSpec t, GemmSpec g, int cores, double capBytes) {
    int mTile = t.peCols();
    int nTile = t.maxMovingFree();
    int kTile = t.kPerMatmul(g.dtype());
    long tilesM = Kernels.ceilDiv(g.m(), mTile);
    long tilesN = Kernels.ceilDiv(g.n(), nTile);
    // Core grid: use as many cores as there are output tiles; prefer the squarest per-core slab.
    int bestGm = 1;
    int bestGn = 1;
    double bestCost = Double.MAX_VALUE;
    for (int gm = 1; gm <= cores; gm++) {
      for (int gn = 1; gm * gn <= cores; gn++) {
        if (gm > tilesM || gn > tilesN) {
          continue;
        }
        long mc = Kernels.ceilDiv(tilesM, gm) * mTile;
        long nc = Kernels.ceilDiv(tilesN, gn) * nTile;
        // Time proxy: the slowest core's tiles (compute) plus its compulsory traffic in tile units.
        double compute = (double) Kernels.ceilDiv(tilesM, gm) * Kernels.ceilDiv(tilesN, gn);
        double traffic = (mc * (double) g.k() + g.k() * (double) nc) / (mTile * (double) kTile) / 8.0;
        double cost = compute + traffic - gm * gn * 1e-9;
        if (cost < bestCost - 1e-12) {
          bestCost = cost;
          bestGm = gm;
          bestGn = gn;
        }
      }
    }
    long mc = Math.min(Kernels.ceilDiv(tilesM, bestGm) * mTile, Kernels.ceilDiv(g.m(), mTile) * mTile);
    long nc = Math.min(Kernels.ceilDiv(tilesN, bestGn) * nTile, Kernels.ceilDiv(g.n(), nTile) * nTile);
    long kFull = Kernels.ceilDiv(g.k(), kTile) * kTile;
    double eb = elemBytes(g.dtype());
    double ob = g.outDtype().bits() / 8.0;
    GemmTiling best = null;
    double bestTraffic = Double.MAX_VALUE;
    // 10% of SBUF left for other buffers; on a small-SRAM target where not even one tile fits that way
    // (h100, fp32), the whole partition; and if even that is too small, single-buffered operands (loads
    // then wait for compute, which the simulation shows as DMA stalls).
    double whole = Math.min(capBytes, t.sbufBytesPerPartition());
    double[][] attempts = {{Math.min(capBytes, t.sbufBytesPerPartition() * 0.9), 2}, {whole, 2}, {whole, 1}};
    for (double[] attempt : attempts) {
      double budget = attempt[0];
      int buffers = (int) attempt[1];
      if (best != null) {
        break;
      }
    int rowsPerPartition = kTile / Math.min(kTile, t.partitions());
    for (long bk = kFull; bk >= kTile; bk = Math.max(kTile, (bk / 2 / kTile) * kTile)) {
      for (long bm = mTile; bm <= mc; bm = nextSize(bm, mc, mTile)) {
        for (long bn = nTile; bn <= nc; bn = nextSize(bn, nc, nTile)) {
          if (bk < kFull && (bm / mTile) * (bn / nTile) > t.psumBanks() / 2) {
            continue; // K-blocked: every tile of the block keeps a PSUM bank until K is done
          }
          // Bytes per partition exactly as the emitter allocates them: whole rows of K per partition.
          double kRows = Kernels.ceilDiv(Math.min(bk, g.k()), t.partitions());
          double aBytes = Math.ceil(kRows * Math.min(bm, mc) * eb);
          double bBytes = Math.ceil(kRows * Math.min(bn, nc) * eb);
          double need = buffers * (aBytes + bBytes) + 2 * bn * ob;
          if (need > budget) {
            continue;
          }
          double blocksM = Math.ceil((double) mc / bm);
          double blocksN = Math.ceil((double) nc / bn);
          boolean fullK = bk == kFull;
          double trafficMOuter = mc * (double) g.k() * (fullK ? 1 : blocksN) + g.k() * (double) nc * blocksM;
          double trafficNOuter = g.k() * (double) nc * (fullK ? 1 : blocksM) + mc * (double) g.k() * blocksN;
          boolean mOuter = trafficMOuter <= trafficNOuter;
          double traffic = Math.min(trafficMOuter, trafficNOuter);
          // Prefer less traffic; among equals, larger blocks (fewer, larger DMAs).
          double score = traffic - (bm * bn + bk) * 1e-6;
          if (score < bestTraffic) {
            bestTraffic = score;
            best = new GemmTiling("blocked", bestGm, bestGn, bm, bn, bk, mOuter, buffers);
          }
        }
      }
      if (bk == kTile) {
        break;
      }
    }
    }
    if (best != null && best.blockK() < kFull && best.buffers() >= 2) {
      // K-blocked: each block's operands are used once, so compute waits on load latency unless loads run
      // further ahead. Use as many stages (up to 4, as Hopper/NKI software pipelines do) as fit the whole
      // SBUF partition (the output staging included).
      double rows = Kernels.ceilDiv(best.blockK(), t.partitions());
      double a = Math.ceil(rows * best.blockM() * eb);
      double b = Math.ceil(rows * best.blockN() * eb);
      int stages = 2;
      while (stages < 4 && (stages + 1) * (a + b) + 2 * best.blockN() * ob <= t.sbufBytesPerPartition()) {
        stages++;
      }
      best = new GemmTiling(best.strategy(), best.gridM(), best.gridN(), best.blockM(), best.blockN(), best.blockK(),
          best.mOuter(), stages);
    }
    if (best == null) {
      throw new WorkloadException("gemm", "tiling", g.m() + "x" + g.k() + "x" + g.n(),
          "no block of one " + mTile + "x" + nTile + " tile fits in SBUF (" + t.sbufBytesPerPartition() + " bytes per partition)");
    }
    return best;
  }

  private static long nextSize(long cur, long max, long unit) {
    if (cur >= max) {
      return max + 1;
    }
    long next = cur * 2;
    return next > max ? max : next;
  }

  /** Emits the instruction streams for one tiling. */
  private static final class Emitter {
    final TargetSpec t;
    final GemmSpec g;
    final GemmTiling tl;
    final int mTile;
    final int nTile;
    final int kTile;
    final int parts;
    final ProgramBuilder pb;
    final double eb;
    final DType outType;
    /** Loop descriptors and shared cores (false: every instruction stored, for checking). */
    boolean compact = true;

    Emitter(TargetSpec t, GemmSpec g, GemmTiling tl) {
      this(t, g, tl, null);
    }

    Emitter(TargetSpec t, GemmSpec g, GemmTiling tl, ProgramBuilder into) {
      this.t = t;
      this.g = g;
      this.tl = tl;
      this.mTile = t.peCols();
      this.nTile = t.maxMovingFree();
      // Each matmul accumulates a moving tile's fp32 row into one PSUM bank: a bank smaller than that
      // cannot hold it (the accumulators take the whole PSUM, so the capacity check alone never failed).
      long bankBytes = t.psumBytesPerPartition() / Math.max(1, t.psumBanks());
      if (bankBytes < 4L * nTile) {
        throw new trnsim.isa.workload.WorkloadException("gemm", null, null, "a PSUM bank holds " + bankBytes
            + " B per partition, less than one " + nTile + "-column fp32 accumulator (" + 4L * nTile
            + " B); chip.core.psum.size / banks is too small");
      }
      this.kTile = t.kPerMatmul(g.dtype());
      this.parts = t.partitions();
      this.eb = elemBytes(g.dtype());
      this.outType = g.outDtype();
      String name = "gemm m=" + g.m() + " k=" + g.k() + " n=" + g.n() + " " + g.dtype().label()
          + (g.transposeA() ? " ta" : "") + (g.transposeB() ? " tb" : "");
      this.pb = into != null ? into : new ProgramBuilder(name, t.dmaQueues());
    }

    /** A pool of SBUF slots holding operand blocks; remembers what each slot holds and who read it last. */
    final class Pool {
      final long[] keys;
      final Op[][][] chunkLoads;
      final long[][] chunkKt;
      final boolean[][] awaited;
      final Op[] lastReader;
      int next;

      Pool(int n) {
        keys = new long[n];
        java.util.Arrays.fill(keys, -1);
        chunkLoads = new Op[n][][];
        chunkKt = new long[n][];
        awaited = new boolean[n][];
        lastReader = new Op[n];
      }
    }

    /** One core's output slab: rows [m0, m1) and columns [n0, n1) of C. */
    private record Slab(long m0, long m1, long n0, long n1) {}

    /** The non-empty slabs of the core grid, in core order (M outer, N inner). */
    private List<Slab> slabs() {
      long tmPerCore = Kernels.ceilDiv(Kernels.ceilDiv(g.m(), mTile), tl.gridM());
      long tnPerCore = Kernels.ceilDiv(Kernels.ceilDiv(g.n(), nTile), tl.gridN());
      List<Slab> out = new ArrayList<>();
      for (int gm = 0; gm < tl.gridM(); gm++) {
        for (int gn = 0; gn < tl.gridN(); gn++) {
          long m0 = gm * tmPerCore * mTile;
          long n0 = gn * tnPerCore * nTile;
          long m1 = Math.min(g.m(), m0 + tmPerCore * mTile);
          long n1 = Math.min(g.n(), n0 + tnPerCore * nTile);
          if (m0 < m1 && n0 < n1) {
            out.add(new Slab(m0, m1, n0, n1));
          }
        }
      }
      return out;
    }

    Program emit() {
      // A core's stream depends only on its slab's shape (see count()): cores with a slab shape
      // already emitted share that core's program.
      java.util.Map<Long, Integer> firstOfShape = new java.util.HashMap<>();
      int core = 0;
      for (Slab sl : slabs()) {
        Integer same = firstOfShape.putIfAbsent(key(sl.m1() - sl.m0(), sl.n1() - sl.n0()), core);
        if (same != null && compact) {
          pb.sameAs(core++, same);
        } else {
          emitCore(pb.core(core++), sl.m0(), sl.m1(), sl.n0(), sl.n1());
        }
      }
      pb.flops(g.flops());
      pb.hbmBytesMin((long) Math.ceil((g.m() * g.k() + g.k() * g.n()) * eb + g.m() * g.n() * outType.bits() / 8.0));
      pb.note(tl.describe());
      pb.note("tiles: stationary " + kTile + "x" + mTile + ", moving " + kTile + "x" + nTile + ", PSUM 128x" + nTile + " fp32 per bank");
      if (g.transposeA() || g.transposeB()) {
        pb.note("transposed operand layouts load by DMA transpose, modelled at full DMA rate (published: up to 90%)");
      }
      return pb.build();
    }

    /** Instructions of {@link #emit()}, counted by emitting one core of each slab shape. */
    long count() {
      java.util.Map<Long, Long> perShape = new java.util.HashMap<>();
      long total = 0;
      for (Slab sl : slabs()) {
        total += perShape.computeIfAbsent(key(sl.m1() - sl.m0(), sl.n1() - sl.n0()), k -> {
          ProgramBuilder one = new ProgramBuilder("count", t.dmaQueues());
          new Emitter(t, g, tl, one).emitCore(one.core(0), sl.m0(), sl.m1(), sl.n0(), sl.n1());
          return one.instructions();
        });
      }
      return total;
    }

    void emitCore(ProgramBuilder.CoreBuilder c, long m0, long m1, long n0, long n1) {
      long kFull = g.k();
      long bk = Math.min(tl.blockK(), Kernels.ceilDiv(kFull, kTile) * kTile);
      boolean fullK = bk >= kFull;
      int bufs = tl.buffers();
      long aBytesPP = (long) Math.ceil(Kernels.ceilDiv(Math.min(bk, kFull), parts) * (double) Math.min(tl.blockM(), m1 - m0) * eb);
      long bBytesPP = (long) Math.ceil(Kernels.ceilDiv(Math.min(bk, kFull), parts) * (double) Math.min(tl.blockN(), n1 - n0) * eb);
      long outPP = (long) Math.ceil(Math.min(tl.blockN(), n1 - n0) * outType.bits() / 8.0);
      c.alloc(MemSpace.SBUF, "A blocks", parts, Math.max(1, aBytesPP * bufs));
      c.alloc(MemSpace.SBUF, "B blocks", parts, Math.max(1, bBytesPP * bufs));
      c.alloc(MemSpace.SBUF, "C staging", mTile, Math.max(1, outPP * 2));
      c.alloc(MemSpace.PSUM, "accumulators", parts, t.psumBytesPerPartition());
      Pool pa = new Pool(bufs);
      Pool pbuf = new Pool(bufs);
      int banks = t.psumBanks();
      Op[] bankEvac = new Op[banks];
      int nextBank = 0;
      Op[][] stagingStores = new Op[2][];
      int nextStaging = 0;
      int evacToggle = 0;

      List<long[]> blocks = new ArrayList<>();
      List<Long> mbs = new ArrayList<>();
      for (long mb = m0; mb < m1; mb += tl.blockM()) {
        mbs.add(mb);
      }
      List<Long> nbs = new ArrayList<>();
      for (long nb = n0; nb < n1; nb += tl.blockN()) {
        nbs.add(nb);
      }
      if (tl.mOuter()) {
        for (long mb : mbs) {
          for (long nb : nbs) {
            blocks.add(new long[] {mb, nb});
          }
        }
      } else {
        for (long nb : nbs) {
          for (long mb : mbs) {
            blocks.add(new long[] {mb, nb});
          }
        }
      }
      long outer = -1;
      // The builder folds one level of loop: the output blocks, or, where a core has fewer output
      // blocks than each has K blocks (an h100 GEMM's 64-deep blocks over a long K), the K blocks.
      boolean markK = compact && !fullK && Kernels.ceilDiv(kFull, bk) > blocks.size();
      for (long[] blk : blocks) {
        long mb = blk[0];
        long nb = blk[1];
        // One iteration of the repeating loop for the builder's loop descriptors: an output block,
        // or with the whole K resident (a block reused across the inner loop) a pass of the outer loop.
        long o = tl.mOuter() ? mb : nb;
        if (compact && (!fullK || o != outer)) {
          c.iteration();
        }
        outer = o;
        long me = Math.min(m1, mb + tl.blockM());
        long ne = Math.min(n1, nb + tl.blockN());
        int tileCountM = (int) Kernels.ceilDiv(me - mb, mTile);
        int tileCountN = (int) Kernels.ceilDiv(ne - nb, nTile);
        // Per output tile: the last matmul and the PSUM bank it accumulates in.
        Op[][] lastMm = new Op[tileCountM][tileCountN];
        int[][] bankOf = new int[tileCountM][tileCountN];
        for (long kb = 0; kb < kFull; kb += bk) {
          if (markK && kb > 0) {
            c.iteration();
          }
          long ke = Math.min(kFull, kb + bk);
          int aSlot = acquire(c, pa, key(mb, kb), ke - kb, me - mb);
          int bSlot = acquire(c, pbuf, key(kb, nb), ke - kb, ne - nb);
          for (int im = 0; im < tileCountM; im++) {
            long mSize = Math.min(mTile, me - mb - (long) im * mTile);
            for (int in = 0; in < tileCountN; in++) {
              long nSize = Math.min(nTile, ne - nb - (long) in * nTile);
              boolean firstK = kb == 0;
              Op bankDep = null;
              if (firstK) {
                int bank = nextBank;
                nextBank = (nextBank + 1) % banks;
                bankOf[im][in] = bank;
                bankDep = bankEvac[bank];
              }
              long ktCount = Kernels.ceilDiv(ke - kb, kTile);
              for (long kt = 0; kt < ktCount; kt++) {
                long kSize = Math.min(kTile, ke - kb - kt * kTile);
                List<Op> deps = new ArrayList<>();
                if (bankDep != null && kt == 0) {
                  deps.add(bankDep);
                }
                await(pa, aSlot, kt, deps);
                await(pbuf, bSlot, kt, deps);
                boolean acc = !(firstK && kt == 0);
                Op mm = c.add(matmul(kSize, mSize, nSize, acc), deps.toArray(new Op[0]));
                lastMm[im][in] = mm;
                pa.lastReader[aSlot] = mm;
                pbuf.lastReader[bSlot] = mm;
              }
            }
          }
          if (ke < kFull) {
            continue;
          }
          // K done for this block: evacuate each tile and store each row of tiles.
          for (int im = 0; im < tileCountM; im++) {
            long mSize = Math.min(mTile, me - mb - (long) im * mTile);
            int slot = nextStaging;
            nextStaging ^= 1;
            Op[] prevStore = stagingStores[slot];
            Op lastVec = null;
            Op lastAct = null;
            for (int in = 0; in < tileCountN; in++) {
              long nSize = Math.min(nTile, ne - nb - (long) in * nTile);
              Op[] deps = in == 0 && prevStore != null ? Kernels.concat(prevStore, lastMm[im][in]) : new Op[] {lastMm[im][in]};
              Op ev;
              if ((evacToggle++ & 1) == 0) {
                ev = c.add(evacuation(true, mSize, nSize), deps);
                lastVec = ev;
              } else {
                ev = c.add(evacuation(false, mSize, nSize), deps);
                lastAct = ev;
              }
              bankEvac[bankOf[im][in]] = ev;
            }
            long rowBytes = (long) Math.ceil((ne - nb) * outType.bits() / 8.0);
            int lq = Kernels.loadQueues(t.dmaQueues());
            stagingStores[slot] = Kernels.spreadDma(c, lq, t.dmaQueues() - lq, MemSpace.SBUF, MemSpace.HBM, (int) mSize, rowBytes,
                nonNull(lastVec, lastAct));
          }
        }
      }
    }

    /**
     * One instance per matmul shape: the stream is the same, and a loop body's repetitions then
     * hold the very same instructions (the builder compares them by reference first).
     */
    private final java.util.Map<Long, Instruction> shapes = new java.util.HashMap<>();

    Instruction matmul(long kSize, long mSize, long nSize, boolean acc) {
      long key = ((kSize * 1024 + mSize) * 65536 + nSize) * 2 + (acc ? 1 : 0);
      return shapes.computeIfAbsent(key, k -> new Instruction.MatMul(TensorRef.sbuf((int) kSize, mSize, g.dtype()),
          TensorRef.sbuf((int) kSize, nSize, g.dtype()), TensorRef.psum((int) mSize, nSize, DType.FP32), acc));
    }

    /** The PSUM-to-SBUF copy of an output tile, on the vector engine or (activation) the scalar engine. */
    Instruction evacuation(boolean vector, long mSize, long nSize) {
      long key = -(((mSize * 65536 + nSize) * 2 + (vector ? 1 : 0)) + 1);
      return shapes.computeIfAbsent(key, k -> {
        TensorRef ps = TensorRef.psum((int) mSize, nSize, DType.FP32);
        TensorRef sb = TensorRef.sbuf((int) mSize, nSize, outType);
        return vector ? new Instruction.TensorCopy(EngineKind.VECTOR, ps, sb) : new Instruction.Activation(ps, sb, ActFunc.IDENTITY, false);
      });
    }

    static Op[] nonNull(Op a, Op b) {
      if (a == null) {
        return new Op[] {b};
      }
      if (b == null) {
        return new Op[] {a};
      }
      return new Op[] {a, b};
    }

    static long key(long a, long b) {
      return a * 1_000_003L + b;
    }

    /** Makes the block with {@code key} resident in a slot, loading it (in K chunks) if needed. */
    int acquire(ProgramBuilder.CoreBuilder c, Pool p, long key, long kRange, long freeElems) {
      for (int s = 0; s < p.keys.length; s++) {
        if (p.keys[s] == key) {
          return s;
        }
      }
      int s = p.next;
      p.next = (p.next + 1) % p.keys.length;
      long ktCount = Kernels.ceilDiv(kRange, kTile);
      double rowsPerKt = Math.min(kTile, kRange) / (double) Math.min(parts, kTile) ;
      long bytesPerKtPP = (long) Math.ceil(rowsPerKt * freeElems * eb);
      // Chunks of at least 8 KiB per partition keep DMAs above the size-curve knee.
      long ktPerChunk = tl.strategy().equals("naive") ? ktCount : Math.max(1, Kernels.ceilDiv(8192, Math.max(1, bytesPerKtPP)));
      int chunks = (int) Kernels.ceilDiv(ktCount, ktPerChunk);
      p.keys[s] = key;
      p.chunkLoads[s] = new Op[chunks][];
      p.chunkKt[s] = new long[chunks];
      p.awaited[s] = new boolean[chunks];
      Op war = p.lastReader[s];
      for (int ch = 0; ch < chunks; ch++) {
        long kt0 = ch * ktPerChunk;
        long kts = Math.min(ktPerChunk, ktCount - kt0);
        long rows = Math.min(kRange - kt0 * kTile, kts * kTile);
        int partitions = (int) Math.min(parts, rows);
        long bytesPP = (long) Math.ceil(Kernels.ceilDiv(rows, partitions) * (double) freeElems * eb);
        p.chunkLoads[s][ch] = war == null
            ? Kernels.spreadDma(c, 0, Kernels.loadQueues(t.dmaQueues()), MemSpace.HBM, MemSpace.SBUF, partitions, bytesPP)
            : Kernels.spreadDma(c, 0, Kernels.loadQueues(t.dmaQueues()), MemSpace.HBM, MemSpace.SBUF, partitions, bytesPP, war);
        p.chunkKt[s][ch] = kt0 + kts;
      }
      return s;
    }

    /** Adds the loads of the chunk holding k-tile {@code kt} to {@code deps}, the first time the tensor engine needs it. */
    void await(Pool p, int slot, long kt, List<Op> deps) {
      long[] ends = p.chunkKt[slot];
      for (int ch = 0; ch < ends.length; ch++) {
        if (kt < ends[ch]) {
          if (!p.awaited[slot][ch]) {
            p.awaited[slot][ch] = true;
            for (Op o : p.chunkLoads[slot][ch]) {
              deps.add(o);
            }
          }
          return;
        }
      }
    }
  }
}
