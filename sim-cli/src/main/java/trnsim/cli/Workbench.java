package trnsim.cli;

import java.util.ArrayList;
import java.util.List;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.ModelLoader;
import trnsim.core.run.RunOptions;
import trnsim.core.run.Targets;
import trnsim.core.run.WorkloadResult;
import trnsim.core.run.WorkloadRunner;
import trnsim.isa.ProgramException;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.Workloads;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/** Resolves hardware and workload arguments and simulates: the shared path of run, compare and sweep. */
final class Workbench {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Workbench.class);
  private final CliContext ctx;

  Workbench(CliContext ctx) {
    this.ctx = ctx;
  }

  HardwareSpec hardware(String name, List<String> sets) {
    return ctx.hardware().load(name, sets).spec();
  }

  /** Inline specs pass through; a name expands to the workload(s) in configs/workloads. */
  List<String> expand(String workload) {
    boolean file = workload.endsWith(".yaml") || isWorkloadFile(workload, "workloads")
        || isWorkloadFile(workload, "workloads/suites");
    if (workload.contains(":") || !file) {
      return List.of(workload);
    }
    return new ModelLoader(ctx.configs()).workloads(workload);
  }

  /** True when {@code configs/<dir>/<name>.yaml} is a file; text that cannot be a path (a NUL) is not one. */
  private boolean isWorkloadFile(String name, String dir) {
    try {
      return java.nio.file.Files.isRegularFile(ctx.configs().resolve(dir).resolve(name + ".yaml"));
    } catch (java.nio.file.InvalidPathException e) {
      return false;
    }
  }

  WorkloadResult simulate(HardwareSpec hw, String workload, RunOptions opts) {
    return simulate(hw, workload, opts, new java.util.HashMap<>());
  }

  /**
   * As above, reusing a lowering from {@code lowered} when the target differs only in its clock:
   * lowering reads the target's shapes, buffers and queues, not its clock, so the power limiter's
   * runs at other clocks simulate the same programs without lowering them again.
   */
  private WorkloadResult simulate(HardwareSpec hw, String workload, RunOptions opts,
      java.util.Map<trnsim.isa.target.TargetSpec, LoweredWorkload> lowered) {
    WorkloadResult steady = trnsim.core.run.GemmSteadyState.tryRun(hw, workload, opts);
    if (steady != null) {
      return steady;
    }
    WorkloadSpec spec = WorkloadSpec.parse(workload, "--workload");
    ModelLoader models = new ModelLoader(ctx.configs());
    LoweredWorkload lw;
    try {
      trnsim.isa.target.TargetSpec target = Targets.of(hw);
      lw = lowered.get(withoutClock(target));
      if (lw == null) {
        lw = Workloads.lower(target, spec, models::model);
        lowered.put(withoutClock(target), lw);
      }
    } catch (ProgramException e) {
      throw new WorkloadException(spec.source(), spec.kind(), spec.toString(), e.getMessage());
    }
    try {
      return WorkloadRunner.run(hw, lw, opts);
    } catch (ProgramException e) {
      throw new WorkloadException(spec.source(), spec.kind(), spec.toString(), e.getMessage());
    }
  }

  private static trnsim.isa.target.TargetSpec withoutClock(trnsim.isa.target.TargetSpec t) {
    return new trnsim.isa.target.TargetSpec(t.name(), t.cores(), t.partitions(), t.peRows(), t.peCols(), t.maxMovingFree(),
        t.dtypeRates(), t.sbufBytesPerPartition(), t.psumBytesPerPartition(), t.psumBanks(), t.dmaQueues(),
        t.hbmCapacityBytes(), 0, t.hbmBytesPerSecond(), t.dmaQueueBytesPerSecond(), t.dmaMinBytesPerQueue());
  }

  /** True for system-level workloads (llm-train, llm-infer), which {@link #simulateSystem} runs on the whole system. */
  boolean isSystemWorkload(String workload) {
    int colon = workload.indexOf(':');
    String kind = (colon < 0 ? workload : workload.substring(0, colon)).trim().toLowerCase(java.util.Locale.ROOT);
    return trnsim.core.system.LlmSystem.handles(kind);
  }

  /** A distributed LLM step on the whole system, with energy when the chip has an energy table. */
  /** The operating point each system result ran at (clock, limit), for reports. */
  private final java.util.Map<trnsim.core.system.LlmResult, Reports.Operating> systemOperating =
      java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());

  Reports.Operating operating(trnsim.core.system.LlmResult r) {
    return r == null ? null : systemOperating.get(r);
  }

  /**
   * Simulates a system step (llm-*) under the chip power limit. The clock is chosen, by the same
   * {@code PowerLimiter} as for kernels, so that the step's compute phase (one chip's kernels for a
   * layer) fits the limit; communication and bubbles draw less, so the step as a whole stays below it.
   * MFU is reported against the peak at the maximum clock.
   */
  trnsim.core.system.LlmResult simulateSystem(HardwareSpec hw, String workload, RunOptions opts) {
    ModelLoader models = new ModelLoader(ctx.configs());
    double maxGhz = trnsim.core.energy.ClockScaling.tensorClockGhz(hw);
    double price = hw.system().pricePerChipHourUsd();
    if (hw.system().mixed()) {
      return simulateMixed(hw, workload, opts, models, maxGhz);
    }
    if (hw.chip().power() == null || hw.chip().power().energyTable() == null) {
      var r = trnsim.core.system.LlmSystem.run(hw, WorkloadSpec.parse(workload, "--workload"), models::model, null, opts);
      systemOperating.put(r, new Reports.Operating(maxGhz, maxGhz, false, Double.NaN, price));
      return r;
    }
    trnsim.core.energy.EnergyModel energy = trnsim.core.energy.EnergyModel.forHardware(hw, ctx.configs());
    trnsim.core.energy.PowerLimiter limiter = trnsim.core.energy.PowerLimiter.forHardware(hw, ctx.configs());
    java.util.Map<HardwareSpec, trnsim.core.system.LlmResult> runs = new java.util.IdentityHashMap<>();
    RunOptions quiet = new RunOptions(null, opts.maxEvents());
    trnsim.core.energy.PowerLimiter.Result lr = limiter.run(hw, h -> {
      var r = trnsim.core.system.LlmSystem.run(h, WorkloadSpec.parse(workload, "--workload"), models::model, energy, quiet);
      runs.put(h, r);
      return new trnsim.core.energy.PowerLimiter.Sample(r.layer().timeSeconds(), combinedStats(r.layer()));
    });
    var r = runs.get(lr.hardware());
    if (opts.trace() != trnsim.core.trace.TraceSink.NONE) {
      // The trace records only the final run, at the chosen clock (as for kernels).
      r = trnsim.core.system.LlmSystem.run(lr.hardware(), WorkloadSpec.parse(workload, "--workload"), models::model, energy, opts);
    }
    if (lr.throttled()) {
      double fraction = lr.tensorClockGhz() / maxGhz;
      List<String> notes = new ArrayList<>(r.notes());
      notes.add(String.format(java.util.Locale.ROOT,
          "power limit: compute phases run at %.3f GHz (%.0f%% of %.3f) to stay within %.0f W per chip; MFU is against the full-clock peak",
          lr.tensorClockGhz(), 100 * fraction, maxGhz, limiter.limitW()));
      r = new trnsim.core.system.LlmResult(r.hardware(), r.workload(), r.phase(), r.parallelism(), r.defaulted(), r.chips(),
          r.seconds(), r.tokens(), r.breakdown(), r.memoryBytes(), r.mfu() * fraction, r.modelFlops(), r.energyJoules(),
          r.costUsd(), r.layer(), r.collectives(), notes);
    }
    systemOperating.put(r, new Reports.Operating(lr.tensorClockGhz(), maxGhz, lr.throttled(), limiter.limitW(), price));
    return r;
  }

  /**
   * A system step on a mixed domain: each group's part on its own chip model with its own energy
   * table and price (trnsim.core.system.MixedTraining, MixedInference), at full clock.
   */
  private trnsim.core.system.LlmResult simulateMixed(HardwareSpec hw, String workload, RunOptions opts, ModelLoader models,
      double maxGhz) {
    trnsim.core.system.Domain domain = trnsim.core.system.LlmSystem.domain(hw, name -> ctx.hardware().load(name, List.of()).spec());
    java.util.Map<String, trnsim.core.energy.EnergyModel> energies = new java.util.HashMap<>();
    java.util.function.Function<trnsim.core.system.Domain.Group, trnsim.core.energy.EnergyModel> energy = g ->
        g.hw().chip().power() == null || g.hw().chip().power().energyTable() == null ? null
            : energies.computeIfAbsent(g.name(), k -> trnsim.core.energy.EnergyModel.forHardware(g.hw(), ctx.configs()));
    var r = trnsim.core.system.LlmSystem.run(domain, WorkloadSpec.parse(workload, "--workload"), models::model, energy, opts);
    systemOperating.put(r, new Reports.Operating(maxGhz, maxGhz, false, Double.NaN, r.costUsd() / r.seconds() * 3600 / r.chips()));
    return r;
  }

  /** Energy of a workload: each kernel's actions x energy per action plus static power x its time, x repeats. */
  Reports.Energy energy(HardwareSpec hw, WorkloadResult r) {
    if (hw.chip().power() == null || hw.chip().power().energyTable() == null) {
      return Reports.Energy.NONE;
    }
    trnsim.core.energy.EnergyModel model = trnsim.core.energy.EnergyModel.forHardware(hw, ctx.configs());
    double joules = 0;
    for (var s : r.steps()) {
      joules += model.report(s.result().stats(), s.result().timeSeconds()).totalEnergyJ() * s.repeat();
    }
    return new Reports.Energy(joules, r.timeSeconds() > 0 ? joules / r.timeSeconds() : Double.NaN);
  }

  /** A workload simulated at the clock its chip's power limit allows, with its energy and operating point. */
  record Limited(WorkloadResult result, Reports.Energy energy, Reports.Operating operating, HardwareSpec hardware) {}

  /**
   * Simulates {@code workload} under the chip's power limit ({@code chip.power.limit}): when its
   * average power at full clock is over the limit, {@link trnsim.core.energy.PowerLimiter} lowers the
   * compute clocks and re-simulates, and the result is the throttled run. Configs without a power
   * block (or without an energy table) run at full clock with no energy. A trace, if any, records
   * only the final run (at the chosen clock).
   */
  Limited simulateLimited(HardwareSpec hw, String workload, RunOptions opts) {
    double price = hw.system().pricePerChipHourUsd();
    double maxGhz = trnsim.core.energy.ClockScaling.tensorClockGhz(hw);
    if (hw.chip().power() == null || hw.chip().power().energyTable() == null) {
      WorkloadResult r = simulate(hw, workload, opts);
      double limit = hw.chip().power() == null ? Double.NaN : hw.chip().power().limit().watts();
      return new Limited(r, Reports.Energy.NONE, new Reports.Operating(maxGhz, maxGhz, false, limit, price), hw);
    }
    trnsim.core.energy.PowerLimiter limiter = trnsim.core.energy.PowerLimiter.forHardware(hw, ctx.configs());
    RunOptions quiet = new RunOptions(null, opts.maxEvents(), opts.steadyState());
    // At full clock with the tiling search: when that fits the limit, it is the answer. Under a
    // binding limit the search is off: the fastest tiling at a clock can draw more power, so the
    // limiter would lower the clock further and end slower than the traffic-minimal tiling
    // (a 12288^3 GEMM at 250 W on trn2: 15.6 ms against 14.1 ms); and each limiter sample would
    // pay for the whole search.
    java.util.Map<trnsim.isa.target.TargetSpec, LoweredWorkload> lowered = new java.util.HashMap<>();
    WorkloadResult searched = simulate(hw, workload, quiet, lowered);
    // Without candidate tilings the full-clock run above is the limiter's first sample: not simulated twice.
    boolean plain = lowered.values().stream().allMatch(l -> l.alternatives().isEmpty());
    trnsim.core.energy.EnergyModel energyModel = trnsim.core.energy.EnergyModel.forHardware(hw, ctx.configs());
    double searchedJ = energyModel.report(combinedStats(searched), searched.timeSeconds()).totalEnergyJ();
    if (searched.timeSeconds() > 0 && searchedJ / searched.timeSeconds() <= limiter.limitW()) {
      WorkloadResult r = opts.trace() != trnsim.core.trace.TraceSink.NONE ? simulate(hw, workload, opts) : searched;
      return new Limited(r, new Reports.Energy(searchedJ, searchedJ / searched.timeSeconds()),
          new Reports.Operating(maxGhz, maxGhz, false, limiter.limitW(), price), hw);
    }
    quiet = quiet.withoutTilingSearch();
    opts = opts.withoutTilingSearch();
    final RunOptions limited = quiet;
    java.util.Map<HardwareSpec, WorkloadResult> runs = new java.util.IdentityHashMap<>();
    trnsim.core.energy.PowerLimiter.Result lr = limiter.run(hw, h -> {
      WorkloadResult r = plain && h.equals(hw) ? searched : simulate(h, workload, limited, lowered);
      LOG.debug("power limiter: {} at tensor clock {} GHz takes {} us", workload,
          trnsim.core.energy.ClockScaling.tensorClockGhz(h), r.timeSeconds() * 1e6);
      runs.put(h, r);
      return new trnsim.core.energy.PowerLimiter.Sample(r.timeSeconds(), combinedStats(r));
    });
    WorkloadResult r = runs.get(lr.hardware());
    LOG.debug("power limiter: {} runs at {} GHz ({} samples simulated), limit {} W, throttled {}", workload,
        lr.tensorClockGhz(), runs.size(), limiter.limitW(), lr.throttled());
    if (opts.trace() != trnsim.core.trace.TraceSink.NONE) {
      r = simulate(lr.hardware(), workload, opts);
    }
    double joules = lr.energyJ();
    Reports.Energy e = new Reports.Energy(joules, r.timeSeconds() > 0 ? joules / r.timeSeconds() : Double.NaN);
    return new Limited(r, e, new Reports.Operating(lr.tensorClockGhz(), maxGhz, lr.throttled(), limiter.limitW(), price),
        lr.hardware());
  }

  /** The statistics of every kernel of a workload, each counter multiplied by the kernel's repeat count. */
  static trnsim.core.stats.StatsSnapshot combinedStats(WorkloadResult r) {
    trnsim.core.stats.StatsSnapshot.Builder b = trnsim.core.stats.StatsSnapshot.builder();
    for (var s : r.steps()) {
      for (var e : s.result().stats().values().entrySet()) {
        b.add(e.getKey(), e.getValue() * s.repeat());
      }
    }
    return b.build();
  }

  static List<String> flatten(List<String> items) {
    List<String> out = new ArrayList<>();
    for (String s : items) {
      out.add(s.trim());
    }
    return out;
  }
}
