package trnsim.core.api;

/**
 * The operating point a workload ran at: the tensor clock actually run (lowered by the chip's power
 * limit when {@code powerLimited}), the config's maximum, the limit, the price per chip-hour, and
 * how many simulations the power limiter ran to choose the clock (0 when it did not run). A number
 * the config does not give (no power block, no price) is NaN.
 */
public record OperatingPoint(double clockGhz, double maxClockGhz, boolean powerLimited, double powerLimitW,
    double pricePerChipHourUsd, int limiterSimulations) {

  /** An operating point the power limiter did not choose. */
  public OperatingPoint(double clockGhz, double maxClockGhz, boolean powerLimited, double powerLimitW,
      double pricePerChipHourUsd) {
    this(clockGhz, maxClockGhz, powerLimited, powerLimitW, pricePerChipHourUsd, 0);
  }

  /** The tensor clock as a fraction of the maximum; NaN when the maximum is unknown. */
  public double clockFraction() {
    return maxClockGhz > 0 ? clockGhz / maxClockGhz : Double.NaN;
  }

  /** Rental cost of the one chip a run uses for {@code seconds}; NaN when unpriced. */
  public double costUsd(double seconds) {
    return seconds * pricePerChipHourUsd / 3600.0;
  }
}
