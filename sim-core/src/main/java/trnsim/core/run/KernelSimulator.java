package trnsim.core.run;

import java.util.ArrayList;
import java.util.List;
import trnsim.core.config.HardwareSpec;
import trnsim.core.engine.Simulation;
import trnsim.core.hw.ChipModel;
import trnsim.core.stats.StatsSnapshot;
import trnsim.isa.DType;
import trnsim.isa.Program;

/**
 * Runs one lowered kernel on one chip of a hardware config and summarises it. Stateless: each call
 * builds its own {@link Simulation}, so calls may run concurrently.
 */
public final class KernelSimulator {
  private static final String[] ENGINES = {"tensor", "vector", "scalar", "gpsimd"};
  /** Summed statistics: HBM read, HBM write, tensor FLOPs, instructions, then per engine busy, stall, instructions. */
  private static final String[] SUFFIXES = {".hbm_read_bytes", ".hbm_write_bytes", ".tensor.flops", ".instructions",
      ".tensor.busy_ps", ".tensor.stall_ps", ".tensor.instructions",
      ".vector.busy_ps", ".vector.stall_ps", ".vector.instructions",
      ".scalar.busy_ps", ".scalar.stall_ps", ".scalar.instructions",
      ".gpsimd.busy_ps", ".gpsimd.stall_ps", ".gpsimd.instructions"};

  private KernelSimulator() {}

  public static RunResult run(HardwareSpec hw, Program program, DType peakDtype, RunOptions opts) {
    Simulation sim = new Simulation(opts.maxEvents());
    ChipModel chip = new ChipModel(hw, program, sim, opts.trace(), null, opts.coreClasses());
    long end;
    try {
      end = chip.run();
    } catch (ArithmeticException e) {
      // A cycle count or tick product past 64 bits (ClockDomain and the cost model use exact arithmetic).
      throw Simulation.tooLong();
    } catch (trnsim.core.engine.SimulationLimitException e) {
      // The event budget is the guard on a run's cost (the lowering's instruction count no longer is):
      // the error names the kernel that ran into it.
      throw e.inKernel(program.name());
    }
    StatsSnapshot stats = chip.stats();
    return summarise(hw, program, peakDtype, end, stats);
  }

  static RunResult summarise(HardwareSpec hw, Program program, DType peakDtype, long endTick, StatsSnapshot stats) {
    return summarise(hw, program.name(), program.notes(), program.cores().size(), peakDtype, endTick, stats);
  }

  /** As above, for a kernel known by its name, notes and core count (one whose program was never built whole). */
  static RunResult summarise(HardwareSpec hw, String name, List<String> notes, int cores, DType peakDtype, long endTick,
      StatsSnapshot stats) {
    double seconds = endTick / (double) Simulation.TICKS_PER_SECOND;
    double clock = hw.chip().core().tensor().clock().hertz();
    var t = hw.chip().core().tensor();
    double rate = t.dtypeRates().getOrDefault(peakDtype.rateKey(), 1.0);
    double peak = 2.0 * t.rows() * t.cols() * clock * rate * hw.chip().cores();
    // One pass over the statistics (in name order, so every sum adds in the same order as
    // StatsSnapshot.sumEndingWith would) instead of one pass per summed suffix.
    double[] sums = new double[SUFFIXES.length];
    double dmaBusy = 0;
    double dmaDesc = 0;
    long dmaN = 0;
    for (var e : stats.values().entrySet()) {
      String k = e.getKey();
      double v = e.getValue();
      for (int i = 0; i < SUFFIXES.length; i++) {
        if (k.endsWith(SUFFIXES[i])) {
          sums[i] += v;
        }
      }
      // DMA: the fraction of queue-time spent moving data, over all queues of the used cores.
      if (isDmaStat(k, ".busy_ps")) {
        dmaBusy += v;
      } else if (isDmaStat(k, ".descriptor_busy_ps")) {
        dmaDesc += v;
      } else if (isDmaStat(k, ".instructions")) {
        dmaN += e.getValue().longValue();
      }
    }
    double hbmBytes = sums[0] + sums[1];
    double hbmPeak = hw.chip().hbm().sustainedBytesPerSecond();
    long flops = (long) sums[2];
    long instructions = (long) sums[3];

    List<EngineUse> engines = new ArrayList<>();
    double denom = endTick * (double) Math.max(1, cores);
    for (int i = 0; i < ENGINES.length; i++) {
      double busy = sums[4 + 3 * i];
      double stall = sums[5 + 3 * i];
      long n = (long) sums[6 + 3 * i];
      engines.add(new EngineUse(ENGINES[i], denom > 0 ? busy / denom : 0, denom > 0 ? stall / denom : 0, n));
    }
    int queues = hw.chip().core().dma().queues();
    double dmaDenom = denom * queues;
    engines.add(new EngineUse("dma", dmaDenom > 0 ? dmaBusy / dmaDenom : 0, 0, dmaN));
    double hbmFrac = seconds > 0 ? hbmBytes / seconds / hbmPeak : 0;
    double descFrac = dmaDenom > 0 ? dmaDesc / dmaDenom : 0;
    String bottleneck = bottleneck(engines, hbmFrac, descFrac, cores, hw.chip().cores());
    return new RunResult(hw.name(), name, notes, seconds, flops, peak, hbmBytes, hbmPeak,
        cores, engines, bottleneck, instructions, stats);
  }

  /**
   * Whether {@code key} matches {@code .*\\.dma\\d+} followed by {@code suffix} (which starts with
   * a dot): the same test as that regular expression, without compiling a pattern per statistic.
   */
  static boolean isDmaStat(String key, String suffix) {
    if (!key.endsWith(suffix)) {
      return false;
    }
    int end = key.length() - suffix.length();
    int d = end;
    while (d > 0 && key.charAt(d - 1) >= '0' && key.charAt(d - 1) <= '9') {
      d--;
    }
    return d < end && key.startsWith(".dma", d - 4);
  }

  /**
   * Names the resource with the highest utilisation. Below 60% for every resource, time goes to
   * latency: dependencies between engines, pipeline fill, or too little work to fill the chip.
   */
  static String bottleneck(List<EngineUse> engines, double hbmFrac, double descFrac, int coresUsed, int coresTotal) {
    String best = "hbm";
    double bestV = hbmFrac;
    for (EngineUse e : engines) {
      if (!e.name().equals("dma") && e.busyFraction() > bestV) {
        best = e.name();
        bestV = e.busyFraction();
      }
    }
    if (descFrac > bestV) {
      best = "dma_descriptors";
      bestV = descFrac;
    }
    String pct = Math.round(bestV * 100) + "%";
    String words = switch (best) {
      case "hbm" -> "HBM bandwidth (memory-bound, " + pct + " of sustained bandwidth)";
      case "tensor" -> "tensor engine (compute-bound, " + pct + " busy)";
      case "dma_descriptors" -> "DMA descriptor issue (transfers too small to reach bandwidth, " + pct + " busy)";
      default -> best + " engine (" + pct + " busy)";
    };
    if (bestV < 0.6) {
      words = "latency and dependencies (no resource above 60% busy; busiest: " + words + ")";
    }
    if (coresUsed < coresTotal) {
      words += "; uses " + coresUsed + " of " + coresTotal + " cores";
    }
    return words;
  }
}
