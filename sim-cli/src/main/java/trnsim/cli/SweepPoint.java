package trnsim.cli;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * One point of a sweep as an engine sees it: its place in the product ({@code index}), its resume
 * key (a hash of the fully resolved hardware and the workload), the varied values and effective
 * {@code --set}s for its row, the workload text, and which of the job's hardware variants it runs
 * on. Small and serializable: a cluster ships points to its executors.
 */
public record SweepPoint(int index, String key, Map<String, String> varied, List<String> sets, String workload,
    int hardware) implements Serializable {

  public SweepPoint {
    varied = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(varied));
    sets = List.copyOf(sets);
  }

  /** The point as {@code KEY=VALUE, ...} of its varied values, for messages. */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    for (var e : varied.entrySet()) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(e.getKey()).append('=').append(e.getValue());
    }
    return sb.toString();
  }
}
