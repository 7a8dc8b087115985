package trnsim.core.hw;

import trnsim.core.config.CoreSpec;
import trnsim.core.config.EngineSpec;
import trnsim.core.config.TensorEngineSpec;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.ProgramException;
import trnsim.isa.TensorRef;

/**
 * Per-generation instruction costs in engine cycles, from the published NKI formulas
 * (trainium-facts 2.8): SIMD engines take {@code start + max(MIN_II, N / rate)} where the rate
 * depends on one- or two-input form and 16- or 32-bit data; matmuls use the selected
 * {@link TensorTiming}. Also checks that operands fit the hardware (partitions, PE array, PSUM bank).
 */
public final class CostModel {
  private final CoreSpec core;
  private final TensorTiming tensorTiming;
  /** {@link #tensorRate} by dtype ordinal, looked up once here instead of per matmul; NaN = unsupported. */
  private final double[] rateByDtype = new double[DType.values().length];

  public CostModel(CoreSpec core) {
    this.core = core;
    this.tensorTiming = TensorTiming.of(core.tensor());
    for (DType d : DType.values()) {
      Double r = core.tensor().dtypeRates().get(d.rateKey());
      rateByDtype[d.ordinal()] = r == null ? Double.NaN : r;
    }
  }

  public TensorTiming tensorTiming() {
    return tensorTiming;
  }

  public EngineSpec simd(EngineKind kind) {
    return switch (kind) {
      case VECTOR -> core.vector();
      case SCALAR -> core.scalar();
      case GPSIMD -> core.gpsimd();
      default -> throw new IllegalArgumentException(kind + " is not a SIMD engine");
    };
  }

  /** Tensor-engine throughput multiplier of {@code d}, or a clear error if the engine lacks it. */
  public double tensorRate(DType d) {
    double r = rateByDtype[d.ordinal()];
    if (Double.isNaN(r)) {
      throw new ProgramException("the tensor engine does not support " + d.label() + " (supported: "
          + String.join(", ", core.tensor().dtypeRates().keySet()) + ")");
    }
    return r;
  }

  /** Occupancy of {@code ins} on its engine, in that engine's cycles. */
  public long cycles(Instruction ins) {
    if (ins instanceof Instruction.MatMul m) {
      return matmul(m);
    }
    if (ins instanceof Instruction.Transpose t) {
      return t.engine() == EngineKind.TENSOR
          ? Math.max(t.in().partitions(), Math.min(64, t.in().free()))
          : simd(t.engine(), t.in().free(), false, t.in().dtype().isNarrow(), 0, t.in());
    }
    if (ins instanceof Instruction.Activation a) {
      return simd(EngineKind.SCALAR, a.in().free(), false, a.in().dtype().isNarrow() && a.out().dtype().isNarrow(),
          a.reduce() ? core.scalar().minIiCycles() : 0, a.in(), a.out());
    }
    if (ins instanceof Instruction.TensorTensor t) {
      // N-ISA-OLD: max(MIN_II, N) when one input is in PSUM and the other in SBUF (each streams on its
      // own port), else the two-input rate (2N; NC-v3 perf mode for all-16-bit SBUF inputs).
      boolean psumAndSbuf = (t.in0().space() == MemSpace.PSUM) != (t.in1().space() == MemSpace.PSUM);
      return psumAndSbuf
          ? simd(t.engine(), t.in0().free(), false, false, 0, t.in0(), t.in1(), t.out())
          : simd(t.engine(), t.in0().free(), true, t.in0().dtype().isNarrow() && t.in1().dtype().isNarrow(), 0,
              t.in0(), t.in1(), t.out());
    }
    if (ins instanceof Instruction.TensorTensorScan t) {
      // N-ISA-OLD: max(MIN_II, 2N) for every dtype (no perf mode is published for the scan).
      if (t.engine() != EngineKind.VECTOR) {
        throw new ProgramException("tensor_tensor_scan runs on the vector engine, not " + t.engine().label());
      }
      if (t.in0().free() != t.in1().free() || t.in0().free() != t.out().free()
          || t.in0().partitions() != t.in1().partitions() || t.in0().partitions() != t.out().partitions()) {
        throw new ProgramException("tensor_tensor_scan: inputs and output must have the same shape: " + t.in0() + ", "
            + t.in1() + " -> " + t.out());
      }
      if (t.initial() != null && (t.initial().free() != 1 || t.initial().partitions() != t.in0().partitions())) {
        throw new ProgramException("tensor_tensor_scan: the initial value must be one element per partition ["
            + t.in0().partitions() + " x 1], not " + t.initial());
      }
      return t.initial() == null
          ? simd(EngineKind.VECTOR, t.in0().free(), true, false, 0, t.in0(), t.in1(), t.out())
          : simd(EngineKind.VECTOR, t.in0().free(), true, false, 0, t.in0(), t.in1(), t.out(), t.initial());
    }
    if (ins instanceof Instruction.TensorScalar t) {
      return simd(t.engine(), t.in().free(), false, t.in().dtype().isNarrow() && t.out().dtype().isNarrow(), 0, t.in(), t.out());
    }
    if (ins instanceof Instruction.TensorReduce t) {
      return simd(t.engine(), t.in().free(), false, t.in().dtype().isNarrow(), 0, t.in(), t.out());
    }
    if (ins instanceof Instruction.TensorCopy t) {
      return simd(t.engine(), t.in().free(), false, t.in().dtype().isNarrow() && t.out().dtype().isNarrow(), 0, t.in(), t.out());
    }
    if (ins instanceof Instruction.Memset m) {
      return simd(m.engine(), m.out().free(), false, m.out().dtype().isNarrow(), 0, m.out());
    }
    if (ins instanceof Instruction.Iota i) {
      return simd(EngineKind.GPSIMD, i.out().free(), false, true, 0, i.out());
    }
    if (ins instanceof Instruction.SemSignal || ins instanceof Instruction.SemWait || ins instanceof Instruction.Barrier) {
      return 1;
    }
    throw new IllegalArgumentException(ins.mnemonic() + " has no engine-cycle cost");
  }

