package trnsim.isa;

/**
 * One instruction of a NeuronCore engine stream, close to the NKI ISA. Instructions describe shapes
 * and types only; their durations come from the simulator's per-generation cost model.
 */
public sealed interface Instruction {
  /** The engine whose queue runs this instruction. */
  EngineKind engine();

  /** The NKI-style name, for traces and reports. */
  String mnemonic();

  /**
   * {@code nc_matmul}: {@code out[M,N] (+)= stationary[K,M]^T @ moving[K,N]}; K is the partition
   * dimension of both inputs, the result lands in PSUM in fp32.
   */
  record MatMul(TensorRef stationary, TensorRef moving, TensorRef out, boolean accumulate) implements Instruction {
    public EngineKind engine() {
      return EngineKind.TENSOR;
    }

    public String mnemonic() {
      return "nc_matmul";
    }

    public int k() {
      return stationary.partitions();
    }

    public long m() {
      return stationary.free();
    }

    public long n() {
      return moving.free();
    }

    public long flops() {
      return 2L * k() * m() * n();
    }
  }

  /** {@code nc_transpose} of a [P, F] tile into [F, P], on the tensor or a vector engine. */
  record Transpose(EngineKind engine, TensorRef in, TensorRef out) implements Instruction {
    public String mnemonic() {
      return "nc_transpose";
    }
  }

  /** {@code activation}: {@code out = func(in * scale + bias)}, optionally reducing along the free dimension. */
  record Activation(TensorRef in, TensorRef out, ActFunc func, boolean reduce) implements Instruction {
    public EngineKind engine() {
      return EngineKind.SCALAR;
    }

    public String mnemonic() {
      return reduce ? "activation_reduce" : "activation";
    }
  }

  /** {@code tensor_tensor}: element-wise {@code out = in0 op in1}. */
  record TensorTensor(EngineKind engine, TensorRef in0, TensorRef in1, TensorRef out, AluOp op) implements Instruction {
    public String mnemonic() {
      return "tensor_tensor";
    }
  }

  /**
   * {@code tensor_tensor_scan}: a first-order recurrence along the free dimension, per partition:
   * {@code out[i] = (in0[i] op0 out[i-1]) op1 in1[i]}, with {@code out[-1]} the per-partition
   * {@code initial} value ({@code [P x 1]}) or the immediate 0 when {@code initial} is null. The
   * running value stays inside the engine, so the whole scan is one instruction.
   */
  record TensorTensorScan(EngineKind engine, TensorRef in0, TensorRef in1, TensorRef initial, TensorRef out,
      AluOp op0, AluOp op1) implements Instruction {
    public String mnemonic() {
      return "tensor_tensor_scan";
    }
  }

  /** {@code tensor_scalar}: {@code out = in op scalar} (a per-partition or immediate scalar). */
  record TensorScalar(EngineKind engine, TensorRef in, TensorRef out, AluOp op) implements Instruction {
    public String mnemonic() {
      return "tensor_scalar";
    }
  }

  /** {@code tensor_reduce}: reduce {@code in} along the free dimension into {@code out} ([P, 1]). */
  record TensorReduce(EngineKind engine, TensorRef in, TensorRef out, AluOp op) implements Instruction {
    public String mnemonic() {
      return "tensor_reduce";
    }
  }

  /** {@code tensor_copy}: copy with dtype conversion (e.g. evacuating PSUM to SBUF). */
  record TensorCopy(EngineKind engine, TensorRef in, TensorRef out) implements Instruction {
    public String mnemonic() {
      return "tensor_copy";
    }
  }

  /** {@code memset}: fill a tile with a constant. */
  record Memset(EngineKind engine, TensorRef out) implements Instruction {
    public String mnemonic() {
      return "memset";
    }
  }

  /** {@code iota}: fill a tile with an affine index pattern (GpSimd). */
  record Iota(TensorRef out) implements Instruction {
    public EngineKind engine() {
      return EngineKind.GPSIMD;
    }

    public String mnemonic() {
      return "iota";
    }
  }

  /**
   * {@code dma_copy} between HBM, SBUF and PSUM. The access pattern is {@code partitions x bytes per
   * partition}; both sides must move the same number of bytes.
   */
  record DmaCopy(TensorRef src, TensorRef dst) implements Instruction {
    public EngineKind engine() {
      return EngineKind.DMA;
    }

    public String mnemonic() {
      return "dma_copy";
    }

    public long bytes() {
      return src.bytes();
    }
  }

  /** Increments semaphore {@code semaphore} of the core when this engine reaches it. */
  record SemSignal(EngineKind engine, int semaphore) implements Instruction {
    public String mnemonic() {
      return "sem_signal";
    }
  }

  /** Blocks the engine until semaphore {@code semaphore} reaches at least {@code value}. */
  record SemWait(EngineKind engine, int semaphore, int value) implements Instruction {
    public String mnemonic() {
      return "sem_wait";
    }
  }

  /** Blocks the engine until {@code participants} engines of the core have reached barrier {@code id}. */
  record Barrier(EngineKind engine, int id, int participants) implements Instruction {
    public String mnemonic() {
      return "barrier";
    }
  }

  /**
   * A collective over {@code ranks} chips moving {@code bytes} per rank. A placeholder inside a
   * single-core program: its time is supplied by the multi-chip model.
   */
  record Collective(CollectiveOp op, long bytes, int ranks) implements Instruction {
    public EngineKind engine() {
      return EngineKind.SYNC;
    }

    public String mnemonic() {
      return op.name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
