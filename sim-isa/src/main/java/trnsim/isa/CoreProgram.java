package trnsim.isa;

import java.util.List;

/** The instruction queues and static buffers of one NeuronCore. */
public final class CoreProgram {
  /** Queue index of each compute engine and the sync engine; DMA queue d is at {@code FIRST_DMA + d}. */
  public static final int TENSOR = 0;
  public static final int VECTOR = 1;
  public static final int SCALAR = 2;
  public static final int GPSIMD = 3;
  public static final int SYNC = 4;
  public static final int FIRST_DMA = 5;

  private final List<Queue> queues;
  private final List<Buffer> buffers;

  CoreProgram(List<Queue> queues, List<Buffer> buffers) {
    this.queues = List.copyOf(queues);
    this.buffers = List.copyOf(buffers);
  }

  public List<Queue> queues() {
    return queues;
  }

  public Queue queue(int i) {
    return queues.get(i);
  }

  public List<Buffer> buffers() {
    return buffers;
  }

  public long instructionCount() {
    long n = 0;
    for (Queue q : queues) {
      n += q.size();
    }
    return n;
  }

  /** Bytes per partition statically allocated in {@code space}. */
  public long allocatedBytesPerPartition(MemSpace space) {
    long sum = 0;
    for (Buffer b : buffers) {
      if (b.space() == space) {
        sum += b.bytesPerPartition();
      }
    }
    return sum;
  }

  public static int queueIndex(EngineKind kind) {
    return switch (kind) {
      case TENSOR -> TENSOR;
      case VECTOR -> VECTOR;
      case SCALAR -> SCALAR;
      case GPSIMD -> GPSIMD;
      case SYNC -> SYNC;
      case DMA -> throw new IllegalArgumentException("DMA queues are numbered; use FIRST_DMA + queue");
    };
  }
}
