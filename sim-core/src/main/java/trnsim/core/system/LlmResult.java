package trnsim.core.system;

import java.util.List;
import java.util.Map;
import trnsim.core.run.WorkloadResult;

/**
 * A distributed LLM training step or inference pass on a whole system.
 *
 * @param hardware hardware config name
 * @param workload canonical workload text
 * @param phase train, prefill or decode
 * @param parallelism tp, pp, dp, microbatches, microbatch size, systems (all resolved)
 * @param defaulted which parallelism keys were chosen by trnsim rather than given
 * @param chips chips the workload uses
 * @param seconds one training step, the prefill (time to first token) or one decode step (time per output token)
 * @param tokens tokens one step processes (training: global batch x seq; prefill: batch x ctx; decode: batch x replicas)
 * @param breakdown where the step's time goes, seconds by part, in order (sums to {@code seconds})
 * @param memoryBytes memory per chip by part ("total", "capacity" included)
 * @param mfu model FLOPs utilisation: model FLOPs / (time x chips x dense peak)
 * @param modelFlops model FLOPs of one step (6N per trained token plus causal attention; 2N for inference)
 * @param energyJoules energy of one step over all used chips (NaN without an energy table)
 * @param costUsd cost of one step over all used chips (NaN without a price)
 * @param layer the simulated per-chip kernels of one layer (one microbatch), for the breakdown table
 * @param collectives the collectives of one step, as text lines
 * @param notes what was simplified or chosen
 */
public record LlmResult(
    String hardware,
    String workload,
    String phase,
    Map<String, Integer> parallelism,
    List<String> defaulted,
    int chips,
    double seconds,
    double tokens,
    Map<String, Double> breakdown,
    Map<String, Double> memoryBytes,
    double mfu,
    double modelFlops,
    double energyJoules,
    double costUsd,
    WorkloadResult layer,
    List<String> collectives,
    List<String> notes) {

  public LlmResult {
    parallelism = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(parallelism));
    defaulted = List.copyOf(defaulted);
    breakdown = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(breakdown));
    memoryBytes = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(memoryBytes));
    collectives = List.copyOf(collectives);
    notes = List.copyOf(notes);
  }

  /** The same result with {@code extra} notes appended. */
  public LlmResult withNotes(List<String> extra) {
    List<String> all = new java.util.ArrayList<>(notes);
    all.addAll(extra);
    return new LlmResult(hardware, workload, phase, parallelism, defaulted, chips, seconds, tokens, breakdown, memoryBytes, mfu, modelFlops,
        energyJoules, costUsd, layer, collectives, all);
  }

  public double tokensPerSecond() {
    return tokens / seconds;
  }

  public double tokensPerSecondPerChip() {
    return tokensPerSecond() / chips;
  }

  public double energyPerTokenJ() {
    return energyJoules / tokens;
  }

  public double costPerMillionTokensUsd() {
    return costUsd / tokens * 1e6;
  }

  /** Share of the step time spent in one part of the breakdown. */
  public double share(String part) {
    Double v = breakdown.get(part);
    return v == null ? 0 : v / seconds;
  }
}
