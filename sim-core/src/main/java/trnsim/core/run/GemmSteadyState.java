package trnsim.core.run;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import trnsim.core.config.HardwareSpec;
import trnsim.core.hw.ChipModel;
import trnsim.core.stats.StatsSnapshot;
import trnsim.isa.DType;
import trnsim.isa.Program;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.ProgramException;
import trnsim.isa.lower.GemmLowering;
import trnsim.isa.lower.GemmSpec;
import trnsim.isa.lower.GemmTiling;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.Step;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * Steady-state acceleration of a blocked GEMM: simulation cost that grows with the kernel's
 * distinct iterations, not with M, N and K.
 *
 * <p>With the tiling pinned to the one the full problem gets, every core walks a sequence of
 * identical output blocks (and, K-blocked, each block a sequence of identical K blocks), then
 * possibly one ragged block. A GEMM with {@code j} fewer whole blocks on every core is the same
 * kernel with {@code j} fewer iterations of that loop and the same ragged tails ({@link Plan}). The
 * accelerator lowers and simulates three such kernels (one more block than the operand pool holds,
 * so that no block is still resident from an earlier pass, and two more, spaced by the schedule's
 * period) and accepts them only if they are in a steady state: every counter (instructions, FLOPs,
 * bytes, MACs, buffer bytes) grows by exactly the same amount per block, the end time by the same
 * amount to within {@link #TIME_TOLERANCE} of a block's time, and the busy and stall times within
 * looser bounds ({@link #extrapolateStats}). Then the full kernel's counts are extrapolated exactly
 * and its times linearly. Without an L2 each reduced kernel is itself extrapolated along another
 * axis when it can be, so the cost is that of about nine small kernels. Anything else (a grid whose
 * remainder would move between cores, too few blocks, a trace, another strategy, a schedule that
 * changes between the samples) returns null and the caller simulates in full.
 *
 * <p>Along K only K-blocked tilings: a full-K tiling holds all of K, so its blocks change with K (the
 * lowering spreads a block's DMAs over the queues by size and the evacuation per output tile does
 * not grow with K; checked: the per-step deltas of a trn2 4096^3 GEMM differ by 3-12% along K).
 * The h100 8192^3 GEMM on its 12 x 11 grid is refused too: the time one more K block adds moves
 * between 9.8 and 11.8 us from 4 to 128 K blocks (132 SMs' loads share the L2 bandwidth and drift
 * in phase as the blocks lengthen), so no three small samples predict it. The split pieces of the
 * h100 16384^3 GEMM (132 x 1 grid, one block per core) repeat exactly every three K blocks.
 *
 * <p>The shared L2 of a GPU filters reads by the whole problem's reuse ({@code ChipModel}); the
 * reduced kernels are given the full problem's hit fraction so that their blocks cost what the full
 * kernel's do (and are then not nested, since that fraction comes from their whole programs).
 */
public final class GemmSteadyState {
  /**
   * Largest difference between the two per-block growths of the end time, relative to a block's
   * time. The extrapolated time's error is about this fraction of the time it extrapolates, so 5e-4
   * keeps it at half the 0.1% the accelerator promises; it admits the phase wobble of 132 cores
   * sharing the L2 bandwidth (3e-4 per block on an h100 GEMM at 1.76 GHz).
   */
  public static final double TIME_TOLERANCE = 5e-4;
  /** Largest difference between the two per-block growths of an engine's busy time, relative to a block's time. */
  public static final double BUSY_TOLERANCE = 1e-3;
  /** As {@link #BUSY_TOLERANCE}, for stall times (waits on other engines and the shared bandwidth). */
  public static final double STALL_TOLERANCE = 0.1;
  /**
   * Relative rounding allowed in a counter's per-block growth: the L2 filter counts fractional
   * bytes (hit fraction x bytes), summed in floating point; integral counters must match exactly.
   */
  static final double COUNT_ROUNDING = 1e-9;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(GemmSteadyState.class);
  private static final Set<String> KEYS = Set.of("m", "k", "n", "dtype", "cores", "ta", "tb", "strategy");

  private GemmSteadyState() {}

  /**
   * The accelerated result of an inline {@code gemm:} workload, or null when it does not apply. A
   * GEMM above the resource guard is split into the same pieces as the full path splits it
   * ({@link GemmLowering#split}), and each distinct piece is extrapolated (all or none).
   */
  public static WorkloadResult tryRun(HardwareSpec hw, String workload, RunOptions opts) {
    return tryRun(hw, workload, opts, new Memo());
  }

  /**
   * What one caller's runs of a workload at different clocks share (the power limiter's): the
   * split, the reduced kernels' lowerings (lowering reads no clock), and whether the accelerator
   * refused the workload, so that it is simulated the same way at every clock it is tried at. One
   * per call chain; not thread-safe.
   */
  public static final class Memo {
    private final Map<List<Object>, Object> values = new HashMap<>();

    @SuppressWarnings("unchecked")
    <T> T get(List<Object> key, java.util.function.Supplier<T> make) {
      return (T) values.computeIfAbsent(key, k -> make.get());
    }
  }

  /** As {@link #tryRun(HardwareSpec, String, RunOptions)}, sharing lowerings and refusals through {@code memo}. */
  public static WorkloadResult tryRun(HardwareSpec hw, String workload, RunOptions opts, Memo memo) {
    if (!opts.steadyState() || opts.trace().enabled()) {
      return null;
    }
    List<Object> refusal = List.of("refused", Targets.withoutClock(Targets.of(hw)), workload);
    if (memo.values.containsKey(refusal)) {
      return null;
    }
    WorkloadResult r = accelerate(hw, workload, opts, memo);
    if (r == null) {
      memo.values.put(refusal, Boolean.TRUE);
    }
    return r;
  }

  private static WorkloadResult accelerate(HardwareSpec hw, String workload, RunOptions opts, Memo memo) {
    GemmSpec g;
    int cores;
    List<GemmLowering.Piece> pieces;
    try {
      WorkloadSpec w = WorkloadSpec.parse(workload, "--workload");
      if (!w.kind().equals("gemm") || !KEYS.containsAll(w.params().keySet())
          || !w.string("strategy", "auto").equals("auto")) {
        return null;
      }
      TargetSpec t = Targets.of(hw);
      g = new GemmSpec(w.positive("m", null), w.positive("k", null), w.positive("n", null), w.dtype("dtype", DType.BF16),
          w.bool("ta", false), w.bool("tb", false));
      cores = (int) Math.min(w.positive("cores", (long) t.cores()), t.cores());
      if (!t.supports(g.dtype())) {
        return null;
      }
      if (opts.searchTilings() && trnsim.isa.lower.GemmLowering.searchable(t, g)) {
        return null; // the tiling search simulates its candidates in full (GemmLowering.SEARCH_MAX_MATMULS)
      }
      GemmSpec whole = g;
      int used = cores;
      pieces = memo.get(List.of("split", Targets.withoutClock(t), g, cores),
          () -> GemmLowering.split(t, whole, used, ProgramBuilder.MAX_INSTRUCTIONS));
    } catch (WorkloadException | ProgramException | IllegalArgumentException e) {
      return null; // the full path reports it
    }
    boolean split = pieces.size() > 1 || pieces.get(0).copies() > 1;
    List<Step> steps = new ArrayList<>();
    Map<Program, RunResult> known = new HashMap<>();
    for (GemmLowering.Piece pc : pieces) {
      // A piece carries its share of the whole GEMM's compulsory bytes (which sets its L2 hit fraction) and the split note.
      Program piece = split ? GemmLowering.asPieceOf(new Program("", List.of(), List.of(), pc.gemm().flops(), 0), pc, g, pieces) : null;
      RunResult r = run(hw, pc.gemm(), cores, opts, true, piece == null ? -1 : piece.hbmBytesMin(), memo);
      if (r == null) {
        return null;
      }
      if (piece != null) {
        List<String> notes = new ArrayList<>(piece.notes());
        notes.addAll(r.notes());
        r = new RunResult(r.hardware(), r.workload(), notes, r.timeSeconds(), r.flops(), r.peakFlopsPerSecond(), r.hbmBytes(),
            r.hbmBytesPerSecondPeak(), r.coresUsed(), r.engines(), r.bottleneck(), r.instructions(), r.stats());
      }
      Program meta = new Program(r.workload(), List.of(), r.notes(), pc.gemm().flops(), piece == null ? 0 : piece.hbmBytesMin());
      steps.add(new Step("gemm", meta, pc.copies(), g.dtype()));
      known.put(meta, r);
    }
    LoweredWorkload lw = new LoweredWorkload(workload, steps, 0).launched();
    return WorkloadRunner.run(hw, lw, opts, known);
  }

  /**
   * The full GEMM's result from three reduced kernels, or null when they are not in steady state.
   * Tries the loops with the most blocks first (M, N or K; M or N first on a tie, whichever is the
   * outer loop).
   */
  public static RunResult run(HardwareSpec hw, GemmSpec g, int cores, RunOptions opts) {
    return run(hw, g, cores, opts, true, -1, new Memo());
  }

  /** With {@code requireGain} false, also kernels whose samples are more than half their blocks (for tests). */
  static RunResult run(HardwareSpec hw, GemmSpec g, int cores, RunOptions opts, boolean requireGain) {
    return run(hw, g, cores, opts, requireGain, -1, new Memo());
  }

  /**
   * @param compulsoryBytes the kernel's compulsory HBM bytes when they are not its own (a piece of a
   *     split GEMM carries a share of the whole's), or -1
   */
  static RunResult run(HardwareSpec hw, GemmSpec g, int cores, RunOptions opts, boolean requireGain,
      long compulsoryBytes, Memo memo) {
    TargetSpec t = Targets.of(hw);
    GemmTiling tl = GemmLowering.choose(t, g, cores);
    for (Dim d : order(t, g, tl, requireGain)) {
      RunResult r = along(hw, t, g, cores, tl, d, requireGain, Double.NaN, compulsoryBytes, true, opts, memo);
      if (r != null) {
        return r;
      }
    }
    return null;
  }

  /** The loops a GEMM's blocks can be extrapolated along. */
  enum Dim {
    M("m="), N("n="), K("k=");

    /** How the dimension appears in a kernel's name ({@code gemm m=.. k=.. n=.. dtype}). */
    final String key;

    Dim(String key) {
      this.key = key;
    }
  }

  /** The axes that can be extrapolated, most blocks first (on a tie the outer of M and N, then the inner, then K). */
  private static List<Dim> order(TargetSpec t, GemmSpec g, GemmTiling tl, boolean requireGain) {
    List<Dim> dims = new ArrayList<>(List.of(tl.mOuter() ? Dim.M : Dim.N, tl.mOuter() ? Dim.N : Dim.M, Dim.K));
    dims.removeIf(d -> Plan.of(t, g, tl, d, requireGain) == null);
    dims.sort(java.util.Comparator.comparingLong(d -> -Plan.of(t, g, tl, d, requireGain).iterations()));
    return dims;
  }

  /**
   * Which kernels stand in for the full one along a loop. The full kernel's busiest core walks
   * {@code iterations} whole blocks of {@code block} along the dimension (then, if the extent does
   * not divide, one ragged block); reduced kernel {@code b} is the full one with {@code iterations - b}
   * whole blocks removed from every core, so every core keeps its own ragged tail (its remainder
   * tiles, a ragged last tile or K block), and only the number of whole blocks varies. Along M or N
   * that removes {@code grid * block} from the extent; the lowering shares the reduced extent out
   * so that each core loses exactly its blocks only when the cores' tile counts shift uniformly,
   * which {@link #of} checks core by core (a grid whose remainder lands differently is refused).
   *
   * @param shrink extent removed per block removed
   * @param samples the reduced kernels' block counts (busiest core)
   */
  record Plan(Dim dim, long extent, long shrink, long iterations, long[] samples) {
    GemmSpec reduced(GemmSpec g, long blocks) {
      long e = extent - (iterations - blocks) * shrink;
      return new GemmSpec(dim == Dim.M ? e : g.m(), dim == Dim.K ? e : g.k(), dim == Dim.N ? e : g.n(), g.dtype(),
          g.transposeA(), g.transposeB());
    }

    long reducedExtent(int sample) {
      return extent - (iterations - samples[sample]) * shrink;
    }

    static Plan of(TargetSpec t, GemmSpec g, GemmTiling tl, Dim dim, boolean requireGain) {
      if (!tl.strategy().equals("blocked")) {
        return null;
      }
      long extent;
      long shrink;
      long iterations;
      long lag = 0;
      if (dim == Dim.K) {
        // K-blocked: every output block accumulates over K in blocks of blockK; the pinned block size
        // does not change with K (a full-K tiling holds all of K, so its blocks change with it).
        extent = g.k();
        if (tl.blockK() >= extent) {
          return null;
        }
        shrink = tl.blockK();
        iterations = extent / shrink;
      } else {
        boolean m = dim == Dim.M;
        long tile = m ? t.peCols() : t.maxMovingFree();
        long block = m ? tl.blockM() : tl.blockN();
        int grid = m ? tl.gridM() : tl.gridN();
        extent = m ? g.m() : g.n();
        if (block % tile != 0) {
          return null;
        }
        long blockTiles = block / tile;
        long[] full = coreTiles(ceilDiv(extent, tile), grid);
        iterations = full[0] / blockTiles;
        long fewest = iterations;
        for (long c : full) {
          fewest = c > 0 ? Math.min(fewest, c / blockTiles) : fewest;
        }
        // The samples start where the core with the fewest whole blocks is past the operand pool too.
        lag = iterations - fewest;
        shrink = grid * block;
        if (!shiftsUniformly(full, grid, blockTiles, iterations, tl.buffers() + 1 + lag)) {
          return null;
        }
      }
      // Past the pipeline's start and past the operand pool (a block still resident is not reloaded, so
      // kernels with no more blocks than buffers move less data per block).
      long first = tl.buffers() + 1 + lag;
      // Along K the operand pool's slots rotate once per K block, so the schedule repeats every
      // {@code buffers} K blocks (checked: an h100 GEMM's end time grows by 631,818 then 632,323 ps per
      // K block, and by exactly the same amount every three); M and N blocks repeat one by one.
      long spacing = dim == Dim.K ? tl.buffers() : 1;
      long[] samples = {first, first + spacing, first + 2 * spacing};
      // Worth it only if the samples are at most half the blocks (else the full simulation is as cheap).
      if (iterations <= samples[2] || requireGain && 2 * (samples[0] + samples[1] + samples[2]) > iterations) {
        return null;
      }
      return new Plan(dim, extent, shrink, iterations, samples);
    }

    /**
     * True when removing whole blocks from the extent removes exactly that many blocks from every
     * used core (and leaves unused cores unused) for every kernel from {@code fromBlocks} up: the
     * lowering gives each core ceil(tiles / grid) tiles in turn, so a remainder can move between
     * cores as the extent shrinks.
     */
    static boolean shiftsUniformly(long[] full, int grid, long blockTiles, long iterations, long fromBlocks) {
      long tiles = 0;
      for (long c : full) {
        tiles += c;
      }
      for (long b = fromBlocks; b < iterations; b++) {
        long removed = (iterations - b) * blockTiles;
        long[] reduced = coreTiles(tiles - grid * removed, grid);
        for (int c = 0; c < grid; c++) {
          if (full[c] == 0 ? reduced[c] != 0 : reduced[c] != full[c] - removed) {
            return false;
          }
        }
      }
      return true;
    }
  }

  /** Tiles per core along one grid dimension, as the lowering deals them: ceil(tiles / grid) each in turn. */
  static long[] coreTiles(long tiles, int grid) {
    long per = ceilDiv(tiles, grid);
    long[] out = new long[grid];
    for (int c = 0; c < grid; c++) {
      out[c] = Math.max(0, Math.min(per, tiles - c * per));
    }
    return out;
  }

  /**
   * Extrapolates along one axis. With {@code nest}, each reduced kernel is itself extrapolated along
   * another axis (falling back to its full simulation), so the cost stays flat in two dimensions.
   *
   * @param forcedHit the L2 hit fraction of the enclosing full problem, or NaN to derive it here
   * @param compulsoryBytes the full kernel's compulsory HBM bytes, or -1 for its own
   */
  private static RunResult along(HardwareSpec hw, TargetSpec t, GemmSpec g, int cores, GemmTiling tl, Dim dim,
      boolean requireGain, double forcedHit, long compulsoryBytes, boolean nest, RunOptions opts, Memo memo) {
    Plan plan = Plan.of(t, g, tl, dim, requireGain);
    if (plan == null) {
      return null;
    }
    long[] samples = plan.samples();
    long iterations = plan.iterations();
    GemmSpec[] reduced = new GemmSpec[samples.length];
    RunResult[] rs = new RunResult[samples.length];
    boolean allInner = nest && hw.chip().l2() == null;
    for (int i = 0; i < samples.length; i++) {
      reduced[i] = plan.reduced(g, samples[i]);
      // Without an L2 no statistic depends on the whole problem's reuse, so the reduced kernel can
      // be extrapolated along another axis without lowering it whole.
      rs[i] = null;
      if (allInner) {
        for (Dim other : order(t, reduced[i], tl, requireGain)) {
          if (other != dim && rs[i] == null) {
            rs[i] = along(hw, t, reduced[i], cores, tl, other, requireGain, 0, -1, false, opts, memo);
          }
        }
      }
      allInner &= rs[i] != null;
    }
    if (!allInner && !simulateReduced(hw, t, cores, tl, reduced, samples, iterations, forcedHit, compulsoryBytes, rs, opts, memo)) {
      return null;
    }
    StatsSnapshot stats = extrapolateStats(rs, samples, iterations);
    if (stats == null) {
      return null;
    }
    long end = (long) stats.get("sim.end_ps");
    List<String> notes = new ArrayList<>(rs[2].notes());
    notes.add("steady state: " + iterations + " " + dim + " blocks per core extrapolated from " + samples[0] + ", "
        + samples[1] + " and " + samples[2] + " simulated" + (dim != Dim.K && plan.extent() % plan.shrink() != 0
            ? " (each core keeps its ragged remainder)" : "") + " (--no-steady-state simulates all)");
    String name = rs[2].workload().replace(dim.key + plan.reducedExtent(2) + " ", dim.key + plan.extent() + " ");
    return KernelSimulator.summarise(hw, name, notes, rs[2].coresUsed(), g.dtype(), end, stats);
  }

  /**
   * Lowers and simulates the reduced kernels in full (filling {@code rs}), with the DMA traffic
   * checked for exact linearity and the whole problem's L2 hit fraction imposed; false if the
   * traffic is not linear in the block count.
   */
  private static boolean simulateReduced(HardwareSpec hw, TargetSpec t, int cores, GemmTiling tl,
      GemmSpec[] reduced, long[] samples, long iterations, double forcedHit, long compulsoryBytes, RunResult[] rs,
      RunOptions opts, Memo memo) {
    Program[] programs = new Program[samples.length];
    double[][] dma = new double[samples.length][];
    for (int i = 0; i < samples.length; i++) {
      GemmSpec r = reduced[i];
      programs[i] = memo.get(List.of("lower", Targets.withoutClock(t), r, cores, tl), () -> GemmLowering.lower(t, r, cores, tl));
      dma[i] = hbmDmaBytes(programs[i]);
    }
    double[] dmaFull = new double[2];
    for (int c = 0; c < 2; c++) {
      if (dma[2][c] - dma[1][c] != dma[1][c] - dma[0][c]) {
        return false;
      }
      dmaFull[c] = extrapolate(dma[1][c], dma[2][c], samples, iterations);
    }
    long step = samples[2] - samples[1];
    long fullMin = compulsoryBytes >= 0 ? compulsoryBytes : programs[2].hbmBytesMin()
        + (programs[2].hbmBytesMin() - programs[1].hbmBytesMin()) * (iterations - samples[2]) / step;
    double hit = !Double.isNaN(forcedHit) ? forcedHit : hw.chip().l2() == null || dmaFull[0] <= 0 ? 0
        : 1 - Math.max(0, Math.min(dmaFull[0], fullMin - dmaFull[1])) / dmaFull[0];
    for (int i = 0; i < samples.length; i++) {
      rs[i] = KernelSimulator.run(hw, withHitFraction(programs[i], dma[i], hit), reduced[i].dtype(), opts);
    }
    return true;
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /**
   * The reduced program with its compulsory traffic set so that ChipModel derives the full
   * problem's L2 hit fraction {@code hit} from it: {@code 1 - (min - writes) / reads = hit}.
   */
  private static Program withHitFraction(Program p, double[] dma, double hit) {
    if (hit <= 0) {
      return p;
    }
    long min = Math.round(dma[1] + (1 - hit) * dma[0]);
    return new Program(p.name(), p.cores(), p.notes(), p.flops(), min);
  }

  /** HBM-sourced and HBM-destined DMA bytes of a program, counted as ChipModel counts them. */
  private static double[] hbmDmaBytes(Program program) {
    long[] rw = ChipModel.hbmDmaBytes(program);
    return new double[] {rw[0], rw[1]};
  }

  private static StatsSnapshot refused(String key, double d1, double d2) {
    LOG.debug("steady state refused: {} grows by {} then {} per block", key, d1, d2);
    return null;
  }

  /** Linear in the iteration count through the first and last samples: their mean growth per block. */
  static double meanGrowth(double atFirst, double atLast, long[] samples, long target) {
    return atLast + (atLast - atFirst) * (target - samples[2]) / (double) (samples[2] - samples[0]);
  }

  /** Linear in the iteration count through the last two samples (equally spaced). */
  static double extrapolate(double atPrev, double atLast, long[] samples, long target) {
    return atLast + (atLast - atPrev) * (target - samples[2]) / (double) (samples[2] - samples[1]);
  }

  /**
   * Every statistic at {@code blocks} blocks: counters exactly (their per-block growth must be
   * identical, up to floating-point rounding of the L2 filter's fractional bytes), the end time
   * linearly (its per-block growth must agree within {@link #TIME_TOLERANCE}), the other times
   * (busy, stall) with their mean growth over the two steps (which must agree within
   * {@link #BUSY_TOLERANCE} or {@link #STALL_TOLERANCE} of a block's time), peaks and capacities as
   * they are (they must not grow), rates recomputed. Null if any statistic breaks this.
   *
   * <p>Why the engine times get a looser test than the end time: an engine's busy time is the sum
   * of its instructions' spans on its own clock edges, and a DMA queue's stalls depend on the phase
   * of the other cores' transfers it shares bandwidth with, so they wobble from block to block by a
   * few hundred picoseconds while the kernel's pace (its end time) is exactly periodic. Their mean
   * growth is what the remaining blocks add.
   */
  static StatsSnapshot extrapolateStats(RunResult[] rs, long[] samples, long iterations) {
    // A stall counter is reported only when non-zero: a key missing from a run is a zero. The three
    // runs' values are aligned by position on their sorted union of names (a big chip has tens of
    // thousands of statistics with long shared prefixes, which make sorted-map look-ups slow).
    List<String> keys = sortedUnion(rs);
    double[] a = aligned(rs[0], keys);
    double[] b = aligned(rs[1], keys);
    double[] c = aligned(rs[2], keys);
    int endAt = Collections.binarySearch(keys, "sim.end_ps");
    double endDelta = c[endAt] - b[endAt];
    double[] out = new double[keys.size()];
    for (int i = 0; i < out.length; i++) {
      String k = keys.get(i);
      double d1 = b[i] - a[i];
      double d2 = c[i] - b[i];
      double v;
      if (k.endsWith("_per_s")) {
        continue; // recomputed below
      } else if (k.contains("peak_concurrent") || k.contains("capacity")) {
        if (d1 != 0 || d2 != 0) {
          return refused(k, d1, d2);
        }
        v = c[i];
      } else if (k.equals("sim.end_ps")) {
        if (Math.abs(d2 - d1) > TIME_TOLERANCE * Math.abs(d2)) {
          return refused(k, d1, d2);
        }
        v = Math.round(meanGrowth(a[i], c[i], samples, iterations));
      } else if (k.equals("sim.end_clock_ps")) {
        // The last chain's clock share: an estimate the power limiter checks by simulating, so its
        // mean growth is taken whatever the wobble (the chain that ends last may change between blocks).
        v = Math.round(meanGrowth(a[i], c[i], samples, iterations));
      } else if (k.endsWith("_ps") || k.equals("sim.events")) {
        double tolerance = k.contains("stall") ? STALL_TOLERANCE : BUSY_TOLERANCE;
        double scale = Math.max(Math.abs(d2), k.equals("sim.events") ? 1 : endDelta);
        if (Math.abs(d2 - d1) > tolerance * scale) {
          return refused(k, d1, d2);
        }
        v = Math.round(meanGrowth(a[i], c[i], samples, iterations));
      } else {
        // Counters (and buffer sizes, which grow with K when all of K is held): exactly linear.
        if (Math.abs(d1 - d2) > COUNT_ROUNDING * Math.max(1, Math.abs(d2))) {
          return refused(k, d1, d2);
        }
        v = extrapolate(b[i], c[i], samples, iterations);
      }
      out[i] = v;
    }
    double seconds = out[endAt] / 1e12;
    for (int i = 0; i < out.length; i++) {
      String k = keys.get(i);
      if (k.endsWith("achieved_bytes_per_s")) {
        int bytesAt = Collections.binarySearch(keys, k.replace("achieved_bytes_per_s", "transferred_bytes"));
        out[i] = seconds > 0 ? (bytesAt >= 0 ? out[bytesAt] : 0.0) / seconds : 0;
      } else if (k.endsWith("_per_s")) {
        out[i] = c[i];
      }
    }
    return StatsSnapshot.ofSorted(keys, out);
  }

  /** A run's statistics at the positions of {@code keys} (its own names among them), zero where it has none. */
  private static double[] aligned(RunResult r, List<String> keys) {
    Map<String, Double> values = r.stats().values();
    double[] out = new double[keys.size()];
    if (values.size() == keys.size()) { // the union holds its names, so they are exactly the union
      int i = 0;
      for (double v : values.values()) {
        out[i++] = v;
      }
      return out;
    }
    for (int i = 0; i < out.length; i++) {
      out[i] = values.getOrDefault(keys.get(i), 0.0);
    }
    return out;
  }

  /** Every run's statistic names, sorted: the last run's (already sorted) plus any the others add. */
  private static List<String> sortedUnion(RunResult[] rs) {
    Map<String, Double> last = rs[2].stats().values();
    List<String> keys = new ArrayList<>(last.keySet());
    Set<String> extra = new HashSet<>();
    for (int i = 0; i < 2; i++) {
      Map<String, Double> own = rs[i].stats().values();
      if (sameNames(own, last)) {
        continue;
      }
      for (String k : own.keySet()) {
        if (!last.containsKey(k)) {
          extra.add(k);
        }
      }
    }
    if (!extra.isEmpty()) {
      keys.addAll(extra);
      keys.sort(null);
    }
    return keys;
  }

  /** True when two sorted statistic maps have the same names (compared in order: no look-ups). */
  private static boolean sameNames(Map<String, Double> x, Map<String, Double> y) {
    if (x.size() != y.size()) {
      return false;
    }
    var yi = y.keySet().iterator();
    for (String k : x.keySet()) {
      if (!k.equals(yi.next())) {
        return false;
      }
    }
    return true;
  }
}
