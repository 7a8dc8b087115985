package trnsim.core.scalesim;

/**
 * What SCALE-Sim reports for one layer, computed in closed form from the folds (no per-cycle
 * trace): compute cycles and utilisation exactly as SCALE-Sim v2 computes them in CALC mode with
 * no stalls; SRAM windows and counts exactly as its traces give them; DRAM traffic estimated (see
 * {@link #ifmapDram}), because SCALE-Sim's DRAM figures come from its prefetch-set heuristic,
 * which trnsim does not reproduce.
 */
public record ScaleSimLayerStats(ScaleSimLayer layer, SystolicFolds folds, long ifmapSramWords, long filterSramWords) {

  public static ScaleSimLayerStats of(ScaleSimConfig cfg, ScaleSimLayer layer) {
    SystolicFolds f = SystolicFolds.of(cfg.rows(), cfg.cols(), cfg.dataflow(), layer.m(), layer.n(), layer.k());
    // Word size 1 byte (SCALE-Sim's fixed word size); the active half of each double buffer holds data.
    return new ScaleSimLayerStats(layer, f, cfg.ifmapSramKb() * 1024 / 2, cfg.filterSramKb() * 1024 / 2);
  }

  public long totalCycles() {
    return folds.totalCycles();
  }

  /** Stall-free mode: the operands are assumed to arrive in time, so no stall cycles. */
  public long stallCycles() {
    return 0;
  }

  /** MACs / (cycles x PEs), in percent. */
  public double overallUtilPercent() {
    return layer.macs() * 100.0 / ((double) totalCycles() * folds.rows() * folds.cols());
  }

  public double mappingEfficiencyPercent() {
    return folds.mappingEfficiency() * 100;
  }

  public double computeUtilPercent() {
    return folds.computeUtilization() * 100;
  }

  /**
   * Estimated ifmap DRAM reads: every distinct word once if the ifmap fits the active half of its
   * SRAM, else once per pass the dataflow makes over it (one per column fold for ws and os; is
   * holds it stationary, one pass). Reads start at cycle 0 (prefetch) and end with the SRAM reads.
   */
  public SystolicFolds.SramAccess ifmapDram() {
    long passes = layer.ifmapWords() <= ifmapSramWords || folds.dataflow() == SystolicDataflow.INPUT_STATIONARY
        ? 1 : folds.colFolds();
    return new SystolicFolds.SramAccess(0, folds.ifmapSram().stopCycle(), layer.ifmapWords() * passes);
  }

  /** Estimated filter DRAM reads: as {@link #ifmapDram}; os re-streams per row fold, is per column fold. */
  public SystolicFolds.SramAccess filterDram() {
    long passes = switch (folds.dataflow()) {
      case WEIGHT_STATIONARY -> 1;
      case OUTPUT_STATIONARY -> folds.rowFolds();
      case INPUT_STATIONARY -> folds.colFolds();
    };
    long words = layer.filterWords() * (layer.filterWords() <= filterSramWords ? 1 : passes);
    return new SystolicFolds.SramAccess(0, folds.filterSram().stopCycle(), words);
  }

  /** Every output word written to DRAM once, over the ofmap SRAM write window. */
  public SystolicFolds.SramAccess ofmapDram() {
    SystolicFolds.SramAccess sram = folds.ofmapSram();
    return new SystolicFolds.SramAccess(sram.startCycle(), sram.stopCycle(), layer.ofmapWords());
  }

  /** Words per cycle over the whole layer (SCALE-Sim's average SRAM bandwidth). */
  public static double perCycle(long words, long cycles) {
    return (double) words / cycles;
  }

  /** Words per cycle over an access window (SCALE-Sim's average DRAM bandwidth). */
  public static double overWindow(SystolicFolds.SramAccess a) {
    return (double) a.words() / (a.stopCycle() - a.startCycle() + 1);
  }
}
