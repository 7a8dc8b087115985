package trnsim.core.run;

import java.util.List;

/**
 * A whole workload's result on one chip: its kernels' results and their totals.
 *
 * @param hardware hardware config name
 * @param workload canonical workload text
 * @param steps per-kernel results, each with how often it ran
 * @param timeSeconds total simulated time (sum over kernels x repeats: kernel boundaries synchronise)
 * @param flops useful work
 * @param peakFlopsPerSecond tensor-engine peak of the chip at the workload's main dtype
 * @param hbmBytes HBM bytes moved
 * @param hbmBytesPerSecondPeak sustained HBM bandwidth
 * @param engineBusy time-weighted busy fraction per engine kind
 * @param bottleneck what bounds the workload, in words
 * @param tokens tokens processed (0 if not meaningful)
 */
public record WorkloadResult(
    String hardware,
    String workload,
    List<StepResult> steps,
    double timeSeconds,
    long flops,
    double peakFlopsPerSecond,
    double hbmBytes,
    double hbmBytesPerSecondPeak,
    java.util.Map<String, Double> engineBusy,
    String bottleneck,
    long tokens) implements RooflinePoint {

  /** One kernel's result and its repeat count. */
  public record StepResult(String label, long repeat, RunResult result) {}




  public List<String> notes() {
    java.util.List<String> n = new java.util.ArrayList<>();
    for (StepResult s : steps) {
      for (String note : s.result().notes()) {
        n.add(steps.size() > 1 ? s.label() + ": " + note : note);
      }
    }
    return n;
  }
}
