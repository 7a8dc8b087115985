package trnsim.core.hw;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;
import trnsim.core.config.HardwareSpec;
import trnsim.core.engine.Simulation;
import trnsim.core.stats.StatsSnapshot;
import trnsim.core.trace.TraceSink;
import trnsim.isa.Instruction;
import trnsim.isa.Program;
import trnsim.isa.ProgramException;

/**
 * One chip: its cores run their programs concurrently and share the chip's HBM bandwidth.
 * Build, {@link #run()}, then read {@link #stats()}; a model is used once.
 */
public final class ChipModel {
  final Simulation sim;
  final HardwareSpec spec;
  final TraceSink trace;
  final SharedBandwidth hbm;
  /** Fraction of the program's HBM-sourced DMA bytes served by the L2 (0 without an L2). */
  final double l2HitFraction;
  /** HBM bandwidth over L2 bandwidth: what one L2-served byte costs on the shared memory path, in HBM bytes. */
  final double l2CostPerByte;
  private final List<CoreModel> cores = new ArrayList<>();
  /** Per core index of the program, the model that simulates it (its class's representative). */
  private final List<CoreModel> modelOfCore = new ArrayList<>();
  private final ToLongFunction<Instruction.Collective> collectives;
  private final String prefix;
  private long endTick;
  private boolean ran;

  /**
   * @param collectives ticks a collective takes (supplied by the multi-chip model); null when the
   *     program runs on one chip alone and must contain none
   */
  public ChipModel(HardwareSpec spec, Program program, Simulation sim, TraceSink trace,
      ToLongFunction<Instruction.Collective> collectives) {
    this(spec, program, sim, trace, collectives, false);
  }

  /**
   * @param coreClasses simulate one core per symmetric class (cores that run the same program
   *     object, {@code ProgramBuilder.sameAs}) with its flows weighted by the class size; ignored
   *     with a trace (which shows every core) or collectives
   */
  public ChipModel(HardwareSpec spec, Program program, Simulation sim, TraceSink trace,
      ToLongFunction<Instruction.Collective> collectives, boolean coreClasses) {
    this.sim = sim;
    this.spec = spec;
    this.trace = trace;
    this.collectives = collectives;
    this.prefix = "chip0";
    if (program.cores().size() > spec.chip().cores()) {
      throw new ProgramException("program uses " + program.cores().size() + " cores; " + spec.name()
          + " has " + spec.chip().cores() + " per chip");
    }
    this.hbm = new SharedBandwidth(sim, spec.chip().hbm().sustainedBytesPerSecond(), trace, 0);
    var l2 = spec.chip().l2();
    this.l2HitFraction = l2 == null ? 0 : l2HitFraction(program);
    this.l2CostPerByte = l2 == null ? 0
        : Math.min(1.0, spec.chip().hbm().sustainedBytesPerSecond() / l2.bandwidth().bytesPerSecond());
    if (trace.enabled()) {
      trace.processName(0, "chip0 hbm");
    }
    CostModel cost = new CostModel(spec.chip().core());
    if (coreClasses && !trace.enabled() && collectives == null) {
      buildClasses(program, cost);
    } else {
      for (int c = 0; c < program.cores().size(); c++) {
        cores.add(new CoreModel(this, c, program.cores().get(c), cost));
      }
      modelOfCore.addAll(cores);
    }
  }

  /**
   * Symmetric core classes. Cores that run the same program and start together follow the same
   * trajectory in this deterministic model: they interact only through the shared HBM bandwidth,
   * where identical flows started at the same tick get the same rate and finish at the same tick.
   * So one core per class is simulated, its HBM flows weighted by the class size (that many equal
   * shares, that many times the bytes), its events counted once per member, and its statistics
   * reported under every member's name. Cores are grouped by program identity (the lowering shares
   * one program object between cores of the same slab); cores with distinct programs stay alone.
   */
  private void buildClasses(Program program, CostModel cost) {
    var classSize = new java.util.IdentityHashMap<trnsim.isa.CoreProgram, Integer>();
    int n = program.cores().size();
    for (var p : program.cores()) {
      classSize.merge(p, 1, Integer::sum);
    }
    var model = new java.util.IdentityHashMap<trnsim.isa.CoreProgram, CoreModel>();
    for (int c = 0; c < n; c++) {
      var p = program.cores().get(c);
      CoreModel m = model.get(p);
      if (m == null) {
        m = new CoreModel(this, c, p, cost, classSize.get(p));
        model.put(p, m);
        cores.add(m);
      }
      modelOfCore.add(m);
    }
  }

