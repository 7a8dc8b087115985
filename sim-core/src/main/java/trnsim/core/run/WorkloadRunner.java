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
  /** Debug log (shown with -v): kernels simulated, memoisation hits, candidate tilings. Stateless. */
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(WorkloadRunner.class);

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
    if (!w.alternatives().isEmpty() && opts.searchTilings()) {
      return fastest(hw, w, opts);
    }
    if (opts.trace() != trnsim.core.trace.TraceSink.NONE) {
      return runTraced(hw, w, opts);
    }
    return summarise(hw, w, simulateSteps(hw, w, opts, known));
  }

  /**
   * A workload with alternative lowerings (a GEMM's candidate tilings): each is simulated and the
   * fastest kept (ties go to the first, the traffic-minimal one). Every candidate fits the target,
   * and a target with more SBUF offers a superset of them, so more SBUF never makes it slower. A
   * trace records only the kept one.
   */
  private static WorkloadResult fastest(HardwareSpec hw, LoweredWorkload w, RunOptions opts) {
    RunOptions quiet = new RunOptions(null, opts.maxEvents(), opts.steadyState(), false, opts.coreClasses());
    List<LoweredWorkload> all = new ArrayList<>();
    all.add(w.withAlternatives(List.of()));
    all.addAll(w.alternatives());
    LoweredWorkload best = null;
    WorkloadResult bestResult = null;
    WorkloadResult first = null;
    int simulated = 0;
    // Best-first: candidates in order of their lower bound (stable, so ties keep the chooser's order).
    List<LoweredWorkload> order = new ArrayList<>(all);
    java.util.Map<LoweredWorkload, Double> bounds = new java.util.IdentityHashMap<>();
    for (LoweredWorkload c : all) {
      bounds.put(c, lowerBoundSeconds(hw, c));
    }
    order.sort(java.util.Comparator.comparingDouble(bounds::get));
    for (LoweredWorkload c : order) {
      String tiling = c.steps().get(0).program().notes().isEmpty() ? c.name() : c.steps().get(0).program().notes().get(0);
      if (bestResult != null && bounds.get(c) >= bestResult.timeSeconds()) {
        LOG.debug("candidate {}: bounded out (at least {} us, best so far {} us)", tiling,
            us(bounds.get(c)), us(bestResult.timeSeconds()));
        continue; // cannot beat the best so far: skipping it leaves the minimum unchanged
      }
      simulated++;
      WorkloadResult r = summarise(hw, c, simulateSteps(hw, c, quiet, Map.of()));
      LOG.debug("candidate {}: {} us (bound {} us)", tiling, us(r.timeSeconds()), us(bounds.get(c)));
      if (c == all.get(0)) {
        first = r;
      }
      if (bestResult == null || r.timeSeconds() < bestResult.timeSeconds()
          || r.timeSeconds() == bestResult.timeSeconds() && all.indexOf(c) < all.indexOf(best)) {
        best = c;
        bestResult = r;
      }
    }
    if (LOG.isDebugEnabled()) {
      LOG.debug("{} on {}: kept {} of {} candidate tilings", w.name(), hw.name(),
          best.steps().get(0).program().notes().isEmpty() ? "?" : best.steps().get(0).program().notes().get(0), all.size());
    }
    if (opts.trace() != trnsim.core.trace.TraceSink.NONE) {
      bestResult = runTraced(hw, best, opts);
    }
    String note = best == all.get(0) || first == null
        ? String.format(java.util.Locale.ROOT, "tiling: the traffic-minimal one, fastest of %d candidates (%d simulated, the rest"
            + " bounded out)", all.size(), simulated)
        : String.format(java.util.Locale.ROOT, "tiling: fastest of %d candidates (%d simulated, the rest bounded out; the"
            + " traffic-minimal one took %.3f us)", all.size(), simulated, first.timeSeconds() * 1e6);
    return withNote(bestResult, note);
  }

  private static String us(double seconds) {
    return String.format(java.util.Locale.ROOT, "%.3f", seconds * 1e6);
  }

  /**
   * A time no simulation of {@code w} can beat: per kernel, the busiest core's tensor-engine cycles
   * at its clock, or its HBM bytes at the sustained bandwidth, whichever is longer (both resources
   * are exclusive, so the run takes at least that long), times the kernel's repeat count.
   */
  static double lowerBoundSeconds(HardwareSpec hw, LoweredWorkload w) {
    trnsim.core.hw.CostModel cost = new trnsim.core.hw.CostModel(hw.chip().core());
    var dma = hw.chip().core().dma();
    double clock = hw.chip().core().tensor().clock().hertz();
    double fastestQueueRate = Math.max(dma.queueBandwidth().bytesPerSecond(),
        dma.sbufBandwidth() == null ? 0 : dma.sbufBandwidth().bytesPerSecond());
    double total = 0;
    for (Step s : w.steps()) {
      double bound = 0;
      double hbmBytes = 0;
      for (trnsim.isa.CoreProgram core : s.program().cores()) {
        long tensorCycles = 0;
        for (var q : core.queues()) {
          // Per stored instruction times its repetitions (a loop body once): the byte and cycle sums
          // are integers, so this is the instruction-by-instruction sum exactly.
          long[] sums = new long[4]; // tensor cycles, HBM bytes, descriptors, queue bytes
          q.forEachStored((ins, times) -> {
            if (ins instanceof trnsim.isa.Instruction.MatMul) {
              sums[0] += cost.cycles(ins) * times;
            } else if (ins instanceof trnsim.isa.Instruction.DmaCopy d) {
              sums[1] += ((d.src().space() == trnsim.isa.MemSpace.HBM ? d.bytes() : 0)
                  + (d.dst().space() == trnsim.isa.MemSpace.HBM ? d.bytes() : 0)) * times;
              sums[2] += times;
              sums[3] += d.bytes() * times;
            }
          });
          tensorCycles += sums[0];
          hbmBytes += sums[1];
          // The same term added once per descriptor, as the instruction-by-instruction sum adds it.
          double descriptors = 0;
          double perDescriptor = dma.descriptorCost().seconds();
          for (long n = 0; n < sums[2]; n++) {
            descriptors += perDescriptor;
          }
          double queueBytes = sums[3];
          // One DMA queue issues its descriptors one at a time and moves at most its bandwidth.
          bound = Math.max(bound, Math.max(descriptors, queueBytes / fastestQueueRate));
        }
        bound = Math.max(bound, tensorCycles / clock);
      }
      bound = Math.max(bound, hbmBytes / hw.chip().hbm().sustainedBytesPerSecond());
      total += bound * s.repeat();
    }
    return total;
  }

  private static WorkloadResult withNote(WorkloadResult r, String note) {
    List<WorkloadResult.StepResult> steps = new ArrayList<>();
    for (WorkloadResult.StepResult s : r.steps()) {
      RunResult k = s.result();
      List<String> notes = new ArrayList<>(k.notes());
      notes.add(note);
      steps.add(new WorkloadResult.StepResult(s.label(), s.repeat(), new RunResult(k.hardware(), k.workload(), notes,
          k.timeSeconds(), k.flops(), k.peakFlopsPerSecond(), k.hbmBytes(), k.hbmBytesPerSecondPeak(), k.coresUsed(),
          k.engines(), k.bottleneck(), k.instructions(), k.stats())));
    }
    return new WorkloadResult(r.hardware(), r.workload(), steps, r.timeSeconds(), r.flops(), r.peakFlopsPerSecond(),
        r.hbmBytes(), r.hbmBytesPerSecondPeak(), r.engineBusy(), r.bottleneck(), r.tokens());
  }

  private static List<WorkloadResult.StepResult> simulateSteps(HardwareSpec hw, LoweredWorkload w, RunOptions opts,
      Map<Program, RunResult> known) {
    Map<Program, RunResult> memo = new HashMap<>(known);
    List<WorkloadResult.StepResult> steps = new ArrayList<>();
    for (Step s : w.steps()) {
      boolean hit = memo.containsKey(s.program());
      RunResult r = memo.computeIfAbsent(s.program(), p -> KernelSimulator.run(hw, p, s.dtype(), opts));
      if (LOG.isDebugEnabled()) {
        LOG.debug("{} kernel {} x{}: {} us{} [{}]", hw.name(), s.label(), s.repeat(), us(r.timeSeconds()),
            hit ? " (memoised: same program as an earlier kernel)" : "", String.join("; ", r.notes()));
      }
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
