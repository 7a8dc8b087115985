package trnsim.isa.lower;

import trnsim.isa.DType;
import trnsim.isa.workload.WorkloadException;

/**
 * {@code C[M,N] = A[M,K] x B[K,N]}. {@code transposeA} means A is stored K-major ([K,M], the
 * tensor engine's stationary layout); {@code transposeB} means B is stored [N,K].
 */
public record GemmSpec(long m, long k, long n, DType dtype, boolean transposeA, boolean transposeB) {
  public GemmSpec {
    for (var e : new long[][] {{m, 'm'}, {k, 'k'}, {n, 'n'}}) {
      if (e[0] <= 0) {
        throw new WorkloadException("gemm", String.valueOf((char) e[1]), String.valueOf(e[0]), "must be a positive integer");
      }
    }
  }

  public long flops() {
    return 2 * m * k * n;
  }

  public DType outDtype() {
    return dtype == DType.FP32 || dtype == DType.TF32 ? DType.FP32 : DType.BF16;
  }
}