  /**
   * The shared on-chip cache (a GPU's L2) as a reuse filter. Every byte the program's DMAs read
   * from HBM passes through the L2; a byte is fetched from HBM only the first time (the program's
   * compulsory traffic, {@link Program#hbmBytesMin()}, less what it writes); every re-read of an
   * operand, by another core sharing a block or by the same core on a later block, is an L2 hit.
   * That assumes the kernel's schedule keeps its reuse within the cache (what cuBLAS's rasterised
   * GEMM tile order does); a stream read once (copy, elementwise) gets no hits. Programs that do not
   * declare their compulsory traffic get none either.
   */
  static double l2HitFraction(Program program) {
    if (program.hbmBytesMin() <= 0) {
      return 0;
    }
    long[] rw = hbmDmaBytes(program);
    double reads = rw[0];
    double writes = rw[1];
    if (reads <= 0) {
      return 0;
    }
    double unique = Math.max(0, Math.min(reads, program.hbmBytesMin() - writes));
    return 1 - unique / reads;
  }

  /**
   * A program's HBM-sourced and HBM-destined DMA bytes, {reads, writes}. Integer sums, so per stored
   * instruction times its repetitions is the instruction-by-instruction sum, and a core program
   * shared by several cores (one object per slab shape) is summed once and counted per core.
   */
  public static long[] hbmDmaBytes(Program program) {
    long[] rw = new long[2];
    var perProgram = new java.util.IdentityHashMap<trnsim.isa.CoreProgram, long[]>();
    for (var core : program.cores()) {
      long[] own = perProgram.computeIfAbsent(core, ChipModel::hbmBytes);
      rw[0] += own[0];
      rw[1] += own[1];
    }
    return rw;
  }

  /** One core program's HBM-sourced and HBM-destined DMA bytes. */
  private static long[] hbmBytes(trnsim.isa.CoreProgram core) {
    long[] rw = new long[2];
    for (var q : core.queues()) {
      if (q.kind() != trnsim.isa.EngineKind.DMA) {
        continue;
      }
      q.forEachStored((ins, times) -> {
        if (ins instanceof Instruction.DmaCopy d) {
          if (d.src().space() == trnsim.isa.MemSpace.HBM) {
            rw[0] += d.bytes() * times;
          }
          if (d.dst().space() == trnsim.isa.MemSpace.HBM) {
            rw[1] += d.bytes() * times;
          }
        }
      });
    }
    return rw;
  }

  long collectiveTicks(Instruction.Collective c) {
    if (collectives == null) {
      throw new ProgramException(c.mnemonic() + ": collectives need a multi-chip system model");
    }
    return collectives.applyAsLong(c);
  }

  /** Runs to completion; a program that cannot complete ends with an error naming what is stuck. */
  public long run() {
    if (ran) {
      throw new IllegalStateException("a ChipModel runs once");
    }
    ran = true;
    for (CoreModel c : cores) {
      c.start();
    }
    sim.run();
    endTick = sim.now();
    List<String> stuck = new ArrayList<>();
    for (CoreModel c : cores) {
      c.describeStuck(stuck);
    }
    if (!stuck.isEmpty()) {
      throw new ProgramException("deadlock: the program can never complete; stuck: "
          + String.join("; ", stuck.subList(0, Math.min(8, stuck.size())))
          + (stuck.size() > 8 ? "; and " + (stuck.size() - 8) + " more" : ""));
    }
    return endTick;
  }

  /** Cores simulated event by event: one per symmetric class with core classes, else every core. */
  public int simulatedCores() {
    return cores.size();
  }

  public long endTick() {
    return endTick;
  }

  public StatsSnapshot stats() {
    StatsSnapshot.Builder b = StatsSnapshot.builder();
    b.put("sim.end_ps", endTick);
    // The clock-scaled ticks of the chain that finished last (see Simulation's clock share).
    b.put("sim.end_clock_ps", sim.endClockShare());
    b.put("sim.events", sim.eventsProcessed());
    for (int i = 0; i < modelOfCore.size(); i++) {
      modelOfCore.get(i).report(b, prefix + ".nc" + i, endTick);
    }
    b.put(prefix + ".hbm.busy_ps", hbm.busyTicks);
    b.put(prefix + ".hbm.transferred_bytes", hbm.bytesTransferred);
    b.put(prefix + ".hbm.peak_concurrent_transfers", hbm.peakFlows);
    b.put(prefix + ".hbm.capacity_bytes_per_s", hbm.capacityBytesPerTick() * Simulation.TICKS_PER_SECOND);
    b.put(prefix + ".hbm.achieved_bytes_per_s", endTick > 0 ? hbm.bytesTransferred / (endTick / (double) Simulation.TICKS_PER_SECOND) : 0);
    return b.build();
  }
}
