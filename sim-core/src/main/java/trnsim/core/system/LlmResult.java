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
 * @param mixed on a mixed domain, each group's part and the transfers between groups; null otherwise
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
    List<String> notes,
    MixedParts mixed) {

  /** A result on one chip design. */
  public LlmResult(String hardware, String workload, String phase, Map<String, Integer> parallelism, List<String> defaulted, int chips,
      double seconds, double tokens, Map<String, Double> breakdown, Map<String, Double> memoryBytes, double mfu, double modelFlops,
      double energyJoules, double costUsd, WorkloadResult layer, List<String> collectives, List<String> notes) {
    this(hardware, workload, phase, parallelism, defaulted, chips, seconds, tokens, breakdown, memoryBytes, mfu, modelFlops, energyJoules,
        costUsd, layer, collectives, notes, null);
  }

  /**
   * What each group of a mixed domain did in one step, and what crossed between groups.
   *
   * @param bottleneck the group (or transfer) that sets the step time or the throughput
   */
  public record MixedParts(List<GroupPart> groups, List<Transfer> transfers, String bottleneck) {
    public MixedParts {
      groups = List.copyOf(groups);
      transfers = List.copyOf(transfers);
    }
  }

  /**
   * One group's part of a step.
   *
   * @param role what it runs ("layers 1-40 (stage 1 of 2)", "prefill", "decode")
   * @param chips chips of the group the step uses
   * @param tp tensor-parallel degree in ranks
   * @param busySeconds the group's own time per step (its stage's forwards and backwards, its prefill or decode)
   * @param energyJoules energy of its chips over the step, from its own energy table (NaN without one)
   * @param costUsd cost of its chips over the step at its own price per chip-hour (NaN without a price)
   */
  public record GroupPart(String name, String hardware, boolean projection, String role, int chips, int tp, double busySeconds,
      double energyJoules, double costUsd) {}

  /** A transfer between groups over the domain's fabric: bytes and seconds per occurrence, occurrences per step. */
  public record Transfer(String what, double bytes, double seconds, long perStep) {}

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
        energyJoules, costUsd, layer, collectives, all, mixed);
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
