package trnsim.core.api;

/**
 * The operating point a workload ran at: the tensor clock actually run (lowered by the chip's power
 * limit when {@code powerLimited}), the config's maximum, the limit, and the price per chip-hour.
 * A number the config does not give (no power block, no price) is NaN.
 */
public record OperatingPoint(double clockGhz, double maxClockGhz, boolean powerLimited, double powerLimitW,
    double pricePerChipHourUsd) {

  /** The tensor clock as a fraction of the maximum; NaN when the maximum is unknown. */
  public double clockFraction() {
    return maxClockGhz > 0 ? clockGhz / maxClockGhz : Double.NaN;
  }

  /** Rental cost of the one chip a run uses for {@code seconds}; NaN when unpriced. */
  public double costUsd(double seconds) {
    return seconds * pricePerChipHourUsd / 3600.0;
  }
}
