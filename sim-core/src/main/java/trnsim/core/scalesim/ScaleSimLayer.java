package trnsim.core.scalesim;

/**
 * One row of a SCALE-Sim topology file, as a convolution (a GEMM row {@code name, M, N, K} is the
 * convolution SCALE-Sim makes of it: an M x K ifmap, a 1 x K filter, one channel, N filters,
 * stride 1). Output size as SCALE-Sim computes it: {@code ceil((H - Fh + S) / S)}, no padding.
 */
public record ScaleSimLayer(String name, int ifmapHeight, int ifmapWidth, int filterHeight, int filterWidth,
    int channels, int filters, int strideHeight, int strideWidth) {

  public static ScaleSimLayer gemm(String name, int m, int n, int k) {
    return new ScaleSimLayer(name, m, k, 1, k, 1, n, 1, 1);
  }

  public long ofmapHeight() {
    return SystolicFolds.ceilDiv(ifmapHeight - filterHeight + strideHeight, strideHeight);
  }

  public long ofmapWidth() {
    return SystolicFolds.ceilDiv(ifmapWidth - filterWidth + strideWidth, strideWidth);
  }

  /** GEMM M: output pixels (rows of the ifmap operand matrix). */
  public long m() {
    return ofmapHeight() * ofmapWidth();
  }

  /** GEMM N: filters. */
  public long n() {
    return filters;
  }

  /** GEMM K: the convolution window. */
  public long k() {
    return (long) filterHeight * filterWidth * channels;
  }

  public long macs() {
    return m() * n() * k();
  }

  /** Distinct ifmap words (each read from DRAM at least once). */
  public long ifmapWords() {
    return (long) ifmapHeight * ifmapWidth * channels;
  }

  public long filterWords() {
    return k() * n();
  }

  public long ofmapWords() {
    return m() * n();
  }
}
