package trnsim.core.hw;

import trnsim.core.config.TensorEngineSpec;
import trnsim.core.scalesim.SystolicDataflow;
import trnsim.core.scalesim.SystolicFolds;
import trnsim.isa.Instruction.MatMul;

/** How long one matmul instruction occupies the tensor engine, in engine cycles. Selected by {@code tensor.type}. */
public sealed interface TensorTiming permits TensorTiming.Trainium, TensorTiming.Systolic {
  long cycles(MatMul m, double dtypeRate);

  static TensorTiming of(TensorEngineSpec spec) {
    return spec.type().equals("systolic")
        ? new Systolic(spec.rows(), spec.cols(), SystolicDataflow.byName(spec.dataflow()))
        : new Trainium(spec.minMatmulCycles());
  }

  /**
   * The published NKI estimate for back-to-back matmuls (N-ISA-OLD): {@code max(min(64, M), N)}
   * cycles, the stationary load hidden behind the previous matmul ("background LoadStationary").
   * Packed types (fp8 double-row, MX) fit more K into the same cycles; fp32 takes 4x as long.
   */
  record Trainium(int minMatmulCycles) implements TensorTiming {
    @Override
    public long cycles(MatMul m, double rate) {
      long base = Math.max(Math.min(minMatmulCycles, m.m()), m.n());
      return (long) Math.ceil(base * Math.max(1.0, 1.0 / rate));
    }
  }

  /**
   * A classic R x C systolic array timed as SCALE-Sim v2 times it ({@link SystolicFolds}): every
   * fold of the operands onto the array fills and drains before the next, {@code 2R + C + T - 2}
   * cycles for weight and input stationary, {@code R + C + T - 2} for output stationary. One matmul
   * instruction is a GEMM in SCALE-Sim's terms with the moving operand as the ifmap (its free size N
   * is SCALE-Sim's M) and the stationary operand as the filter (its free size M is SCALE-Sim's N):
   * weight stationary holds the stationary operand, as the Trainium engine does.
   */
  record Systolic(int rows, int cols, SystolicDataflow dataflow) implements TensorTiming {
    @Override
    public long cycles(MatMul m, double rate) {
      return Math.multiplyExact(folds(m.n(), m.m(), m.k()).demandCycles(), (long) Math.ceil(Math.max(1.0, 1.0 / rate)));
    }

    /** The folds of an ifmap M x K times filter K x N product (SCALE-Sim's M, N, K). */
    public SystolicFolds folds(long m, long n, long k) {
      return SystolicFolds.of(rows, cols, dataflow, m, n, k);
    }
  }
}
