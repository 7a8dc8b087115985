package trnsim.isa;

/** The instruction queues of a NeuronCore. Each compute engine runs one in-order stream. */
public enum EngineKind {
  TENSOR("tensor"),
  VECTOR("vector"),
  SCALAR("scalar"),
  GPSIMD("gpsimd"),
  /** The sync engine: a sequencer that triggers DMAs and runs barriers and collectives. */
  SYNC("sync"),
  /** One of the core's DMA queues; which one is given by the queue index. */
  DMA("dma");

  private final String label;

  EngineKind(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  public boolean isCompute() {
    return this == TENSOR || this == VECTOR || this == SCALAR || this == GPSIMD;
  }
}
