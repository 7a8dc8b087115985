package trnsim.isa.lower;

/**
 * The choices a GEMM lowering makes, reported to the user.
 *
 * @param strategy {@code blocked} (operand blocks held in SBUF and reused) or {@code naive} (every
 *     128x512 output tile reloads its operand tiles, one at a time)
 * @param gridM cores along M
 * @param gridN cores along N
 * @param blockM rows of C per block (multiple of the PE columns)
 * @param blockN columns of C per block (multiple of the moving tile)
 * @param blockK contraction depth per block
 * @param mOuter loop order: M blocks outside (A blocks hoisted, B reloaded) or N blocks outside
 * @param buffers input buffers per operand: 2 = double-buffered (next block loads during compute)
 */
public record GemmTiling(String strategy, int gridM, int gridN, long blockM, long blockN, long blockK,
    boolean mOuter, int buffers) {
  public String describe() {
    return strategy + ": cores " + gridM + "x" + gridN + " (M x N), blocks m=" + blockM + " n=" + blockN + " k=" + blockK
        + ", " + (mOuter ? "A block hoisted across N (stationary = A^T)" : "B block hoisted across M (stationary = A^T)")
        + ", " + (buffers == 2 ? "double-buffered" : buffers > 2 ? buffers + "-stage pipelined" : "single-buffered");
  }
}
