package trnsim.core.run;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import trnsim.core.config.HardwareSpec;
import trnsim.core.stats.StatsSnapshot;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.Program;
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
 * distinct iterations, not with M and N.
 *
 * <p>With the tiling pinned to the one the full problem gets, every core walks the same sequence
 * of identical output blocks; a GEMM with {@code j} blocks per core along M (or N) is the same
 * kernel with {@code j} iterations of that loop. The accelerator lowers and simulates three such
 * kernels (one more block than the operand pool holds, so that no block is still resident from an
 * earlier pass, and the next two) and accepts them only if they are in a steady state: every
 * counter (instructions, FLOPs, bytes, MACs, buffer bytes) grows by exactly the same amount per
 * block, and the end time, event count and every busy and stall time grow by the same amount to
 * within {@link #TIME_TOLERANCE} of a block's time. Then the full kernel's counts are extrapolated
 * exactly and its times linearly. Each of the three reduced kernels is itself extrapolated along
 * the other axis the same way when it can be, so the cost is that of about nine small kernels.
 * Anything else (a ragged core or block, too few blocks, a trace, another strategy, a schedule
 * that changes between the samples) returns null and the caller simulates in full.
 *
 * <p>Why not K: the lowering spreads a block's DMAs over the queues by size and the evacuation
 * per output tile does not grow with K, so the schedule changes regime as K shrinks (checked: the
 * per-step deltas of a 4096^3 GEMM differ by 3-12% along K); along M and N the blocks are
 * identical.
 *
 * <p>The shared L2 of a GPU filters reads by the whole problem's reuse ({@code ChipModel}); the
 * reduced kernels are given the full problem's hit fraction so that their blocks cost what the full
 * kernel's do (and are then not nested, since that fraction comes from their whole programs).
 */
public final class GemmSteadyState {
  /** Largest difference between the two per-block time deltas, relative to a block's time. */
  public static final double TIME_TOLERANCE = 1e-4;
  private static final Set<String> KEYS = Set.of("m", "k", "n", "dtype", "cores", "ta", "tb", "strategy");

  private GemmSteadyState() {}

  /** The accelerated result of an inline {@code gemm:} workload, or null when it does not apply. */
  public static WorkloadResult tryRun(HardwareSpec hw, String workload, RunOptions opts) {
    if (!opts.steadyState() || opts.trace().enabled()) {
      return null;
    }
    GemmSpec g;
    int cores;
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
    } catch (WorkloadException | IllegalArgumentException e) {
      return null; // the full path reports it
    }
    RunResult r = run(hw, g, cores, opts);
    if (r == null) {
      return null;
    }
    Program meta = new Program(r.workload(), List.of(), r.notes(), g.flops(), 0);
    LoweredWorkload lw = new LoweredWorkload(workload, List.of(new Step("gemm", meta, 1, g.dtype())), 0).launched();
    return WorkloadRunner.run(hw, lw, opts, Map.of(meta, r));
  }

  /**
   * The full GEMM's result from three reduced kernels, or null when they are not in steady state.
   * Tries the blocks of the outer loop first (M when A is hoisted across N, else N), then those of
   * the inner loop.
   */
  public static RunResult run(HardwareSpec hw, GemmSpec g, int cores, RunOptions opts) {
    return run(hw, g, cores, opts, true);
  }

  /** With {@code requireGain} false, also kernels whose samples are more than half their blocks (for tests). */
  static RunResult run(HardwareSpec hw, GemmSpec g, int cores, RunOptions opts, boolean requireGain) {
    TargetSpec t = Targets.of(hw);
    GemmTiling tl = GemmLowering.choose(t, g, cores);
    Axis first = new Axis(tl.mOuter(), requireGain);
    RunResult r = along(hw, t, g, cores, tl, first, Double.NaN, true, opts);
    return r != null ? r : along(hw, t, g, cores, tl, new Axis(!tl.mOuter(), requireGain), Double.NaN, true, opts);
  }

  /** Which loop's blocks to extrapolate over, and whether the samples must be at most half of them. */
  private record Axis(boolean alongM, boolean requireGain) {
    Axis other() {
      return new Axis(!alongM, requireGain);
    }
  }

  /**
   * Extrapolates along one axis. With {@code nest}, each reduced kernel is itself extrapolated along
   * the other axis (falling back to its full simulation), so the cost stays flat in both M and N.
   *
   * @param forcedHit the L2 hit fraction of the enclosing full problem, or NaN to derive it here
   */
  private static RunResult along(HardwareSpec hw, TargetSpec t, GemmSpec g, int cores, GemmTiling tl, Axis axis,
      double forcedHit, boolean nest, RunOptions opts) {
    boolean alongM = axis.alongM();
    long tile = alongM ? t.peCols() : t.maxMovingFree();
    long extent = alongM ? g.m() : g.n();
    int grid = alongM ? tl.gridM() : tl.gridN();
    long block = alongM ? tl.blockM() : tl.blockN();
    long tiles = ceilDiv(extent, tile);
    // Every core must walk the same whole number of blocks (no ragged core or block).
    long perCore = tiles / grid * tile;
    long iterations = perCore / block;
    // Past the pipeline's start and past the operand pool (a block still resident is not reloaded, so
    // kernels with no more blocks than buffers move less data per block).
    long first = tl.buffers() + 1;
    long[] samples = {first, first + 1, first + 2};
    // Worth it only if the samples are at most half the blocks (else the full simulation is as cheap).
    if (!tl.strategy().equals("blocked") || extent % tile != 0 || tiles % grid != 0
        || perCore % block != 0 || iterations <= samples[2]
        || axis.requireGain() && 2 * (samples[0] + samples[1] + samples[2]) > iterations) {
      return null;
    }
    long slab = grid * block;
    GemmSpec[] reduced = new GemmSpec[samples.length];
    RunResult[] rs = new RunResult[samples.length];
    boolean allInner = nest && hw.chip().l2() == null;
    for (int i = 0; i < samples.length; i++) {
      long e = samples[i] * slab;
      reduced[i] = new GemmSpec(alongM ? e : g.m(), g.k(), alongM ? g.n() : e, g.dtype(), g.transposeA(), g.transposeB());
      // Without an L2 no statistic depends on the whole problem's reuse, so the reduced kernel can
      // be extrapolated along the other axis without lowering it whole.
      rs[i] = allInner ? along(hw, t, reduced[i], cores, tl, axis.other(), 0, false, opts) : null;
      allInner &= rs[i] != null;
    }
    if (!allInner && !simulateReduced(hw, t, g, cores, tl, reduced, samples, iterations, forcedHit, rs, opts)) {
      return null;
    }
    StatsSnapshot stats = extrapolateStats(rs, samples, iterations);
    if (stats == null) {
      return null;
    }
    long end = (long) stats.get("sim.end_ps");
    List<String> notes = new ArrayList<>(rs[2].notes());
    notes.add("steady state: " + iterations + " " + (alongM ? "M" : "N") + " blocks per core extrapolated from " + samples[0] + ", "
        + samples[1] + " and " + samples[2] + " simulated (--no-steady-state simulates all)");
    String key = alongM ? "m=" : "n=";
    String name = rs[2].workload().replace(key + samples[2] * slab, key + extent);
    return KernelSimulator.summarise(hw, name, notes, rs[2].coresUsed(), g.dtype(), end, stats);
  }

  /**
   * Lowers and simulates the reduced kernels in full (filling {@code rs}), with the DMA traffic
   * checked for exact linearity and the whole problem's L2 hit fraction imposed; false if the
   * traffic is not linear in the block count.
   */
  private static boolean simulateReduced(HardwareSpec hw, TargetSpec t, GemmSpec g, int cores, GemmTiling tl,
      GemmSpec[] reduced, long[] samples, long iterations, double forcedHit, RunResult[] rs, RunOptions opts) {
    Program[] programs = new Program[samples.length];
    double[][] dma = new double[samples.length][];
    for (int i = 0; i < samples.length; i++) {
      programs[i] = GemmLowering.lower(t, reduced[i], cores, tl);
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
    long fullMin = programs[2].hbmBytesMin()
        + (programs[2].hbmBytesMin() - programs[1].hbmBytesMin()) * (iterations - samples[2]) / step;
    double hit = !Double.isNaN(forcedHit) ? forcedHit : hw.chip().l2() == null || dmaFull[0] <= 0 ? 0
        : 1 - Math.max(0, Math.min(dmaFull[0], fullMin - dmaFull[1])) / dmaFull[0];
    for (int i = 0; i < samples.length; i++) {
      rs[i] = KernelSimulator.run(hw, withHitFraction(programs[i], dma[i], hit), g.dtype(), opts);
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
    double reads = 0;
    double writes = 0;
    for (var core : program.cores()) {
      for (var q : core.queues()) {
        if (q.kind() != EngineKind.DMA) {
          continue;
        }
        for (int i = 0; i < q.size(); i++) {
          if (q.instruction(i) instanceof Instruction.DmaCopy d) {
            reads += d.src().space() == MemSpace.HBM ? d.bytes() : 0;
            writes += d.dst().space() == MemSpace.HBM ? d.bytes() : 0;
          }
        }
      }
    }
    return new double[] {reads, writes};
  }

  /** Linear in the iteration count through the last two samples (equally spaced). */
  static double extrapolate(double atPrev, double atLast, long[] samples, long target) {
    return atLast + (atLast - atPrev) * (target - samples[2]) / (double) (samples[2] - samples[1]);
  }

  /**
   * Every statistic at {@code blocks} blocks: counters exactly (their per-block growth must be
   * identical), times linearly (their per-block growth must agree within the tolerance), peaks and
   * capacities as they are (they must not grow), rates recomputed. Null if any statistic breaks this.
   */
  static StatsSnapshot extrapolateStats(RunResult[] rs, long[] samples, long iterations) {
    // A stall counter is reported only when non-zero: a key missing from a run is a zero.
    Map<String, Double> a = new TreeMap<>(rs[0].stats().values());
    Map<String, Double> b = new TreeMap<>(rs[1].stats().values());
    Map<String, Double> c = new TreeMap<>(rs[2].stats().values());
    for (Map<String, Double> m : List.of(a, b, c)) {
      for (Map<String, Double> o : List.of(a, b, c)) {
        for (String k : o.keySet()) {
          m.putIfAbsent(k, 0.0);
        }
      }
    }
    double endDelta = c.get("sim.end_ps") - b.get("sim.end_ps");
    StatsSnapshot.Builder out = StatsSnapshot.builder();
    Map<String, Double> sorted = new TreeMap<>(c);
    for (var e : sorted.entrySet()) {
      String k = e.getKey();
      double d1 = b.get(k) - a.get(k);
      double d2 = c.get(k) - b.get(k);
      double v;
      if (k.endsWith("_per_s")) {
        continue; // recomputed below
      } else if (k.contains("peak_concurrent") || k.contains("capacity")) {
        if (d1 != 0 || d2 != 0) {
          return null;
        }
        v = c.get(k);
      } else if (k.endsWith("_ps") || k.equals("sim.events")) {
        // Times (and event counts, which follow the schedule): linear within the tolerance of a block's time.
        double scale = Math.max(Math.abs(d2), k.equals("sim.events") ? 1 : endDelta);
        if (Math.abs(d2 - d1) > TIME_TOLERANCE * scale) {
          return null;
        }
        v = Math.round(extrapolate(b.get(k), c.get(k), samples, iterations));
      } else {
        // Counters (and buffer sizes, which grow with K when all of K is held): exactly linear.
        if (d1 != d2) {
          return null;
        }
        v = extrapolate(b.get(k), c.get(k), samples, iterations);
      }
      out.put(k, v);
    }
    StatsSnapshot partial = out.build();
    double seconds = partial.get("sim.end_ps") / 1e12;
    for (String k : sorted.keySet()) {
      if (k.endsWith("achieved_bytes_per_s")) {
        String bytesKey = k.replace("achieved_bytes_per_s", "transferred_bytes");
        out.put(k, seconds > 0 ? partial.getOrZero(bytesKey) / seconds : 0);
      } else if (k.endsWith("_per_s")) {
        out.put(k, c.get(k));
      }
    }
    return out.build();
  }
}
