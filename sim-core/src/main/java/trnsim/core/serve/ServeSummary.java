package trnsim.core.serve;

/**
 * The figures a serving run is judged by.
 *
 * @param requests requests served
 * @param spanS first arrival to last completion
 * @param ttftS time to first token p50, p90, p99
 * @param tpotS time per output token after the first, p50, p90, p99 (requests with 2+ output tokens)
 * @param latencyS arrival to last token, p50, p90, p99
 * @param outputTokensPerS generated tokens over the span
 * @param requestsPerS completed requests over the span
 * @param goodputPerS requests meeting both SLOs over the span
 * @param sloMet share of requests meeting both SLOs
 * @param meanKvOccupancy mean share of the KV cache in use
 * @param maxKvOccupancy largest share in use on one replica
 * @param meanBatch time-weighted mean of sequences per iteration
 * @param costPerMillionTokensUsd the serving chips' price over the span, per million generated tokens (NaN without a price)
 * @param costPerMillionGoodTokensUsd the same price per million tokens generated for requests meeting both SLOs (the cost at the SLOs;
 *     infinite when none meets them)
 * @param joulesPerToken iteration energy plus idle static energy of the replicas over the span, per generated token (NaN without an energy table)
 */
public record ServeSummary(int requests, double spanS, double[] ttftS, double[] tpotS, double[] latencyS, double outputTokensPerS,
    double requestsPerS, double goodputPerS, double sloMet, double meanKvOccupancy, double maxKvOccupancy, double meanBatch,
    double costPerMillionTokensUsd, double costPerMillionGoodTokensUsd, double joulesPerToken) {

  /** Percentiles reported for each latency. */
  public static final double[] PERCENTILES = {50, 90, 99};

  /**
   * @param sloTtftS TTFT objective (infinite: none)
   * @param sloTpotS TPOT objective (infinite: none)
   * @param usdPerHour price per hour of the chips serving (NaN: unknown)
   * @param idleWPerReplica static power of one replica's chips when idle (NaN: unknown)
   */
  public static ServeSummary of(ServeResult r, double sloTtftS, double sloTpotS, double usdPerHour, double idleWPerReplica) {
    int n = r.requests().size();
    double[] ttft = new double[n];
    double[] tpot = new double[n];
    double[] lat = new double[n];
    int good = 0;
    long goodTokens = 0;
    for (int i = 0; i < n; i++) {
      var o = r.requests().get(i);
      ttft[i] = o.ttftS();
      tpot[i] = o.tpotS();
      lat[i] = o.latencyS();
      if (o.ttftS() <= sloTtftS && (Double.isNaN(o.tpotS()) || o.tpotS() <= sloTpotS)) {
        good++;
        goodTokens += o.request().outputTokens();
      }
    }
    double span = r.spanSeconds();
    double tokens = r.outputTokens();
    double idle = Math.max(0, span * r.replicas() - r.busySeconds());
    double joules = r.iterationJoules() + idle * idleWPerReplica;
    double usd = usdPerHour * span / 3600;
    return new ServeSummary(n, span, pct(ttft), pct(tpot), pct(lat), tokens / span, n / span, good / span, (double) good / n,
        r.meanKvOccupancy(), r.maxKvOccupancy(), r.meanBatch(), usd / tokens * 1e6, usd / goodTokens * 1e6, joules / tokens);
  }

  private static double[] pct(double[] v) {
    double[] out = new double[PERCENTILES.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = ServeResult.percentile(v, PERCENTILES[i]);
    }
    return out;
  }
}
