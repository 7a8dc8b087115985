package trnsim.core.api;

/**
 * Energy of one simulated workload: joules and the average power over its simulated time. Both are
 * NaN (written as {@code null} in the result schema) when the chip's config has no energy table.
 */
public record Energy(double joules, double watts) {
  /** No energy model for this chip. */
  public static final Energy NONE = new Energy(Double.NaN, Double.NaN);
}
