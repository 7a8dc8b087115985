package trnsim.core.system;

/**
 * The data-parallel gradient reduction, optionally overlapped with the backward pass as bucketed
 * data-parallel wrappers do (PyTorch DDP, Megatron-LM's {@code --overlap-grad-reduce}): gradients
 * fill buckets in reverse layer order during the last microbatch's backward; a bucket's reduction
 * starts once it is full and the previous bucket's reduction is done (one collective at a time, in
 * order). Buckets fill evenly over that backward (layers are identical). What is exposed is the
 * part of the reductions that ends after the backward.
 *
 * <p>Invariants (tested): the exposed time is at least the reductions' total minus the backward
 * (the link is a resource the step cannot beat) and at most the reductions' total (overlap never
 * makes the step slower than running the same buckets after the backward), and never negative.
 */
final class GradientSync {
  private GradientSync() {}

  /**
   * Exposed seconds of {@code buckets} reductions, each taking {@code bucketSeconds[i]}, overlapped
   * with a backward pass of {@code backwardSeconds}; bucket {@code i} is ready at {@code (i + 1) / n}
   * of it.
   */
  static double exposed(double backwardSeconds, double[] bucketSeconds) {
    int n = bucketSeconds.length;
    double free = 0;
    for (int i = 0; i < n; i++) {
      double ready = backwardSeconds * (i + 1) / n;
      free = Math.max(free, ready) + bucketSeconds[i];
    }
    return Math.max(0, free - backwardSeconds);
  }
}
