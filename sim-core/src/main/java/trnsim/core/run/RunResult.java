package trnsim.core.run;

import java.util.List;
import java.util.Map;
import trnsim.core.stats.StatsSnapshot;

/**
 * What one simulated kernel run produced: time, work, traffic, per-engine use, the resource that
 * bounded it, and every component statistic. Immutable; renderers (table, JSON, CSV) only read it.
 *
 * @param hardware hardware config name
 * @param workload what ran
 * @param notes the lowering's choices
 * @param timeSeconds simulated time
 * @param flops useful work
 * @param peakFlopsPerSecond the chip's dense peak at the workload's dtype, over the cores available
 * @param hbmBytes bytes read plus written in HBM
 * @param hbmBytesPerSecondPeak the chip's sustained HBM bandwidth
 * @param coresUsed cores that ran instructions
 * @param engines per-engine use
 * @param bottleneck the bounding resource, in words
 * @param stats every statistic, by hierarchical name
 */
public record RunResult(
    String hardware,
    String workload,
    List<String> notes,
    double timeSeconds,
    long flops,
    double peakFlopsPerSecond,
    double hbmBytes,
    double hbmBytesPerSecondPeak,
    int coresUsed,
    List<EngineUse> engines,
    String bottleneck,
    long instructions,
    StatsSnapshot stats) implements RooflinePoint {

  public RunResult {
    notes = List.copyOf(notes);
    engines = List.copyOf(engines);
  }





  public Map<String, Double> engineBusy() {
    var m = new java.util.TreeMap<String, Double>();
    for (EngineUse e : engines) {
      m.put(e.name(), e.busyFraction());
    }
    return m;
  }
}
