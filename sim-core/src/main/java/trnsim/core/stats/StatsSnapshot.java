package trnsim.core.stats;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.SortedMap;
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

  /**
   * A snapshot of {@code keys} (strictly ascending, as a sorted map iterates) to {@code values} at the
   * same positions, built in linear time (a sorted map fills from sorted input without comparing).
   */
  public static StatsSnapshot ofSorted(List<String> keys, double[] values) {
    if (keys.size() != values.length) {
      throw new IllegalArgumentException(keys.size() + " names for " + values.length + " values");
    }
    return new StatsSnapshot(new TreeMap<>(new SortedInput(keys, values)));
  }

  /** Sorted names and values seen as a sorted map, only to be copied into a {@link TreeMap}. */
  private static final class SortedInput extends AbstractMap<String, Double> implements SortedMap<String, Double> {
    private final List<String> keys;
    private final double[] values;

    SortedInput(List<String> keys, double[] values) {
      this.keys = keys;
      this.values = values;
    }

    @Override
    public Set<Map.Entry<String, Double>> entrySet() {
      return new AbstractSet<>() {
        @Override
        public Iterator<Map.Entry<String, Double>> iterator() {
          return new Iterator<>() {
            private int i;

            @Override
            public boolean hasNext() {
              return i < keys.size();
            }

            @Override
            public Map.Entry<String, Double> next() {
              if (i >= keys.size()) {
                throw new NoSuchElementException();
              }
              int at = i++;
              return new AbstractMap.SimpleImmutableEntry<>(keys.get(at), values[at]);
            }
          };
        }

        @Override
        public int size() {
          return keys.size();
        }
      };
    }

    @Override
    public Comparator<? super String> comparator() {
      return null;
    }

    @Override
    public SortedMap<String, Double> subMap(String from, String to) {
      throw new UnsupportedOperationException();
    }

    @Override
    public SortedMap<String, Double> headMap(String to) {
      throw new UnsupportedOperationException();
    }

    @Override
    public SortedMap<String, Double> tailMap(String from) {
      throw new UnsupportedOperationException();
    }

    @Override
    public String firstKey() {
      return keys.get(0);
    }

    @Override
    public String lastKey() {
      return keys.get(keys.size() - 1);
    }
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
