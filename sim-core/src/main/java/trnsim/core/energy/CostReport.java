package trnsim.core.energy;

import trnsim.core.config.HardwareSpec;

/**
 * What a run costs to rent: {@code chips x seconds x price per chip-hour / 3600}. The price is the
 * config's {@code system.price_per_node_hour_usd} divided by its chips per node (sourced in each
 * hardware config; many are third-party scrapes or estimates, see the config comments). Immutable.
 *
 * @param chips chips rented for the run
 * @param seconds wall-clock (simulated) time they are held
 * @param pricePerChipHourUsd US dollars per chip-hour; NaN when the config has no price
 * @param costUsd the run's cost; NaN when unpriced
 */
public record CostReport(int chips, double seconds, double pricePerChipHourUsd, double costUsd) {
  public CostReport {
    if (chips < 1) {
      throw new IllegalArgumentException("chips must be >= 1: " + chips);
    }
    if (!(seconds >= 0) || Double.isInfinite(seconds)) {
      throw new IllegalArgumentException("time must be finite and >= 0: " + seconds);
    }
  }

  /** Cost of holding {@code chips} chips of {@code hw} for {@code seconds}. */
  public static CostReport of(HardwareSpec hw, int chips, double seconds) {
    double price = hw.system().pricePerChipHourUsd();
    return new CostReport(chips, seconds, price, chips * seconds * price / 3600.0);
  }

  /** Cost of the whole system of {@code hw} (all its chips) for {@code seconds}. */
  public static CostReport ofSystem(HardwareSpec hw, double seconds) {
    return of(hw, hw.totalChips(), seconds);
  }

  public boolean priced() {
    return !Double.isNaN(pricePerChipHourUsd);
  }

  /** Dollars per hour for the chips rented. */
  public double usdPerHour() {
    return chips * pricePerChipHourUsd;
  }

  /** Dollars per million tokens, if this run processed {@code tokens} tokens. */
  public double usdPerMillionTokens(double tokens) {
    if (!(tokens > 0)) {
      throw new IllegalArgumentException("tokens must be positive: " + tokens);
    }
    return costUsd / tokens * 1e6;
  }

  /** Dollars per training step, if this run covered {@code steps} steps. */
  public double usdPerStep(double steps) {
    if (!(steps > 0)) {
      throw new IllegalArgumentException("steps must be positive: " + steps);
    }
    return costUsd / steps;
  }

  /** Dollars for a training run of {@code steps} steps, if this run was one step. */
  public double usdForSteps(double steps) {
    if (!(steps >= 0)) {
      throw new IllegalArgumentException("steps must be >= 0: " + steps);
    }
    return costUsd * steps;
  }
}
