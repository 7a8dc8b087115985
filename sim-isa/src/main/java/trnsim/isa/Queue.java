package trnsim.isa;

/**
 * One engine's in-order instruction stream plus, per instruction, the instructions of other
 * queues of the same core that must have completed before it may start. Dependencies are stored
 * flat ({@code depOffsets[i]..depOffsets[i+1]} index {@code depQueue}/{@code depIndex}) so the
 * simulator's hot loop reads arrays, not objects.
 */
public final class Queue {
  private final EngineKind kind;
  private final int dmaIndex;
  private final Instruction[] instructions;
  private final int[] depOffsets;
  private final int[] depQueue;
  private final int[] depIndex;

  Queue(EngineKind kind, int dmaIndex, Instruction[] instructions, int[] depOffsets, int[] depQueue, int[] depIndex) {
    this.kind = kind;
    this.dmaIndex = dmaIndex;
    this.instructions = instructions;
    this.depOffsets = depOffsets;
    this.depQueue = depQueue;
    this.depIndex = depIndex;
  }

  public EngineKind kind() {
    return kind;
  }

  /** For DMA queues, which of the core's queues; -1 for compute engines. */
  public int dmaIndex() {
    return dmaIndex;
  }

  public String label() {
    return kind == EngineKind.DMA ? "dma" + dmaIndex : kind.label();
  }

  public int size() {
    return instructions.length;
  }

  public Instruction instruction(int i) {
    return instructions[i];
  }

  public int depStart(int i) {
    return depOffsets[i];
  }

  public int depEnd(int i) {
    return depOffsets[i + 1];
  }

  public int depQueue(int d) {
    return depQueue[d];
  }

  public int depIndex(int d) {
    return depIndex[d];
  }
}
