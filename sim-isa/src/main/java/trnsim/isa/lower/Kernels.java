package trnsim.isa.lower;

import trnsim.isa.DType;
import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.Op;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.TensorRef;

/** Small helpers shared by the lowerings. */
final class Kernels {
  private Kernels() {}

  static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /**
   * Moves a [partitions x bytesPerPartition] tile between memories, spread over the core's DMA
   * queues the way the hardware spreads descriptors (each queue serves a contiguous group of
   * partitions). Returns one handle per queue used, for dependencies.
   */
  static Op[] spreadDma(ProgramBuilder.CoreBuilder core, int dmaQueues, MemSpace from, MemSpace to,
      int partitions, long bytesPerPartition, Op... deps) {
    int queues = Math.min(dmaQueues, partitions);
    Op[] ops = new Op[queues];
    int base = partitions / queues;
    int extra = partitions % queues;
    for (int q = 0; q < queues; q++) {
      int p = base + (q < extra ? 1 : 0);
      TensorRef src = new TensorRef(from, p, bytesPerPartition, DType.INT8);
      TensorRef dst = new TensorRef(to, p, bytesPerPartition, DType.INT8);
      ops[q] = core.dma(q, new Instruction.DmaCopy(src, dst), deps);
    }
    return ops;
  }

  static Op[] concat(Op[] a, Op... b) {
    Op[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
