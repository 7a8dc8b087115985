package trnsim.isa.lower;

import java.util.List;

/**
 * A workload lowered for one chip: kernels in order (kernel boundaries are full synchronisation
 * points, as between NKI kernel launches), plus the notes the lowerings made.
 *
 * @param name canonical workload text
 * @param steps kernels in execution order
 * @param tokens tokens processed (for per-token metrics; 0 when not meaningful)
 */
public record LoweredWorkload(String name, List<Step> steps, long tokens) {
  public LoweredWorkload {
    steps = List.copyOf(steps);
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("a workload needs at least one kernel");
    }
  }

  public long flops() {
    long f = 0;
    for (Step s : steps) {
      f += s.program().flops() * s.repeat();
    }
    return f;
  }
}
