package trnsim.core.run;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import trnsim.core.config.HardwareSpec;
import trnsim.isa.DType;
import trnsim.isa.Program;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.Step;

/**
 * Runs every kernel of a lowered workload on one chip. Kernels run one after another (a kernel
 * boundary is a full synchronisation, as between kernel launches); a kernel that appears again
 * with the same instruction streams is simulated once and reused (memoisation by identity of the
 * lowered program object). A workload that is a launch of its own adds the core's fixed launch
 * overhead once.
 */
public final class WorkloadRunner {
  private WorkloadRunner() {}

  public static WorkloadResult run(HardwareSpec hw, LoweredWorkload w, RunOptions opts) {
    return run(hw, w, opts, Map.of());
  }

  /** As {@link #run(HardwareSpec, LoweredWorkload, RunOptions)}, with some kernels' results already known. */
  static WorkloadResult run(HardwareSpec hw, LoweredWorkload w, RunOptions opts, Map<Program, RunResult> known) {
    Map<Program, RunResult> memo = new HashMap<>(known);
    List<WorkloadResult.StepResult> steps = new ArrayList<>();
    double time = 0;
    long flops = 0;
    double hbm = 0;
    Map<String, Double> busyTime = new TreeMap<>();
    DType mainDtype = w.steps().get(0).dtype();
    double maxFlops = -1;
    WorkloadResult.StepResult dominant = null;
    double dominantTime = -1;
    for (Step s : w.steps()) {
      RunResult r = memo.computeIfAbsent(s.program(), p -> KernelSimulator.run(hw, p, s.dtype(), opts));
      var sr = new WorkloadResult.StepResult(s.label(), s.repeat(), r);
      steps.add(sr);
      double t = r.timeSeconds() * s.repeat();
      time += t;
      flops += r.flops() * s.repeat();
      hbm += r.hbmBytes() * s.repeat();
      for (EngineUse e : r.engines()) {
        busyTime.merge(e.name(), e.busyFraction() * t, Double::sum);
      }
      if (r.flops() * (double) s.repeat() > maxFlops) {
        maxFlops = r.flops() * (double) s.repeat();
        mainDtype = s.dtype();
      }
      if (t > dominantTime) {
        dominantTime = t;
        dominant = sr;
      }
    }
    // The core's fixed start-up and tear-down per kernel launch (docs/model.md, "Fused Mamba kernel"):
    // time no engine works, so it dilutes every busy fraction.
    time += w.launches() * hw.chip().core().launchOverhead().seconds();
    Map<String, Double> busy = new TreeMap<>();
    for (var e : busyTime.entrySet()) {
      busy.put(e.getKey(), time > 0 ? e.getValue() / time : 0);
    }
    var t = hw.chip().core().tensor();
    double peak = 2.0 * t.rows() * t.cols() * t.clock().hertz() * t.dtypeRates().getOrDefault(mainDtype.rateKey(), 1.0)
        * hw.chip().cores();
    String bottleneck = steps.size() == 1 ? dominant.result().bottleneck()
        : String.format(java.util.Locale.ROOT, "%s (%.0f%% of the time): %s", dominant.label(),
            100 * dominantTime / time, dominant.result().bottleneck());
    return new WorkloadResult(hw.name(), w.name(), steps, time, flops, peak, hbm,
        hw.chip().hbm().sustainedBytesPerSecond(), busy, bottleneck, w.tokens());
  }
}
