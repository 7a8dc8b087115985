package trnsim.core.config;

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
 */
public record RuntimeSpec(TimeSpan graphLaunch, TimeSpan requestOverhead) {
  public RuntimeSpec {
    if (graphLaunch == null) {
      graphLaunch = TimeSpan.ZERO;
    }
    if (requestOverhead == null) {
      requestOverhead = TimeSpan.ZERO;
    }
  }

  public static RuntimeSpec none() {
    return new RuntimeSpec(TimeSpan.ZERO, TimeSpan.ZERO);
  }
}