  private long matmul(Instruction.MatMul m) {
    TensorEngineSpec t = core.tensor();
    double rate = tensorRate(m.stationary().dtype());
    if (m.moving().dtype() == m.stationary().dtype() || m.moving().dtype().rateKey().equals(m.stationary().dtype().rateKey())) {
      // same class, fine
    } else {
      rate = Math.min(rate, tensorRate(m.moving().dtype()));
    }
    int kMax = (int) Math.round(t.rows() * Math.max(1.0, rate));
    if (m.stationary().partitions() != m.moving().partitions()) {
      throw new ProgramException("nc_matmul: stationary and moving must have the same partition (K) size: "
          + m.stationary() + " vs " + m.moving());
    }
    if (m.k() > kMax) {
      throw new ProgramException("nc_matmul: K = " + m.k() + " exceeds the " + kMax + " rows the tensor engine takes for "
          + m.stationary().dtype().label());
    }
    if (m.m() > t.cols()) {
      throw new ProgramException("nc_matmul: stationary free size " + m.m() + " exceeds the " + t.cols() + " PE columns");
    }
    if (m.n() > t.maxMovingFree()) {
      throw new ProgramException("nc_matmul: moving free size " + m.n() + " exceeds " + t.maxMovingFree());
    }
    if (m.out().space() != MemSpace.PSUM) {
      throw new ProgramException("nc_matmul: the result must go to PSUM, not " + m.out().space());
    }
    if (m.stationary().space() != MemSpace.SBUF || m.moving().space() != MemSpace.SBUF) {
      throw new ProgramException("nc_matmul: operands must be in SBUF");
    }
    return tensorTiming.cycles(m, rate);
  }

  /**
   * {@code start + max(MIN_II, N / rate) + extra} cycles, after checking every operand: at most one
   * partition per lane, on chip (never HBM), GpSimd not in PSUM, and the free size within the
   * engine's per-space limit (NC-v2: 64K elements in SBUF, 4K in PSUM).
   */
  private long simd(EngineKind kind, long n, boolean twoInputs, boolean narrow, long extra, TensorRef... operands) {
    EngineSpec e = simd(kind);
    for (TensorRef operand : operands) {
      check(kind, e, operand);
    }
    double rate = twoInputs ? (narrow ? e.binary16Rate() : e.binary32Rate()) : (narrow ? e.unary16Rate() : e.unary32Rate());
    long work = (long) Math.ceil(n / rate);
    return e.startCycles() + Math.max(e.minIiCycles(), work) + extra;
  }

  private static void check(EngineKind kind, EngineSpec e, TensorRef operand) {
    if (operand.partitions() > e.lanes()) {
      throw new ProgramException(kind.label() + ": " + operand.partitions() + " partitions exceed the engine's "
          + e.lanes() + " lanes");
    }
    if (operand.space() == MemSpace.HBM) {
      throw new ProgramException(kind.label() + ": compute engines cannot read HBM; DMA the tile into SBUF first");
    }
    if (kind == EngineKind.GPSIMD && operand.space() == MemSpace.PSUM) {
      throw new ProgramException("gpsimd: GpSimd cannot access PSUM");
    }
    long limit = operand.space() == MemSpace.PSUM ? e.maxPsumFreeElements() : e.maxSbufFreeElements();
    if (operand.free() > limit) {
      throw new ProgramException(kind.label() + ": operand " + operand + " has " + operand.free()
          + " elements per partition; the engine reads at most " + limit + " from " + operand.space());
    }
  }
}
