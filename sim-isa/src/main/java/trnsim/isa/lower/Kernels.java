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

  /**
   * The resource guard, applied before a lowering builds anything: a kernel whose estimated
   * instruction count exceeds {@link trnsim.isa.ProgramBuilder#MAX_INSTRUCTIONS} is rejected at once
   * instead of exhausting the heap.
   */
  static void guard(String what, double estimatedInstructions) {
    if (!(estimatedInstructions <= trnsim.isa.ProgramBuilder.MAX_INSTRUCTIONS)) {
      throw new trnsim.isa.workload.WorkloadException(what, null, null, String.format(java.util.Locale.ROOT,
          "needs about %.3g instructions per chip, above the simulator's resource guard of %d; simulate a smaller problem",
          estimatedInstructions, trnsim.isa.ProgramBuilder.MAX_INSTRUCTIONS));
    }
  }

  static double tiles(double a, double b) {
    return Math.ceil(a / b);
  }

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
    return spreadDma(core, 0, dmaQueues, from, to, partitions, bytesPerPartition, deps);
  }

  /**
   * As above over queues [firstQueue, firstQueue + nQueues). Kernels keep loads and stores on
   * separate queues: queues are in order, so a store waiting for compute would otherwise block the
   * loads queued behind it.
   */
  static Op[] spreadDma(ProgramBuilder.CoreBuilder core, int firstQueue, int nQueues, MemSpace from, MemSpace to,
      int partitions, long bytesPerPartition, Op... deps) {
    int dmaQueues = nQueues;
    int queues = Math.min(dmaQueues, partitions);
    Op[] ops = new Op[queues];
    int base = partitions / queues;
    int extra = partitions % queues;
    for (int q = 0; q < queues; q++) {
      int p = base + (q < extra ? 1 : 0);
      TensorRef src = new TensorRef(from, p, bytesPerPartition, DType.INT8);
      TensorRef dst = new TensorRef(to, p, bytesPerPartition, DType.INT8);
      ops[q] = core.dma(firstQueue + q, new Instruction.DmaCopy(src, dst), deps);
    }
    return ops;
  }

  /** Queues [0, loadQueues) carry loads; the rest carry stores. */
  static int loadQueues(int dmaQueues) {
    return dmaQueues <= 1 ? dmaQueues : Math.max(1, dmaQueues * 3 / 4);
  }

  static Op[] concat(Op[] a, Op... b) {
    Op[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
