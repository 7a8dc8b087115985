package trnsim.isa.lower;

import trnsim.isa.DType;
import trnsim.isa.workload.WorkloadException;

/**
 * Scaled dot-product attention of {@code b} sequences, {@code h} query heads sharing {@code kvHeads}
 * key/value heads (grouped-query attention when fewer), {@code s} queries against {@code sKv} keys
 * of head width {@code d}. Causal masking is top-left aligned and needs {@code s == sKv}.
 */
public record AttentionSpec(long b, long h, long s, long sKv, long d, long kvHeads, boolean causal, DType dtype) {
  public AttentionSpec {
    if (b <= 0 || h <= 0 || s <= 0 || sKv <= 0 || d <= 0 || kvHeads <= 0) {
      throw new WorkloadException("attention", "shape", b + "/" + h + "/" + s + "/" + sKv + "/" + d + "/" + kvHeads,
          "all sizes must be positive");
    }
    if (h % kvHeads != 0) {
      throw new WorkloadException("attention", "attention.kv_heads", String.valueOf(kvHeads),
          "must divide the " + h + " query heads");
    }
    if (causal && s != sKv) {
      throw new WorkloadException("attention", "attention.s_kv", String.valueOf(sKv),
          "causal attention needs s_kv == s (" + s + ")");
    }
  }

  /**
   * Causal attention within a sliding window of {@code window} keys (each query attends the last
   * {@code window} positions, itself included: Mistral, gpt-oss's windowed layers), as the work a
   * block-sparse kernel does: the sequence in {@code n = ceil(s / window)} equal chunks of queries,
   * each against the same number of keys, chosen so that the query-key pairs equal the window's exact
   * count {@code s W - W (W - 1) / 2} (to rounding). Q and O are read and written once; K and V are
   * charged once per chunk's keys where a kernel reads the previous chunk's tail as well. Unchanged
   * when the window covers the sequence.
   */
  public AttentionSpec windowed(long window) {
    if (!causal || window <= 0 || window >= s) {
      return this;
    }
    long chunks = (s + window - 1) / window;
    long queries = (s + chunks - 1) / chunks;
    double pairs = (double) s * window - window * (window - 1) / 2.0;
    long keys = Math.max(1, Math.round(pairs / (chunks * queries)));
    return new AttentionSpec(b * chunks, h, queries, keys, d, kvHeads, false, dtype);
  }

  /** Query heads per key/value head. */
  public long group() {
    return h / kvHeads;
  }

  /**
   * Useful forward FLOPs: two matmuls (QK^T and PV) of 2*S*S_kv*D each per head; causal counts the
   * lower triangle with its diagonal, S*(S+1)/2 query-key pairs.
   */
  public long forwardFlops() {
    long pairs = causal ? s * (s + 1) / 2 : s * sKv;
    return 4L * b * h * d * pairs;
  }

  /** Backward: five matmul groups (S recompute, dP, dV, dK, dQ) against two forward: 2.5x. */
  public long backwardFlops() {
    return forwardFlops() * 5 / 2;
  }

  long eb() {
    return dtype.bytes(1);
  }

  /** Q and O once, K and V once. */
  public long forwardBytes() {
    return dtype.bytes(2 * b * h * s * d + 2 * b * kvHeads * sKv * d);
  }

  /** Q, K, V, O, dO read once; dQ, dK, dV written once. */
  public long backwardBytes() {
    return dtype.bytes(4 * b * h * s * d + 4 * b * kvHeads * sKv * d);
  }
}
