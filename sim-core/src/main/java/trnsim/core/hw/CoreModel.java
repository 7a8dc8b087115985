package trnsim.core.hw;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import trnsim.core.config.CoreSpec;
import trnsim.core.engine.ClockDomain;
import trnsim.core.engine.Simulation;
import trnsim.core.stats.StatsSnapshot;
import trnsim.core.trace.TraceSink;
import trnsim.isa.CoreProgram;
import trnsim.isa.EngineKind;
import trnsim.isa.MemSpace;
import trnsim.isa.ProgramException;
import trnsim.isa.Queue;

/**
 * One NeuronCore running its program: four compute engines and the sync engine, each with its own
 * clock domain, plus the DMA queues; semaphores and barriers for explicit synchronisation. SBUF and
 * PSUM are static scratchpads: the program's buffers must fit, and their total is the occupancy.
 */
final class CoreModel {
  final ChipModel chip;
  final Simulation sim;
  final CoreSpec spec;
  final CostModel cost;
  final TraceSink trace;
  final int coreIndex;
  final int pid;
  /** Cores this model stands for (its symmetric class in ChipModel; 1 when simulated alone). */
  final int weight;
  final QueueExecutor[] executors;
  private final CoreProgram program;
  private int[] semaphores = new int[16];
  private final Map<Integer, List<QueueExecutor>> semWaiters = new HashMap<>();
  /** Per barrier id: {arrivals in the current round, completed rounds}. */
  private final Map<Integer, int[]> barriers = new HashMap<>();
  private final Map<Integer, List<QueueExecutor>> barrierWaiters = new HashMap<>();
  final long sbufBytesPerPartition;
  final long psumBytesPerPartition;

  CoreModel(ChipModel chip, int coreIndex, CoreProgram program, CostModel cost) {
    this(chip, coreIndex, program, cost, 1);
  }

  CoreModel(ChipModel chip, int coreIndex, CoreProgram program, CostModel cost, int weight) {
    this.weight = weight;
    this.chip = chip;
    this.sim = chip.sim;
    this.spec = chip.spec.chip().core();
    this.cost = cost;
    this.trace = chip.trace;
    this.coreIndex = coreIndex;
    this.pid = coreIndex + 1;
    this.program = program;
    sbufBytesPerPartition = program.allocatedBytesPerPartition(MemSpace.SBUF);
    psumBytesPerPartition = program.allocatedBytesPerPartition(MemSpace.PSUM);
    checkFits();
    int nq = program.queues().size();
    if (nq - CoreProgram.FIRST_DMA > spec.dma().queues()) {
      throw new ProgramException("core " + coreIndex + " program uses " + (nq - CoreProgram.FIRST_DMA)
          + " DMA queues; the hardware has " + spec.dma().queues());
    }
    executors = new QueueExecutor[nq];
    for (int q = 0; q < nq; q++) {
      Queue queue = program.queue(q);
      executors[q] = switch (queue.kind()) {
        case TENSOR -> new ComputeExecutor(this, queue, q, new ClockDomain(spec.tensor().clock().hertz()),
            spec.tensor().latencyCycles());
        case VECTOR -> new ComputeExecutor(this, queue, q, new ClockDomain(spec.vector().clock().hertz()),
            spec.vector().latencyCycles());
        case SCALAR -> new ComputeExecutor(this, queue, q, new ClockDomain(spec.scalar().clock().hertz()),
            spec.scalar().latencyCycles());
        case GPSIMD, SYNC -> new ComputeExecutor(this, queue, q, new ClockDomain(spec.gpsimd().clock().hertz()),
            queue.kind() == EngineKind.SYNC ? 0 : spec.gpsimd().latencyCycles());
        case DMA -> new DmaExecutor(this, queue, q);
      };
    }
    if (trace.enabled()) {
      trace.processName(pid, "core" + coreIndex);
      // Buffers are allocated statically for the kernel's lifetime, so occupancy is one sample.
      trace.counter(pid, "sbuf_bytes", 0, sbufBytesPerPartition * spec.sbuf().partitions());
      trace.counter(pid, "psum_bytes", 0, psumBytesPerPartition * spec.psum().partitions());
      for (QueueExecutor e : executors) {
        if (e.queue.size() > 0) {
          trace.trackName(pid, e.index, e.label);
        }
      }
    }
  }

