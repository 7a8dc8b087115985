package trnsim.isa.lower;

import java.util.List;

/**
 * A workload lowered for one chip: kernels in order (kernel boundaries are full synchronisation
 * points, as between NKI kernel launches), plus the notes the lowerings made.
 *
 * @param name canonical workload text
 * @param steps kernels in execution order
 * @param tokens tokens processed (for per-token metrics; 0 when not meaningful)
 * @param launches kernel launches (NEFF executions) the workload pays the core's fixed launch
 *     overhead for: 1 for a workload run from a workload string, 0 for kernels composed inside a
 *     larger step (a layer of an LLM step), whose launch the system model accounts for
 * @param alternatives other lowerings of the same work (a GEMM's other candidate tilings); the
 *     runner simulates this one and each alternative and keeps the fastest (empty: no choice)
 */
public record LoweredWorkload(String name, List<Step> steps, long tokens, long launches, List<LoweredWorkload> alternatives) {
  public LoweredWorkload {
    steps = List.copyOf(steps);
    alternatives = List.copyOf(alternatives);
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("a workload needs at least one kernel");
    }
    if (launches < 0) {
      throw new IllegalArgumentException("launches must be non-negative");
    }
  }

  public LoweredWorkload(String name, List<Step> steps, long tokens, long launches) {
    this(name, steps, tokens, launches, List.of());
  }

  /** Kernels composed inside a larger step: no launch overhead of their own. */
  public LoweredWorkload(String name, List<Step> steps, long tokens) {
    this(name, steps, tokens, 0);
  }

  /** This workload as one launch of its own. */
  public LoweredWorkload launched() {
    return new LoweredWorkload(name, steps, tokens, 1, alternatives.stream().map(LoweredWorkload::launched).toList());
  }

  /** The same workload with {@code others} as the alternatives to simulate. */
  public LoweredWorkload withAlternatives(List<LoweredWorkload> others) {
    return new LoweredWorkload(name, steps, tokens, launches, others);
  }

  public long flops() {
    long f = 0;
    for (Step s : steps) {
      f += s.program().flops() * s.repeat();
    }
    return f;
  }
}
