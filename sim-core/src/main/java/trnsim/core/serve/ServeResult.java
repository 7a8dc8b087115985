package trnsim.core.serve;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * What a serving run did: every request's timeline and the iterations' aggregates.
 *
 * @param requests outcomes in request order
 * @param iterations iterations run on all replicas
 * @param preemptions requests preempted (each time) for want of KV cache
 * @param busySeconds sum over replicas of time spent in iterations
 * @param iterationJoules energy of the iterations over all replicas (NaN when unknown)
 * @param kvTokenSeconds integral over time of KV tokens in use, summed over replicas
 * @param maxKvTokens most KV tokens in use on one replica at an iteration start
 * @param kvCapacityTokens KV-cache capacity of one replica (whole blocks)
 * @param sequenceSeconds integral over time of sequences in the running iteration, summed over replicas
 * @param batchHistogram iterations by sequences in them: bucket i holds 2^i .. 2^(i+1)-1
 * @param prefillTokens prompt tokens processed (recomputation included)
 * @param replicas replicas
 */
public record ServeResult(List<RequestOutcome> requests, long iterations, long preemptions, double busySeconds, double iterationJoules,
    double kvTokenSeconds, long maxKvTokens, long kvCapacityTokens, double sequenceSeconds, long[] batchHistogram, long prefillTokens,
    int replicas) {

  /** One request's timeline. */
  public record RequestOutcome(Request request, int replica, double firstTokenS, double finishS, int preemptions) {
    public double ttftS() {
      return firstTokenS - request.arrivalS();
    }

    /** Mean time per output token after the first; NaN for single-token outputs. */
    public double tpotS() {
      return request.outputTokens() < 2 ? Double.NaN : (finishS - firstTokenS) / (request.outputTokens() - 1);
    }

    public double latencyS() {
      return finishS - request.arrivalS();
    }
  }

  /** First arrival to last completion. */
  public double spanSeconds() {
    double first = Double.POSITIVE_INFINITY;
    double last = 0;
    for (RequestOutcome o : requests) {
      first = Math.min(first, o.request().arrivalS());
      last = Math.max(last, o.finishS());
    }
    return last - first;
  }

  public long outputTokens() {
    long t = 0;
    for (RequestOutcome o : requests) {
      t += o.request().outputTokens();
    }
    return t;
  }

  /** Time-weighted mean of sequences per iteration while replicas are busy. */
  public double meanBatch() {
    return busySeconds > 0 ? sequenceSeconds / busySeconds : 0;
  }

  /** Mean share of the KV cache in use over the run's span, all replicas. */
  public double meanKvOccupancy() {
    double span = spanSeconds();
    return span > 0 ? kvTokenSeconds / (span * replicas * kvCapacityTokens) : 0;
  }

  public double maxKvOccupancy() {
    return (double) maxKvTokens / kvCapacityTokens;
  }

  /**
   * The {@code p}-th percentile (0..100) by the nearest-rank method (the smallest value with at
   * least p% of the values at or below it); NaN values are skipped; NaN when none are left.
   */
  public static double percentile(double[] values, double p) {
    double[] v = Arrays.stream(values).filter(x -> !Double.isNaN(x)).sorted().toArray();
    if (v.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * v.length);
    return v[Math.max(0, Math.min(v.length - 1, rank - 1))];
  }

  /** Collects a run's outcomes as the simulation proceeds. */
  static final class Builder {
    private final List<RequestOutcome> outcomes;
    private final int replicas;
    private final long capacity;
    private long iterations;
    private long preemptions;
    private double busy;
    private double joules;
    private double kvSeconds;
    private long maxKv;
    private double seqSeconds;
    private final long[] histogram = new long[20];
    private long prefillTokens;

    Builder(int requests, int replicas, long capacity) {
      this.outcomes = new ArrayList<>(requests);
      this.replicas = replicas;
      this.capacity = capacity;
    }

    void iteration(int replica, Iteration it, double startS, IterationCosts.Cost c, long kvTokens, int running) {
      iterations++;
      busy += c.seconds();
      joules += c.joules();
      kvSeconds += kvTokens * c.seconds();
      maxKv = Math.max(maxKv, kvTokens);
      seqSeconds += it.sequences() * c.seconds();
      histogram[63 - Long.numberOfLeadingZeros(it.sequences())]++;
      for (Iteration.Chunk ch : it.chunks()) {
        prefillTokens += ch.tokens();
      }
    }

    void preemption() {
      preemptions++;
    }

    void request(RequestOutcome o) {
      outcomes.add(o);
    }

    ServeResult build() {
      outcomes.sort(Comparator.comparingInt(o -> o.request().id()));
      int last = histogram.length - 1;
      while (last > 0 && histogram[last] == 0) {
        last--;
      }
      return new ServeResult(List.copyOf(outcomes), iterations, preemptions, busy, joules, kvSeconds, maxKv, capacity, seqSeconds,
          Arrays.copyOf(histogram, last + 1), prefillTokens, replicas);
    }
  }
}