  private void checkFits() {
    long sbuf = spec.sbuf().bytesPerPartition();
    if (sbufBytesPerPartition > sbuf) {
      trnsim.isa.Buffer largest = null;
      for (trnsim.isa.Buffer b : program.buffers()) {
        if (b.space() == MemSpace.SBUF && (largest == null || b.bytesPerPartition() > largest.bytesPerPartition())) {
          largest = b;
        }
      }
      throw new ProgramException("core " + coreIndex + ": buffers need " + sbufBytesPerPartition
          + " bytes per SBUF partition but the core has " + sbuf + " (" + spec.sbuf().size() + " total)"
          + (largest == null ? "" : "; largest: '" + largest.name() + "' " + largest.bytesPerPartition() + " B"));
    }
    long psum = spec.psum().bytesPerPartition();
    if (psumBytesPerPartition > psum) {
      throw new ProgramException("core " + coreIndex + ": buffers need " + psumBytesPerPartition
          + " bytes per PSUM partition but the core has " + psum);
    }
    for (var b : program.buffers()) {
      int parts = b.space() == MemSpace.PSUM ? spec.psum().partitions() : spec.sbuf().partitions();
      if (b.space() != MemSpace.HBM && b.partitions() > parts) {
        throw new ProgramException("core " + coreIndex + ": buffer '" + b.name() + "' spans " + b.partitions()
            + " partitions; " + b.space() + " has " + parts);
      }
    }
  }

  /** Counts one event of this core as run by each of the other cores of its class too. */
  void countReplicas() {
    if (weight > 1) {
      sim.countReplicated(weight - 1);
    }
  }

  void start() {
    for (QueueExecutor e : executors) {
      e.tryIssue();
    }
  }

  int semaphore(int s) {
    return s < semaphores.length ? semaphores[s] : 0;
  }

  void signal(int s) {
    if (s < 0) {
      throw new ProgramException("semaphore ids must be non-negative: " + s);
    }
    if (s >= semaphores.length) {
      semaphores = java.util.Arrays.copyOf(semaphores, Math.max(s + 1, semaphores.length * 2));
    }
    semaphores[s]++;
    List<QueueExecutor> w = semWaiters.remove(s);
    if (w != null) {
      for (QueueExecutor e : w) {
        e.tryIssue();
      }
    }
  }

  void waitSemaphore(int s, QueueExecutor e) {
    semWaiters.computeIfAbsent(s, k -> new ArrayList<>()).add(e);
  }

  /**
   * Arrives at barrier {@code id} and returns the round (generation) the arrival belongs to. The
   * round completes when {@code participants} engines have arrived: the generation advances, the
   * count restarts at zero and every waiter is woken, so the same barrier id can be used again.
   */
  int arriveBarrier(int id, int participants) {
    int[] st = barriers.computeIfAbsent(id, k -> new int[2]);
    int generation = st[1];
    if (++st[0] >= participants) {
      st[0] = 0;
      st[1]++;
      List<QueueExecutor> w = barrierWaiters.get(id);
      if (w != null && !w.isEmpty()) {
        List<QueueExecutor> copy = new ArrayList<>(w);
        w.clear();
        for (QueueExecutor e : copy) {
          e.tryIssue();
        }
      }
    }
    return generation;
  }

  /** True once the round {@code generation} of barrier {@code id} has completed. */
  boolean barrierPassed(int id, int generation) {
    int[] st = barriers.get(id);
    return st != null && st[1] > generation;
  }

  /** Engines that have arrived in the current round of barrier {@code id}. */
  int barrierCount(int id) {
    int[] st = barriers.get(id);
    return st == null ? 0 : st[0];
  }

