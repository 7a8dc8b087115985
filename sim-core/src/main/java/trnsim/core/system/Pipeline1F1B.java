package trnsim.core.system;

/**
 * The 1F1B (one forward, one backward) pipeline schedule of PipeDream-Flush / Megatron-LM, computed
 * from its dependencies rather than from a formula: stage {@code s} runs {@code min(p - s - 1, m)}
 * warm-up forwards, then alternates one forward and one backward, then drains its backwards. A
 * forward of microbatch {@code i} on stage {@code s} waits for stage {@code s - 1}'s forward of
 * {@code i} plus the activation transfer; a backward waits for stage {@code s + 1}'s backward plus
 * the gradient transfer (the last stage's backward follows its own forward).
 *
 * <p>For balanced stages and free transfers the result is the textbook {@code (m + p - 1)(tF + tB)},
 * i.e. a bubble fraction {@code (p - 1) / (m + p - 1)}; the tests check that this schedule
 * reproduces it.
 */
public final class Pipeline1F1B {
  private Pipeline1F1B() {}

  /**
   * @param seconds time from the first forward to the last backward
   * @param busySeconds per-stage busy time (its forwards and backwards)
   */
  public record Schedule(double seconds, double[] busySeconds) {
    /** Idle share of the busiest stage's timeline. */
    public double bubbleFraction() {
      double maxBusy = 0;
      for (double b : busySeconds) {
        maxBusy = Math.max(maxBusy, b);
      }
      return seconds > 0 ? 1 - maxBusy / seconds : 0;
    }
  }

  /**
   * @param fwd forward time of one microbatch per stage
   * @param bwd backward time of one microbatch per stage
   * @param m microbatches
   * @param transfer time to send one microbatch's activations (or gradients) to the next stage
   */
  public static Schedule run(double[] fwd, double[] bwd, int m, double transfer) {
    double[] each = new double[Math.max(0, fwd.length - 1)];
    java.util.Arrays.fill(each, transfer);
    return run(fwd, bwd, m, each);
  }

  /**
   * As {@link #run(double[], double[], int, double)} with a transfer time per stage boundary:
   * {@code transfers[s]} between stage {@code s} and {@code s + 1}, both directions (a pipeline
   * whose stages sit on different chips and links).
   */
  public static Schedule run(double[] fwd, double[] bwd, int m, double[] transfers) {
    int p = fwd.length;
    if (transfers.length != Math.max(0, p - 1)) {
      throw new IllegalArgumentException("need one transfer time per stage boundary");
    }
    if (bwd.length != p || p == 0 || m <= 0) {
      throw new IllegalArgumentException("need one forward and backward time per stage and m >= 1");
    }
    double[][] fEnd = new double[p][m];
    double[][] bEnd = new double[p][m];
    for (double[] r : fEnd) {
      java.util.Arrays.fill(r, Double.NaN);
    }
    for (double[] r : bEnd) {
      java.util.Arrays.fill(r, Double.NaN);
    }
    // Each stage's op sequence: +i+1 = forward of i, -(i+1) = backward of i.
    int[][] seq = new int[p][];
    for (int s = 0; s < p; s++) {
      int warm = Math.min(p - s - 1, m);
      int[] ops = new int[2 * m];
      int k = 0;
      int nf = 0;
      int nb = 0;
      for (; nf < warm; nf++) {
        ops[k++] = nf + 1;
      }
      while (nf < m) {
        ops[k++] = ++nf;
        ops[k++] = -(++nb);
      }
      while (nb < m) {
        ops[k++] = -(++nb);
      }
      seq[s] = ops;
    }
    int[] next = new int[p];
    double[] free = new double[p];
    double[] busy = new double[p];
    int remaining = 2 * m * p;
    while (remaining > 0) {
      boolean progress = false;
      for (int s = 0; s < p; s++) {
        while (next[s] < seq[s].length) {
          int op = seq[s][next[s]];
          double ready;
          if (op > 0) {
            int i = op - 1;
            ready = s == 0 ? 0 : fEnd[s - 1][i] + transfers[s - 1];
            if (Double.isNaN(ready)) {
              break;
            }
            fEnd[s][i] = Math.max(ready, free[s]) + fwd[s];
            free[s] = fEnd[s][i];
            busy[s] += fwd[s];
          } else {
            int i = -op - 1;
            ready = s == p - 1 ? fEnd[s][i] : bEnd[s + 1][i] + transfers[s];
            if (Double.isNaN(ready)) {
              break;
            }
            bEnd[s][i] = Math.max(ready, free[s]) + bwd[s];
            free[s] = bEnd[s][i];
            busy[s] += bwd[s];
          }
          next[s]++;
          remaining--;
          progress = true;
        }
      }
      if (!progress) {
        throw new IllegalStateException("1F1B schedule deadlocked");
      }
    }
    double end = 0;
    for (double f : free) {
      end = Math.max(end, f);
    }
    return new Schedule(end, busy);
  }
}
