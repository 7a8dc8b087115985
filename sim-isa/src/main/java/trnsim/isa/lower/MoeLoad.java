package trnsim.isa.lower;

import java.util.Locale;

/**
 * How one MoE layer's token-expert pairs land on one rank of an expert-parallel group, in closed
 * form. The group's {@code groupTokens} tokens each pick {@code topK} of {@code experts} experts;
 * the rank holds {@code experts / ep} of them, so it receives {@code groupTokens x topK / ep} pairs
 * on average.
 *
 * <ul>
 *   <li>Dropless (no capacity factor, the default): the rank runs one GEMM per expert that received
 *       a token. With uniform routing an expert stays idle with probability
 *       {@code (1 - topK/experts)^groupTokens}, which matters in decode (few tokens: only the
 *       touched experts' weights stream). {@code imbalance >= 1} scales the busiest rank's pairs
 *       over the mean (1: uniform routing; the step waits for the busiest rank).
 *   <li>Capacity factor {@code c}: every expert's buffer holds {@code ceil(c x groupTokens x topK /
 *       experts)} tokens, padded when fewer arrive and dropping the rest (GShard/Switch; the static
 *       shapes a compiled graph needs): every local expert runs a GEMM of that many tokens.
 * </ul>
 *
 * @param localExperts experts on the rank
 * @param activeExperts experts on the rank that run a GEMM
 * @param tokensPerExpert tokens (rows) of each of those GEMMs
 * @param pairs token-expert pairs the rank computes (padding included)
 */
public record MoeLoad(long localExperts, long activeExperts, long tokensPerExpert, long pairs) {

  /** Routing options: the busiest rank's load over the mean, and the capacity factor (0: dropless). */
  public record Routing(double imbalance, double capacityFactor) {
    public static final Routing UNIFORM = new Routing(1.0, 0);

    public Routing {
      if (!(imbalance >= 1) || Double.isInfinite(imbalance)) {
        throw new IllegalArgumentException("imbalance must be a finite number >= 1 (1 = uniform routing)");
      }
      if (capacityFactor < 0 || Double.isInfinite(capacityFactor)) {
        throw new IllegalArgumentException("capacity factor must be positive (0 = dropless)");
      }
    }

    public String describe() {
      return String.format(Locale.ROOT, "imbalance %.2f, %s", imbalance,
          capacityFactor > 0 ? String.format(Locale.ROOT, "capacity factor %.2f (padded, overflow dropped)", capacityFactor) : "dropless");
    }
  }

  /** The load of one rank whose expert-parallel group of {@code ep} ranks routes {@code groupTokens} tokens. */
  public static MoeLoad of(ModelShape.Moe moe, long groupTokens, int ep, Routing r) {
    if (moe.experts() % ep != 0) {
      throw new IllegalArgumentException("ep must divide the " + moe.experts() + " experts");
    }
    long local = moe.experts() / ep;
    long totalPairs = groupTokens * moe.topK();
    if (r.capacityFactor() > 0) {
      long cap = Math.max(1, (long) Math.ceil(r.capacityFactor() * totalPairs / moe.experts()));
      return new MoeLoad(local, local, cap, cap * local);
    }
    double idle = Math.pow(1.0 - (double) moe.topK() / moe.experts(), groupTokens);
    long active = Math.max(1, Math.min(local, (long) Math.ceil(local * (1 - idle) - 1e-9)));
    // the busiest rank: imbalance x the mean, at most every group token on each of its experts it can pick
    long most = groupTokens * Math.min(moe.topK(), local);
    long pairs = Math.max(1, Math.min(most, (long) Math.ceil(r.imbalance() * totalPairs / ep - 1e-9)));
    long perExpert = Math.max(1, (pairs + active - 1) / active);
    return new MoeLoad(local, active, perExpert, perExpert * active);
  }
}
