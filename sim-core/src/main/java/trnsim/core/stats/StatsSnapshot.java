package trnsim.core.stats;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * An immutable tree of named statistics, frozen at the end of a run: hierarchical dotted names
 * ({@code chip0.nc3.tensor.busy_ps}) to values. Each component writes its own statistics.
 */
public final class StatsSnapshot {
  private final Map<String, Double> values;

  private StatsSnapshot(Map<String, Double> values) {
    this.values = Collections.unmodifiableMap(values);
  }

  public Map<String, Double> values() {
    return values;
  }

  public double get(String name) {
    Double v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("no statistic named " + name);
    }
    return v;
  }

  public double getOrZero(String name) {
    return values.getOrDefault(name, 0.0);
  }

  /** Sum of every statistic whose name ends with {@code suffix} (e.g. {@code .hbm.read_bytes}). */
  public double sumEndingWith(String suffix) {
    double s = 0;
    for (var e : values.entrySet()) {
      if (e.getKey().endsWith(suffix)) {
        s += e.getValue();
      }
    }
    return s;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Collects statistics; names must be unique. */
  public static final class Builder {
    private final TreeMap<String, Double> values = new TreeMap<>();

    public Builder put(String name, double value) {
      if (values.put(name, value) != null) {
        throw new IllegalStateException("statistic written twice: " + name);
      }
      return this;
    }

    public Builder add(String name, double value) {
      values.merge(name, value, Double::sum);
      return this;
    }

    public StatsSnapshot build() {
      return new StatsSnapshot(new TreeMap<>(values));
    }
  }
}