  void waitBarrier(int id, QueueExecutor e) {
    barrierWaiters.computeIfAbsent(id, k -> new ArrayList<>()).add(e);
  }

  /** Executors that have not completed their queue, with what each waits for. */
  void describeStuck(List<String> out) {
    for (QueueExecutor e : executors) {
      if (!e.done()) {
        String head = e.pc < e.queue.size() ? e.queue.instruction(e.pc).mnemonic() : "(in flight)";
        out.add("core" + coreIndex + "." + e.label + "#" + e.pc + " " + head
            + (e.waitingFor() == null ? "" : " waits for " + e.waitingFor()));
      }
    }
  }

  boolean done() {
    for (QueueExecutor e : executors) {
      if (!e.done()) {
        return false;
      }
    }
    return true;
  }

  void report(StatsSnapshot.Builder b, String prefix, long endTick) {
    long flops = 0;
    for (QueueExecutor e : executors) {
      e.finish(endTick);
      if (e.queue.size() == 0) {
        continue;
      }
      String p = prefix + "." + e.label + ".";
      b.put(p + "instructions", e.instructions);
      b.put(p + "busy_ps", e.busyTicks);
      long stalled = 0;
      for (int r = 0; r < QueueExecutor.STALL_REASONS.length; r++) {
        if (e.stallTicks[r] > 0) {
          b.put(p + "stall_" + QueueExecutor.STALL_REASONS[r] + "_ps", e.stallTicks[r]);
          stalled += e.stallTicks[r];
        }
      }
      b.put(p + "stall_ps", stalled);
      if (e instanceof ComputeExecutor c) {
        b.put(p + "busy_cycles", c.busyCycles);
        if (c.flops > 0) {
          b.put(p + "flops", c.flops);
          for (var d : trnsim.isa.DType.values()) {
            if (c.flopsByDtype[d.ordinal()] > 0) {
              b.put(p + "flops_" + d.label(), c.flopsByDtype[d.ordinal()]);
            }
          }
        }
        flops += c.flops;
        if (e.queue.kind() != EngineKind.SYNC) {
          // Energy action counters (trnsim.core.energy); SBUF/PSUM bytes the engine itself moved.
          for (var d : trnsim.isa.DType.values()) {
            if (c.macsByDtype[d.ordinal()] > 0) {
              b.put(p + "macs_" + d.label(), c.macsByDtype[d.ordinal()]);
            }
          }
          b.put(p + "sbuf_read_bytes", c.sbufReadBytes);
          b.put(p + "sbuf_write_bytes", c.sbufWriteBytes);
          b.put(p + "psum_read_bytes", c.psumReadBytes);
          b.put(p + "psum_write_bytes", c.psumWriteBytes);
          b.put(p + "element_ops", c.elementOps);
        }
      } else if (e instanceof DmaExecutor d) {
        b.put(p + "bytes", d.bytesMoved);
        b.put(p + "hbm_read_bytes", d.hbmReadBytes);
        b.put(p + "hbm_write_bytes", d.hbmWriteBytes);
        if (chip.l2HitFraction > 0) {
          b.put(p + "l2_hit_bytes", d.l2HitBytes);
        }
        b.put(p + "sbuf_read_bytes", d.sbufReadBytes);
        b.put(p + "sbuf_write_bytes", d.sbufWriteBytes);
        b.put(p + "psum_read_bytes", d.psumReadBytes);
        b.put(p + "descriptor_busy_ps", d.descBusyTicks);
      }
    }
    b.put(prefix + ".flops", flops);
    b.put(prefix + ".sbuf.peak_bytes_per_partition", sbufBytesPerPartition);
    b.put(prefix + ".sbuf.peak_bytes", sbufBytesPerPartition * spec.sbuf().partitions());
    b.put(prefix + ".psum.peak_bytes_per_partition", psumBytesPerPartition);
  }
}
