package trnsim.core.scalesim;

/**
 * A GEMM folded onto an R x C systolic array the way SCALE-Sim v2 folds it, in closed form.
 *
 * <p>SCALE-Sim builds, for every fold, a demand matrix with one row per cycle; its length is the
 * fold's cycles, and the folds run back to back with no overlap (each fills and drains). Counting
 * the rows of SCALE-Sim's construction (systolic_compute_{ws,os,is}.py) gives, with T the
 * temporal dimension:
 * <ul>
 *   <li>weight and input stationary: R cycles to load the stationary operand, T to stream, C - 1
 *       for the last partial sums to leave the array and R - 1 of skew: {@code 2R + C + T - 2};
 *   <li>output stationary: T to stream, C - 1 to drain and R - 1 of skew, no load phase:
 *       {@code R + C + T - 2}.
 * </ul>
 * Partial folds (edge tiles) are padded with idle PEs and cost a full fold. There are
 * {@code ceil(Sr / R) * ceil(Sc / C)} folds for spatial extents Sr x Sc.
 *
 * @param rows array rows R (SCALE-Sim's ArrayHeight)
 * @param cols array columns C (ArrayWidth)
 * @param dataflow what stays in the PEs
 * @param spatialRows Sr, the operand dimension laid along the rows
 * @param spatialCols Sc, the operand dimension laid along the columns
 * @param temporal T, the dimension streamed through time
 */
public record SystolicFolds(int rows, int cols, SystolicDataflow dataflow, long spatialRows, long spatialCols, long temporal) {
  public SystolicFolds {
    if (rows <= 0 || cols <= 0 || spatialRows <= 0 || spatialCols <= 0 || temporal <= 0) {
      throw new IllegalArgumentException("array and GEMM dimensions must be positive");
    }
  }

  /** The folds of an ifmap M x K times filter K x N product (SCALE-Sim's M, N, K). */
  public static SystolicFolds of(int rows, int cols, SystolicDataflow dataflow, long m, long n, long k) {
    return switch (dataflow) {
      case WEIGHT_STATIONARY -> new SystolicFolds(rows, cols, dataflow, k, n, m);
      case OUTPUT_STATIONARY -> new SystolicFolds(rows, cols, dataflow, m, n, k);
      case INPUT_STATIONARY -> new SystolicFolds(rows, cols, dataflow, k, m, n);
    };
  }

  public long rowFolds() {
    return ceilDiv(spatialRows, rows);
  }

  public long colFolds() {
    return ceilDiv(spatialCols, cols);
  }

  public long folds() {
    return rowFolds() * colFolds();
  }

  /** Cycles of one fold: the rows of SCALE-Sim's per-fold demand matrix. */
  public long cyclesPerFold() {
    long load = dataflow == SystolicDataflow.OUTPUT_STATIONARY ? 0 : rows;
    return load + rows + cols + temporal - 2;
  }

  /** Cycles of all folds back to back (the length of SCALE-Sim's demand matrices). */
  public long demandCycles() {
    return Math.multiplyExact(folds(), cyclesPerFold());
  }

  /**
   * SCALE-Sim's reported "Total Cycles" without stalls: the cycle index of the last output write,
   * which is one less than the number of demand rows (cycles count from 0).
   */
  public long totalCycles() {
    return demandCycles() - 1;
  }

  /** PE rows used in the last row fold (the edge tile); R when Sr divides evenly. */
  public long lastRowsUsed() {
    return spatialRows - (rowFolds() - 1) * rows;
  }

  public long lastColsUsed() {
    return spatialCols - (colFolds() - 1) * cols;
  }

  public long firstRowsUsed() {
    return Math.min(rows, spatialRows);
  }

  public long firstColsUsed() {
    return Math.min(cols, spatialCols);
  }

  /** Mean over folds of the fraction of PEs mapped: the used PEs sum to Sr * Sc over all folds. */
  public double mappingEfficiency() {
    return (double) spatialRows * spatialCols / ((double) rows * cols * folds());
  }

  /**
   * Mean over folds of MACs done / (PEs x fold cycles), with SCALE-Sim's per-fold cycle measure
   * (its demand-matrix height plus width minus one: {@code 2R + 2C + T - 3} for ws and is,
   * {@code R + C + T - 2} for os).
   */
  public double computeUtilization() {
    long measure = dataflow == SystolicDataflow.OUTPUT_STATIONARY
        ? cyclesPerFold()
        : cyclesPerFold() + cols - 1;
    return (double) spatialRows * spatialCols * temporal / ((double) rows * cols * measure * folds());
  }

  static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /** First and last cycle an operand's SRAM is touched, and how many words are moved. */
  public record SramAccess(long startCycle, long stopCycle, long words) {}

  /**
   * The ifmap SRAM reads. Read traces are stamped one cycle after the demand (SCALE-Sim's read
   * buffers hit in one cycle); the stop cycle is the last fold's last read, which for a padded edge
   * tile comes early by the idle rows.
   */
  public SramAccess ifmapSram() {
    long last = lastFoldStart();
    return switch (dataflow) {
      case WEIGHT_STATIONARY -> new SramAccess(rows + 1, last + lastRowsUsed() + rows + temporal - 1,
          colFolds() * temporal * spatialRows);
      case OUTPUT_STATIONARY -> new SramAccess(1, last + lastRowsUsed() + temporal - 1,
          colFolds() * temporal * spatialRows);
      case INPUT_STATIONARY -> new SramAccess(rows - firstRowsUsed() + 1, last + rows, spatialRows * spatialCols);
    };
  }

  /** The filter SRAM reads. */
  public SramAccess filterSram() {
    long last = lastFoldStart();
    return switch (dataflow) {
      case WEIGHT_STATIONARY -> new SramAccess(rows - firstRowsUsed() + 1, last + rows, spatialRows * spatialCols);
      case OUTPUT_STATIONARY -> new SramAccess(1, last + lastColsUsed() + temporal - 1,
          rowFolds() * temporal * spatialCols);
      case INPUT_STATIONARY -> new SramAccess(rows + 1, last + lastRowsUsed() + rows + temporal - 1,
          colFolds() * spatialRows * temporal);
    };
  }

  /**
   * The ofmap SRAM writes (stamped at the demand cycle). For output stationary SCALE-Sim also adds
   * R + C per fold to the write count (a quirk of its bookkeeping, kept so the counts match).
   */
  public SramAccess ofmapSram() {
    long last = lastFoldStart();
    return switch (dataflow) {
      case WEIGHT_STATIONARY -> new SramAccess(2L * rows - 1, last + lastColsUsed() + 2L * rows + temporal - 3,
          rowFolds() * temporal * spatialCols);
      case OUTPUT_STATIONARY -> new SramAccess(temporal - 1 + rows - firstRowsUsed(),
          last + temporal + rows + lastColsUsed() - 3, spatialRows * spatialCols + folds() * (rows + cols));
      case INPUT_STATIONARY -> new SramAccess(2L * rows - 1, last + lastColsUsed() + 2L * rows + temporal - 3,
          rowFolds() * spatialCols * temporal);
    };
  }

  private long lastFoldStart() {
    return (folds() - 1) * cyclesPerFold();
  }
}
