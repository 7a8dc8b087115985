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

  /** Trace process of the workload's own timeline: one slice per kernel occurrence, plus launch overhead. */
  public static final int WORKLOAD_PID = 1000;
  /** A kernel's recorded trace is bounded so a traced run cannot exhaust the heap. */
  private static final long MAX_RECORDED_EVENTS = 4_000_000L;

  public static WorkloadResult run(HardwareSpec hw, LoweredWorkload w, RunOptions opts) {
    return run(hw, w, opts, Map.of());
  }

  /** As {@link #run(HardwareSpec, LoweredWorkload, RunOptions)}, with some kernels' results already known. */
  static WorkloadResult run(HardwareSpec hw, LoweredWorkload w, RunOptions opts, Map<Program, RunResult> known) {
    if (opts.trace() != trnsim.core.trace.TraceSink.NONE) {
      return runTraced(hw, w, opts);
    }
    return summarise(hw, w, simulateSteps(hw, w, opts, known));
  }

  private static List<WorkloadResult.StepResult> simulateSteps(HardwareSpec hw, LoweredWorkload w, RunOptions opts,
      Map<Program, RunResult> known) {
    Map<Program, RunResult> memo = new HashMap<>(known);
    List<WorkloadResult.StepResult> steps = new ArrayList<>();
    for (Step s : w.steps()) {
      RunResult r = memo.computeIfAbsent(s.program(), p -> KernelSimulator.run(hw, p, s.dtype(), opts));
      steps.add(new WorkloadResult.StepResult(s.label(), s.repeat(), r));
    }
    return steps;
  }

  /**
   * A traced run: each distinct kernel is simulated once into a recording, and every occurrence
   * (each step, each repeat) is replayed on one composed timeline starting where the previous
   * kernel ended, so no two slices of one track overlap and the trace spans the simulated time.
   * The launch overhead, which the summary adds once per launch, is drawn first.
   */
  private static WorkloadResult runTraced(HardwareSpec hw, LoweredWorkload w, RunOptions opts) {
    trnsim.core.trace.TraceSink out = opts.trace();
    var names = new trnsim.core.trace.TraceRecording.NameSet();
    names.process(out, WORKLOAD_PID, "workload");
    names.track(out, WORKLOAD_PID, 0, "kernels");
    names.track(out, WORKLOAD_PID, 1, "runs");
    long offset = w.launches() * hw.chip().core().launchOverhead().picoseconds();
    if (offset > 0) {
      out.slice(WORKLOAD_PID, 0, "launch overhead x" + w.launches(), 0, offset);
    }
    Map<Program, RunResult> memo = new HashMap<>();
    Map<Program, trnsim.core.trace.TraceRecording> recordings = new HashMap<>();
    List<WorkloadResult.StepResult> steps = new ArrayList<>();
    for (Step s : w.steps()) {
      RunResult r = memo.computeIfAbsent(s.program(), p -> {
        var rec = new trnsim.core.trace.TraceRecording(Math.min(MAX_RECORDED_EVENTS, out.remaining()));
        recordings.put(p, rec);
        return KernelSimulator.run(hw, p, s.dtype(), new RunOptions(rec, opts.maxEvents()));
      });
      steps.add(new WorkloadResult.StepResult(s.label(), s.repeat(), r));
      offset = replay(out, names, recordings.get(s.program()), s, r, offset);
    }
    out.slice(WORKLOAD_PID, 1, w.name(), 0, offset);
    out.endOfRun(offset);
    return summarise(hw, w, steps);
  }

  private static long replay(trnsim.core.trace.TraceSink out, trnsim.core.trace.TraceRecording.NameSet names,
      trnsim.core.trace.TraceRecording rec, Step s, RunResult r, long offset) {
    long kernelTicks = Math.round(r.timeSeconds() * trnsim.core.engine.Simulation.TICKS_PER_SECOND);
    for (long i = 0; i < s.repeat(); i++) {
      long end = Math.addExact(offset, kernelTicks);
      if (!out.enabled()) {
        out.dropped((s.repeat() - i) * (rec.timedEvents() + 1));
        return Math.addExact(offset, Math.multiplyExact(kernelTicks, s.repeat() - i));
      }
      if (out.wants(offset, end)) {
        out.slice(WORKLOAD_PID, 0, s.repeat() > 1 ? s.label() + " " + (i + 1) + "/" + s.repeat() : s.label(), offset, end);
        rec.replay(out, offset, names);
      }
      offset = end;
    }
    return offset;
  }

  private static WorkloadResult summarise(HardwareSpec hw, LoweredWorkload w, List<WorkloadResult.StepResult> steps) {
    double time = 0;
    long flops = 0;
    double hbm = 0;
    Map<String, Double> busyTime = new TreeMap<>();
    DType mainDtype = w.steps().get(0).dtype();
    double maxFlops = -1;
    WorkloadResult.StepResult dominant = null;
    double dominantTime = -1;
    for (int i = 0; i < steps.size(); i++) {
      WorkloadResult.StepResult sr = steps.get(i);
      RunResult r = sr.result();
      double t = r.timeSeconds() * sr.repeat();
      time += t;
      flops += r.flops() * sr.repeat();
      hbm += r.hbmBytes() * sr.repeat();
      for (EngineUse e : r.engines()) {
        busyTime.merge(e.name(), e.busyFraction() * t, Double::sum);
      }
      if (r.flops() * (double) sr.repeat() > maxFlops) {
        maxFlops = r.flops() * (double) sr.repeat();
        mainDtype = w.steps().get(i).dtype();
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
