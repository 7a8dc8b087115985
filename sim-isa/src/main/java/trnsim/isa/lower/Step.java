package trnsim.isa.lower;

import trnsim.isa.DType;
import trnsim.isa.Program;

/**
 * One kernel of a lowered workload, run {@code repeat} times back to back (identical kernels are
 * simulated once and their time multiplied: memoisation by structure).
 *
 * @param label what this step is in the workload ("qkv_proj", "attention", ...)
 * @param program the kernel's instruction streams on one chip
 * @param repeat how many times the workload runs it
 * @param dtype the dtype whose tensor-engine peak this step is judged against
 */
public record Step(String label, Program program, long repeat, DType dtype) {
  public Step {
    if (repeat <= 0) {
      throw new IllegalArgumentException("repeat must be positive");
    }
  }
}
