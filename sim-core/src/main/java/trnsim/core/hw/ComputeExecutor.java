package trnsim.core.hw;

import trnsim.core.engine.ClockDomain;
import trnsim.isa.EngineKind;
import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.ProgramException;
import trnsim.isa.Queue;
import trnsim.isa.TensorRef;

/**
 * A compute engine (Tensor, Vector, Scalar, GpSimd) or the sync engine. One instruction at a time;
 * each occupies the engine for its cost-model cycles, aligned to the engine's clock edges, and its
 * result becomes visible {@code latency} cycles after it ends.
 */
final class ComputeExecutor extends QueueExecutor {
  private static final int FINISH = 1;
  private static final int VISIBLE = 2;

  private final ClockDomain clock;
  private final long latencyTicks;
  private boolean busy;
  private long startTick;
  /** The barrier round this engine arrived in, or -1 when it is not at a barrier. */
  private int barrierGeneration = -1;
  long flops;
  final long[] flopsByDtype = new long[trnsim.isa.DType.values().length];
  long busyCycles;
  // Energy action counters (see trnsim.core.energy.EnergyModel): plain fields, bumped once per
  // finished instruction, no allocation.
  /** Multiply-accumulates through the PE array by input dtype (matmuls and tensor-engine transposes). */
  final long[] macsByDtype = new long[trnsim.isa.DType.values().length];
  long sbufReadBytes;
  long sbufWriteBytes;
  long psumReadBytes;
  long psumWriteBytes;
  /** Elements processed by a SIMD engine (one lane-operation each). */
  long elementOps;

  ComputeExecutor(CoreModel core, Queue queue, int index, ClockDomain clock, long latencyCycles) {
    super(core, queue, index);
    this.clock = clock;
    this.latencyTicks = clock.ticksFor(latencyCycles);
  }

  @Override
  void tryIssue() {
    if (busy || pc >= queue.size()) {
      return;
    }
    if (!depsReady(pc)) {
      return;
    }
    Instruction ins = reader.instruction(pc);
    long durationTicks;
    if (ins instanceof Instruction.SemWait w) {
      if (core.semaphore(w.semaphore()) < w.value()) {
        core.waitSemaphore(w.semaphore(), this);
        block(STALL_SEMAPHORE, "semaphore " + w.semaphore() + " >= " + w.value()
            + " (now " + core.semaphore(w.semaphore()) + ")");
        return;
      }
    } else if (ins instanceof Instruction.Barrier b) {
      if (barrierGeneration < 0) {
        barrierGeneration = core.arriveBarrier(b.id(), b.participants());
      }
      if (!core.barrierPassed(b.id(), barrierGeneration)) {
        core.waitBarrier(b.id(), this);
        block(STALL_BARRIER, "barrier " + b.id() + " (" + core.barrierCount(b.id()) + " of " + b.participants() + " arrived)");
        return;
      }
      barrierGeneration = -1;
    }
    unblock();
    long now = sim.now();
    long endTick;
    if (ins instanceof Instruction.Collective c) {
      durationTicks = core.chip.collectiveTicks(c);
      endTick = sim.after(durationTicks);
    } else {
      long cycles = core.cost.cycles(ins);
      busyCycles += cycles;
      endTick = clock.endTick(now, cycles);
    }
    busy = true;
    startTick = now;
    if (ins instanceof Instruction.Collective) {
      sim.scheduleAt(endTick, 0, this, FINISH, pc); // link time: not clock-scaled
    } else {
      sim.scheduleClockedAt(endTick, 0, this, FINISH, pc);
    }
  }

  @Override
  public void handle(int kind, long arg) {
    core.countReplicas();
    if (kind == FINISH) {
      finishInstruction((int) arg);
    } else {
      markVisible();
    }
  }

  private void finishInstruction(int i) {
    long now = sim.now();
    Instruction ins = reader.instruction(i);
    busy = false;
    busyTicks += now - startTick;
    lastEndTick = now;
    instructions++;
    if (ins instanceof Instruction.MatMul m) {
      long f = m.flops();
      flops += f;
      flopsByDtype[m.stationary().dtype().ordinal()] += f;
    } else if (ins instanceof Instruction.SemSignal s) {
      core.signal(s.semaphore());
    }
    countActions(ins);
    if (core.trace.enabled()) {
      core.trace.slice(core.pid, index, ins.mnemonic(), startTick, now);
    }
    pc++;
    if (latencyTicks == 0) {
      markVisible();
    } else {
      sim.scheduleClockedAt(sim.after(latencyTicks), 1, this, VISIBLE, i); // pipeline latency: engine cycles
    }
    tryIssue();
  }

  /**
   * Counts what {@code ins} did for the energy model: operand bytes read from and written to SBUF
   * and PSUM, MACs through the PE array, elements through a SIMD engine. A matmul reads both
   * operands from SBUF and writes its fp32 result to PSUM; accumulating into PSUM is a
   * read-modify-write, so it also reads the output. A tensor-engine transpose is a matmul against
   * an identity: P x P x F MACs for a [P, F] tile.
   */
  private void countActions(Instruction ins) {
    if (ins instanceof Instruction.MatMul m) {
      read(m.stationary());
      read(m.moving());
      write(m.out());
      if (m.accumulate()) {
        read(m.out());
      }
      macsByDtype[m.stationary().dtype().ordinal()] += (long) m.k() * m.m() * m.n();
    } else if (ins instanceof Instruction.Transpose t) {
      read(t.in());
      write(t.out());
      if (t.engine() == EngineKind.TENSOR) {
        macsByDtype[t.in().dtype().ordinal()] += (long) t.in().partitions() * t.in().elements();
      } else {
        elementOps += t.in().elements();
      }
    } else if (ins instanceof Instruction.Activation a) {
      read(a.in());
      write(a.out());
      elementOps += a.in().elements();
    } else if (ins instanceof Instruction.TensorTensor t) {
      read(t.in0());
      read(t.in1());
      write(t.out());
      elementOps += t.in0().elements();
    } else if (ins instanceof Instruction.TensorTensorScan t) {
      // Both inputs and the output stream through SBUF/PSUM once; the running value stays in the lane.
      read(t.in0());
      read(t.in1());
      if (t.initial() != null) {
        read(t.initial());
      }
      write(t.out());
      elementOps += t.in0().elements();
    } else if (ins instanceof Instruction.TensorScalar t) {
      read(t.in());
      write(t.out());
      elementOps += t.in().elements();
    } else if (ins instanceof Instruction.TensorReduce t) {
      read(t.in());
      write(t.out());
      elementOps += t.in().elements();
    } else if (ins instanceof Instruction.TensorCopy t) {
      read(t.in());
      write(t.out());
      elementOps += t.in().elements();
    } else if (ins instanceof Instruction.Memset m) {
      write(m.out());
      elementOps += m.out().elements();
    } else if (ins instanceof Instruction.Iota i) {
      write(i.out());
      elementOps += i.out().elements();
    }
  }

  private void read(TensorRef r) {
    if (r.space() == MemSpace.SBUF) {
      sbufReadBytes += r.bytes();
    } else if (r.space() == MemSpace.PSUM) {
      psumReadBytes += r.bytes();
    }
  }

  private void write(TensorRef r) {
    if (r.space() == MemSpace.SBUF) {
      sbufWriteBytes += r.bytes();
    } else if (r.space() == MemSpace.PSUM) {
      psumWriteBytes += r.bytes();
    }
  }

  static void requireEngine(Instruction ins, EngineKind kind) {
    if (ins.engine() != kind) {
      throw new ProgramException(ins.mnemonic() + " cannot run on " + kind.label());
    }
  }
}
