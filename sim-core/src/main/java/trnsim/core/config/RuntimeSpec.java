package trnsim.core.config;

import java.util.Locale;
import trnsim.core.config.unit.TimeSpan;

/**
 * Costs of the software runtime that drives the chips, outside any kernel: what a compiled graph
 * costs per execution on top of its instructions (host call into the runtime, input/output
 * descriptor set-up, completion notification back to the host). Shared by every workload that runs
 * compiled graphs (inference steps, training steps).
 *
 * @param graphLaunch fixed time per execution of a compiled graph (one decode step, one
 *     context-encoding pass, one training step); zero when not configured
 * @param requestOverhead fixed time a served request spends outside the graphs before its first
 *     token (the serving loop's preparation of the request and return of the first token); zero when
 *     not configured
 * @param kvBuckets how the serving stack's decode attention spans the KV cache: {@code pow2}, static
 *     token-generation graphs compiled for power-of-two spans (Transformers-NeuronX), each step attending
 *     over its bucket; {@code none} (the default), a paged KV cache attended over the live context
 *     (GPU serving stacks: vLLM, TensorRT-LLM)
 */
public record RuntimeSpec(TimeSpan graphLaunch, TimeSpan requestOverhead, String kvBuckets) {
  public RuntimeSpec {
    if (graphLaunch == null) {
      graphLaunch = TimeSpan.ZERO;
    }
    if (requestOverhead == null) {
      requestOverhead = TimeSpan.ZERO;
    }
    kvBuckets = kvBuckets == null ? "none" : kvBuckets.toLowerCase(Locale.ROOT);
    if (!kvBuckets.equals("pow2") && !kvBuckets.equals("none")) {
      throw new ConfigFieldException("kv_buckets", kvBuckets, "must be 'pow2' or 'none'");
    }
  }

  public RuntimeSpec(TimeSpan graphLaunch, TimeSpan requestOverhead) {
    this(graphLaunch, requestOverhead, null);
  }

  public static RuntimeSpec none() {
    return new RuntimeSpec(TimeSpan.ZERO, TimeSpan.ZERO, null);
  }

  /** Whether decode steps attend over power-of-two buckets of the context rather than the live context. */
  public boolean bucketedKv() {
    return kvBuckets.equals("pow2");
  }
}
