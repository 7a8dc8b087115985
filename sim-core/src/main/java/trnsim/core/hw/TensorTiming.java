package trnsim.core.hw;

import trnsim.core.config.TensorEngineSpec;
import trnsim.isa.Instruction.MatMul;

/** How long one matmul instruction occupies the tensor engine, in engine cycles. Selected by {@code tensor.type}. */
public sealed interface TensorTiming permits TensorTiming.Trainium, TensorTiming.Systolic {
  long cycles(MatMul m, double dtypeRate);

  static TensorTiming of(TensorEngineSpec spec) {
    return spec.type().equals("systolic")
        ? new Systolic(spec.rows(), spec.cols(), spec.dataflow())
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
   * A classic R x C systolic array (SCALE-Sim's analytical model): every fold of the operands onto
   * the array fills and drains before the next, costing {@code 2R + C + T - 2} cycles, where T is
   * the dimension streamed through time. Weight stationary maps K x M onto the array and streams N;
   * output stationary maps M x N and streams K; input stationary maps K x N and streams M.
   */
  record Systolic(int rows, int cols, String dataflow) implements TensorTiming {
    @Override
    public long cycles(MatMul m, double rate) {
      return Math.multiplyExact(foldCycles(m.k(), m.m(), m.n()), (long) Math.ceil(Math.max(1.0, 1.0 / rate)));
    }

    /** Cycles for an M x K x N product on this array (whole GEMM or one instruction). */
    public long foldCycles(long k, long mm, long n) {
      long spatialRows;
      long spatialCols;
      long temporal;
      switch (dataflow) {
        case "output_stationary" -> {
          spatialRows = mm;
          spatialCols = n;
          temporal = k;
        }
        case "input_stationary" -> {
          spatialRows = k;
          spatialCols = n;
          temporal = mm;
        }
        default -> {
          spatialRows = k;
          spatialCols = mm;
          temporal = n;
        }
      }
      long folds = ceilDiv(spatialRows, rows) * ceilDiv(spatialCols, cols);
      return folds * (2L * rows + cols + temporal - 2);
    }

    private static long ceilDiv(long a, long b) {
      return (a + b - 1) / b;
    }
  }
}
