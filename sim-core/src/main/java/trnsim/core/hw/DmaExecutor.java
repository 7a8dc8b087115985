package trnsim.core.hw;

import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.ProgramException;
import trnsim.isa.Queue;

/**
 * One DMA queue (hardware DMA engine). A transfer passes two pipelined stages: descriptor
 * processing ({@code descriptorCost}, one transfer at a time) and data movement (one transfer at
 * a time, at up to the queue's bandwidth, sharing HBM with every other transfer in flight). While
 * one transfer moves data the next one's descriptor is processed, so back-to-back transfers
 * sustain {@code bytes / max(descriptorCost, bytes / bandwidth)}: proportional to size for small
 * transfers, flat for large ones (the published size curve). Completion becomes visible
 * {@code latency} after the last byte.
 */
final class DmaExecutor extends QueueExecutor implements SharedBandwidth.Client {
  private static final int DESC_DONE = 1;
  private static final int DATA_DONE = 2;
  private static final int VISIBLE = 3;

  private final long descriptorTicks;
  private final long latencyTicks;
  private final double bytesPerTick;
  private boolean descBusy;
  private boolean dataBusy;
  private int pendingData = -1;
  private long dataStart;
  private int dataIndex;
  long bytesMoved;
  double hbmReadBytes;
  double hbmWriteBytes;
  double l2HitBytes;
  long sbufReadBytes;
  long sbufWriteBytes;
  long psumReadBytes;
  long descBusyTicks;
  /** Data rate of a transfer with an on-chip (SBUF/PSUM) end; {@link #bytesPerTick} is HBM to HBM. */
  private final double onChipBytesPerTick;

  DmaExecutor(CoreModel core, Queue queue, int index) {
    super(core, queue, index);
    this.descriptorTicks = Math.max(1, core.spec.dma().descriptorCost().picoseconds());
    this.latencyTicks = core.spec.dma().latency().picoseconds();
    this.bytesPerTick = core.spec.dma().queueBandwidth().bytesPerSecond() / 1e12;
    this.onChipBytesPerTick = core.spec.dma().sbufBandwidth().bytesPerSecond() / 1e12;
  }

  @Override
  void tryIssue() {
    if (descBusy || pc >= queue.size() || pendingData >= 0) {
      return;
    }
    if (!depsReady(pc)) {
      return;
    }
    unblock();
    Instruction.DmaCopy d = (Instruction.DmaCopy) reader.instruction(pc);
    validate(d);
    descBusy = true;
    descBusyTicks += descriptorTicks;
    sim.scheduleAt(sim.after(descriptorTicks), 0, this, DESC_DONE, pc);
    pc++;
  }

  private void validate(Instruction.DmaCopy d) {
    if (d.src().bytes() != d.dst().bytes()) {
      throw new ProgramException("dma_copy: source " + d.src() + " and destination " + d.dst()
          + " differ in size (" + d.src().bytes() + " vs " + d.dst().bytes() + " bytes)");
    }
    if (d.dst().space() == MemSpace.PSUM && d.src().space() == MemSpace.HBM) {
      // allowed on hardware? Treated as allowed: DMA engines can reach every memory.
      return;
    }
  }

  @Override
  public void handle(int kind, long arg) {
    core.countReplicas();
    switch (kind) {
      case DESC_DONE -> {
        descBusy = false;
        if (dataBusy) {
          pendingData = (int) arg;
        } else {
          startData((int) arg);
        }
        tryIssue();
      }
      case DATA_DONE -> dataDone();
      default -> markVisible();
    }
  }

  private void startData(int i) {
    Instruction.DmaCopy d = (Instruction.DmaCopy) reader.instruction(i);
    dataBusy = true;
    dataStart = sim.now();
    dataIndex = i;
    long bytes = d.bytes();
    int hbmSides = (d.src().space() == MemSpace.HBM ? 1 : 0) + (d.dst().space() == MemSpace.HBM ? 1 : 0);
    double bytesPerTick = hbmSides == 2 ? this.bytesPerTick : onChipBytesPerTick;
    if (hbmSides > 0) {
      // Cost on the shared memory path per byte: a write, 1 HBM byte; a read, its HBM misses or its pass
      // through the L2, whichever is the tighter (both are crossed by every read in the same proportion).
      double h = core.chip.l2HitFraction;
      double perByte = (d.dst().space() == MemSpace.HBM ? 1 : 0)
          + (d.src().space() == MemSpace.HBM ? (h > 0 ? Math.max(1 - h, core.chip.l2CostPerByte) : 1) : 0);
      core.chip.hbm.start(this, bytes * perByte, bytesPerTick * perByte, bytes * hbmSides, core.weight);
    } else {
      long ticks = Math.max(1, (long) Math.ceil(bytes / bytesPerTick));
      sim.scheduleAt(sim.after(ticks), 0, this, DATA_DONE, i);
    }
  }

  @Override
  public void flowDone() {
    dataDone();
  }

  private void dataDone() {
    long now = sim.now();
    Instruction.DmaCopy d = (Instruction.DmaCopy) reader.instruction(dataIndex);
    dataBusy = false;
    busyTicks += now - dataStart;
    lastEndTick = now;
    instructions++;
    long bytes = d.bytes();
    bytesMoved += bytes;
    account(d.src().space(), bytes, true);
    account(d.dst().space(), bytes, false);
    if (core.trace.enabled()) {
      core.trace.slice(core.pid, index, "dma " + d.src().space() + "->" + d.dst().space() + " " + bytes + "B", dataStart, now);
    }
    if (latencyTicks == 0) {
      markVisible();
    } else {
      sim.scheduleAt(sim.after(latencyTicks), 1, this, VISIBLE, dataIndex);
    }
    if (pendingData >= 0) {
      int next = pendingData;
      pendingData = -1;
      startData(next);
    }
    tryIssue();
  }

  private void account(MemSpace space, long bytes, boolean read) {
    switch (space) {
      case HBM -> {
        if (read) {
          double hit = bytes * core.chip.l2HitFraction;
          l2HitBytes += hit;
          hbmReadBytes += bytes - hit;
        } else {
          hbmWriteBytes += bytes;
        }
      }
      case SBUF -> {
        if (read) {
          sbufReadBytes += bytes;
        } else {
          sbufWriteBytes += bytes;
        }
      }
      case PSUM -> {
        if (read) {
          psumReadBytes += bytes;
        }
      }
    }
  }
}
