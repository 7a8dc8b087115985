package trnsim.core.api;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.ModelLoader;
import trnsim.core.energy.ClockScaling;
import trnsim.core.energy.EnergyModel;
import trnsim.core.energy.PowerLimiter;
import trnsim.core.run.GemmSteadyState;
import trnsim.core.run.RunOptions;
import trnsim.core.run.Targets;
import trnsim.core.run.WorkloadResult;
import trnsim.core.run.WorkloadRunner;
import trnsim.core.stats.StatsSnapshot;
import trnsim.core.system.LlmResult;
import trnsim.core.system.LlmSystem;
import trnsim.core.trace.TraceSink;
import trnsim.isa.ProgramException;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.Workloads;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * The one entry point for simulating a point: (hardware spec, workload spec, options) to a
 * {@link SimulationResult}. It expands workload names, runs kernels under the chip's power limit,
 * runs system steps (llm-*) on the whole system, and attaches energy, clock and cost. The CLI, the
 * sweep engines, benchmarks and tests all call it, so every caller gets the same numbers.
 *
 * <p>Holds only the config root (and its stateless loader): one instance may serve many threads,
 * and every call's working state is local to it.
 */
public final class Simulator {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Simulator.class);
  private final HardwareLoader hardware;

  /** @param configs the {@code configs/} folder (hardware, workloads, energy tables) */
  public Simulator(Path configs) {
    this(new HardwareLoader(configs));
  }

  public Simulator(HardwareLoader hardware) {
    this.hardware = hardware;
  }

  public Path configs() {
    return hardware.root();
  }

  public HardwareLoader hardwareLoader() {
    return hardware;
  }

  /** A hardware config by name or path with {@code key.path=value} overrides applied. */
  public HardwareSpec hardware(String nameOrPath, List<String> sets) {
    return hardware.load(nameOrPath, sets).spec();
  }

  /** Inline specs pass through; a name expands to the workload(s) in configs/workloads (or a suite). */
  public List<String> expand(String workload) {
    boolean file = workload.endsWith(".yaml") || isWorkloadFile(workload, "workloads")
        || isWorkloadFile(workload, "workloads/suites");
    if (workload.contains(":") || !file) {
      return List.of(workload);
    }
    return new ModelLoader(configs()).workloads(workload);
  }

  /** True when {@code configs/<dir>/<name>.yaml} is a file; text that cannot be a path (a NUL) is not one. */
  private boolean isWorkloadFile(String name, String dir) {
    try {
      return Files.isRegularFile(configs().resolve(dir).resolve(name + ".yaml"));
    } catch (InvalidPathException e) {
      return false;
    }
  }

  /** True for system-level workloads (llm-train, llm-infer), which run on the whole system. */
  public static boolean isSystemWorkload(String workload) {
    int colon = workload.indexOf(':');
    String kind = (colon < 0 ? workload : workload.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
    return LlmSystem.handles(kind);
  }

  /** Simulates one point: a system step for llm-* workloads, otherwise a power-limited kernel run. */
  public SimulationResult run(HardwareSpec hw, String workload, RunOptions opts) {
    return isSystemWorkload(workload) ? runSystem(hw, workload, opts) : runKernel(hw, workload, opts);
  }

  /** A kernel workload at full clock, without the power limit or energy (rooflines, calibration pairs). */
  public WorkloadResult simulate(HardwareSpec hw, String workload, RunOptions opts) {
    return simulate(hw, workload, opts, new HashMap<>(), new GemmSteadyState.Memo());
  }

  /**
   * As above, reusing a lowering from {@code lowered} when the target differs only in its clock:
   * lowering reads the target's shapes, buffers and queues, not its clock, so the power limiter's
   * runs at other clocks simulate the same programs without lowering them again.
   */
  private WorkloadResult simulate(HardwareSpec hw, String workload, RunOptions opts, Map<TargetSpec, LoweredWorkload> lowered,
      GemmSteadyState.Memo steadyMemo) {
    WorkloadResult steady = GemmSteadyState.tryRun(hw, workload, opts, steadyMemo);
    if (steady != null) {
      return steady;
    }
    WorkloadSpec spec = WorkloadSpec.parse(workload, "--workload");
    ModelLoader models = new ModelLoader(configs());
    LoweredWorkload lw;
    try {
      TargetSpec target = Targets.of(hw);
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

  private static TargetSpec withoutClock(TargetSpec t) {
    return Targets.withoutClock(t);
  }

  private static boolean hasEnergyTable(HardwareSpec hw) {
    return hw.chip().power() != null && hw.chip().power().energyTable() != null;
  }

  /**
   * Simulates a system step (llm-*) under the chip power limit. The clock is chosen, by the same
   * {@link PowerLimiter} as for kernels, so that the step's compute phase (one chip's kernels for a
   * layer) fits the limit; communication and bubbles draw less, so the step as a whole stays below it.
   * MFU is reported against the peak at the maximum clock.
   */
  public SystemRunResult runSystem(HardwareSpec hw, String workload, RunOptions opts) {
    ModelLoader models = new ModelLoader(configs());
    double maxGhz = ClockScaling.tensorClockGhz(hw);
    double price = hw.system().pricePerChipHourUsd();
    if (hw.system().mixed()) {
      return runMixed(hw, workload, opts, models, maxGhz);
    }
    if (!hasEnergyTable(hw)) {
      LlmResult r = LlmSystem.run(hw, WorkloadSpec.parse(workload, "--workload"), models::model, null, opts);
      double limit = hw.chip().power() == null ? Double.NaN : hw.chip().power().limit().watts();
      return new SystemRunResult(r, new OperatingPoint(maxGhz, maxGhz, false, limit, price), hw);
    }
    EnergyModel energy = EnergyModel.forHardware(hw, configs());
    PowerLimiter limiter = limiter(hw, opts);
    Map<HardwareSpec, LlmResult> runs = new IdentityHashMap<>();
    RunOptions quiet = new RunOptions(null, opts.maxEvents());
    PowerLimiter.Result lr = limiter.run(hw, h -> {
      LlmResult r = LlmSystem.run(h, WorkloadSpec.parse(workload, "--workload"), models::model, energy, quiet);
      runs.put(h, r);
      return new PowerLimiter.Sample(r.layer().timeSeconds(), combinedStats(r.layer()));
    });
    LlmResult r = runs.get(lr.hardware());
    if (opts.trace() != TraceSink.NONE) {
      // The trace records only the final run, at the chosen clock (as for kernels).
      r = LlmSystem.run(lr.hardware(), WorkloadSpec.parse(workload, "--workload"), models::model, energy, opts);
    }
    if (lr.throttled()) {
      double fraction = lr.tensorClockGhz() / maxGhz;
      List<String> notes = new ArrayList<>(r.notes());
      notes.add(String.format(Locale.ROOT,
          "power limit: compute phases run at %.3f GHz (%.0f%% of %.3f) to stay within %.0f W per chip; MFU is against the full-clock peak",
          lr.tensorClockGhz(), 100 * fraction, maxGhz, limiter.limitW()));
      r = new LlmResult(r.hardware(), r.workload(), r.phase(), r.parallelism(), r.defaulted(), r.chips(),
          r.seconds(), r.tokens(), r.breakdown(), r.memoryBytes(), r.mfu() * fraction, r.modelFlops(), r.energyJoules(),
          r.costUsd(), r.layer(), r.collectives(), notes);
    }
    return new SystemRunResult(r, new OperatingPoint(lr.tensorClockGhz(), maxGhz, lr.throttled(), limiter.limitW(), price,
        lr.simulations()), lr.hardware());
  }

  /**
   * A system step on a mixed domain: each group's part on its own chip model with its own energy
   * table and price ({@code MixedTraining}, {@code MixedInference}), at full clock (the power limiter
   * is not applied per group). The operating point's price is the domain's mean per chip-hour.
   */
  private SystemRunResult runMixed(HardwareSpec hw, String workload, RunOptions opts, ModelLoader models, double maxGhz) {
    trnsim.core.system.Domain domain = LlmSystem.domain(hw, name -> hardware(name, List.of()));
    Map<String, EnergyModel> energies = new java.util.HashMap<>();
    java.util.function.Function<trnsim.core.system.Domain.Group, EnergyModel> energy = g -> !hasEnergyTable(g.hw()) ? null
        : energies.computeIfAbsent(g.name(), k -> EnergyModel.forHardware(g.hw(), configs()));
    LlmResult r = LlmSystem.run(domain, WorkloadSpec.parse(workload, "--workload"), models::model, energy, opts);
    double price = r.costUsd() / r.seconds() * 3600 / r.chips();
    return new SystemRunResult(r, new OperatingPoint(maxGhz, maxGhz, false, Double.NaN, price), hw);
  }

  /** Energy of a workload: each kernel's actions x energy per action plus static power x its time, x repeats. */
  public Energy energy(HardwareSpec hw, WorkloadResult r) {
    if (!hasEnergyTable(hw)) {
      return Energy.NONE;
    }
    EnergyModel model = EnergyModel.forHardware(hw, configs());
    double joules = 0;
    for (var s : r.steps()) {
      joules += model.report(s.result().stats(), s.result().timeSeconds()).totalEnergyJ() * s.repeat();
    }
    return new Energy(joules, r.timeSeconds() > 0 ? joules / r.timeSeconds() : Double.NaN);
  }

  /**
   * Simulates a kernel workload under the chip's power limit ({@code chip.power.limit}): when its
   * average power at full clock is over the limit, {@link PowerLimiter} lowers the compute clocks and
   * re-simulates, and the result is the throttled run. Configs without a power block (or without an
   * energy table) run at full clock with no energy. A trace, if any, records only the final run (at
   * the chosen clock).
   */
  public KernelRunResult runKernel(HardwareSpec hw, String workload, RunOptions opts) {
    double price = hw.system().pricePerChipHourUsd();
    double maxGhz = ClockScaling.tensorClockGhz(hw);
    if (!hasEnergyTable(hw)) {
      WorkloadResult r = simulate(hw, workload, opts);
      double limit = hw.chip().power() == null ? Double.NaN : hw.chip().power().limit().watts();
      return new KernelRunResult(r, Energy.NONE, new OperatingPoint(maxGhz, maxGhz, false, limit, price), hw);
    }
    PowerLimiter limiter = limiter(hw, opts);
    RunOptions quiet = new RunOptions(null, opts.maxEvents(), opts.steadyState()).withCoreClasses(opts.coreClasses());
    // At full clock with the tiling search: when that fits the limit, it is the answer. Under a
    // binding limit the search is off: the fastest tiling at a clock can draw more power, so the
    // limiter would lower the clock further and end slower than the traffic-minimal tiling
    // (a 12288^3 GEMM at 250 W on trn2: 15.6 ms against 14.1 ms); and each limiter sample would
    // pay for the whole search.
    Map<TargetSpec, LoweredWorkload> lowered = new HashMap<>();
    GemmSteadyState.Memo steadyMemo = new GemmSteadyState.Memo();
    WorkloadResult searched = simulate(hw, workload, quiet, lowered, steadyMemo);
    // Without candidate tilings the full-clock run above is the limiter's first sample: not simulated twice.
    boolean plain = lowered.values().stream().allMatch(l -> l.alternatives().isEmpty());
    EnergyModel energyModel = EnergyModel.forHardware(hw, configs());
    double searchedJ = energyModel.report(combinedStats(searched), searched.timeSeconds()).totalEnergyJ();
    if (searched.timeSeconds() > 0 && searchedJ / searched.timeSeconds() <= limiter.limitW()) {
      WorkloadResult r = opts.trace() != TraceSink.NONE ? simulate(hw, workload, opts) : searched;
      return new KernelRunResult(r, new Energy(searchedJ, searchedJ / searched.timeSeconds()),
          new OperatingPoint(maxGhz, maxGhz, false, limiter.limitW(), price, 1), hw);
    }
    final RunOptions limited = quiet.withoutTilingSearch();
    RunOptions traced = opts.withoutTilingSearch();
    Map<HardwareSpec, WorkloadResult> runs = new IdentityHashMap<>();
    PowerLimiter.Result lr = limiter.run(hw, h -> {
      WorkloadResult r = plain && h.equals(hw) ? searched : simulate(h, workload, limited, lowered, steadyMemo);
      LOG.debug("power limiter: {} at tensor clock {} GHz takes {} us", workload, ClockScaling.tensorClockGhz(h),
          r.timeSeconds() * 1e6);
      runs.put(h, r);
      return new PowerLimiter.Sample(r.timeSeconds(), combinedStats(r));
    });
    WorkloadResult r = runs.get(lr.hardware());
    LOG.debug("power limiter: {} runs at {} GHz ({} samples simulated), limit {} W, throttled {}", workload,
        lr.tensorClockGhz(), runs.size(), limiter.limitW(), lr.throttled());
    if (traced.trace() != TraceSink.NONE) {
      r = simulate(lr.hardware(), workload, traced);
    }
    double joules = lr.energyJ();
    Energy e = new Energy(joules, r.timeSeconds() > 0 ? joules / r.timeSeconds() : Double.NaN);
    return new KernelRunResult(r, e, new OperatingPoint(lr.tensorClockGhz(), maxGhz, lr.throttled(), limiter.limitW(), price,
        lr.simulations()), lr.hardware());
  }

  /** The chip's power limiter, searching to the highest step that fits when the options ask for it. */
  private PowerLimiter limiter(HardwareSpec hw, RunOptions opts) {
    PowerLimiter l = PowerLimiter.forHardware(hw, configs());
    return opts.exactPowerSearch() ? l.withSearch(PowerLimiter.Search.EXACT) : l;
  }

  /** The statistics of every kernel of a workload, each counter multiplied by the kernel's repeat count. */
  public static StatsSnapshot combinedStats(WorkloadResult r) {
    if (r.steps().size() == 1) { // one kernel: its own names, already sorted, so no merging
      var s = r.steps().get(0);
      var values = s.result().stats().values();
      double[] scaled = new double[values.size()];
      int i = 0;
      for (double v : values.values()) {
        scaled[i++] = v * s.repeat();
      }
      return StatsSnapshot.ofSorted(new ArrayList<>(values.keySet()), scaled);
    }
    StatsSnapshot.Builder b = StatsSnapshot.builder();
    for (var s : r.steps()) {
      for (var e : s.result().stats().values().entrySet()) {
        b.add(e.getKey(), e.getValue() * s.repeat());
      }
    }
    return b.build();
  }
}
