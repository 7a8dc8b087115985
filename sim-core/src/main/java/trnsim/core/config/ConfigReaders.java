package trnsim.core.config;

import java.util.List;

/**
 * Which models read each hardware config key: the registry behind {@code config show --models}
 * and behind refusing a {@code --set} of a key no model reads (a what-if that could not change any
 * result). Keys are matched by their longest registered prefix. {@code ConfigReadersTest} checks
 * that every key of every shipped config is registered, so a new key needs an entry here.
 */
public final class ConfigReaders {
  private record Entry(String prefix, List<String> readers, String why) {}

  private static final List<Entry> ENTRIES = List.of(
      new Entry("name", List.of("report"), null),
      new Entry("description", List.of("report"), null),
      new Entry("projection", List.of("report (PROJECTION line and key)"), null),
      new Entry("chip.cores", List.of("lowering", "timing", "energy"), null),
      new Entry("chip.core.tensor", List.of("lowering", "timing"), null),
      new Entry("chip.core.tensor.clock", List.of("timing", "energy", "power-limiter"), null),
      new Entry("chip.core.tensor.dataflow", List.of("timing (type: systolic)"), null),
      new Entry("chip.core.vector", List.of("lowering", "timing"), null),
      new Entry("chip.core.scalar", List.of("lowering", "timing"), null),
      new Entry("chip.core.gpsimd", List.of("lowering", "timing"), null),
      new Entry("chip.core.vector.clock", List.of("timing", "power-limiter"), null),
      new Entry("chip.core.scalar.clock", List.of("timing", "power-limiter"), null),
      new Entry("chip.core.gpsimd.clock", List.of("timing", "power-limiter"), null),
      new Entry("chip.core.sbuf", List.of("lowering", "timing"), null),
      new Entry("chip.core.psum", List.of("lowering", "timing"), null),
      new Entry("chip.core.dma", List.of("timing"), null),
      new Entry("chip.core.launch_overhead", List.of("timing"), null),
      new Entry("chip.hbm", List.of("timing", "energy"), null),
      new Entry("chip.hbm.capacity", List.of("llm (memory fit)"), null),
      new Entry("chip.l2", List.of("timing"), null),
      new Entry("chip.l2.size", List.of(), "the L2 is modelled as a reuse filter without a capacity"),
      new Entry("chip.power", List.of("energy"), null),
      new Entry("chip.power.limit", List.of("power-limiter"), null),
      new Entry("chip.lnc", List.of("llm", "collectives"), null),
      new Entry("chip.collectives", List.of("collectives", "llm"), null),
      new Entry("system", List.of("collectives", "llm"), null),
      new Entry("system.price_per_node_hour_usd", List.of("cost"), null),
      new Entry("runtime", List.of("llm-infer"), null));

  private ConfigReaders() {}

  private static Entry find(String keyPath) {
    Entry best = null;
    for (Entry e : ENTRIES) {
      boolean match = keyPath.equals(e.prefix()) || keyPath.startsWith(e.prefix() + ".");
      if (match && (best == null || e.prefix().length() > best.prefix().length())) {
        best = e;
      }
    }
    return best;
  }

  /** The models that read {@code keyPath} (empty: none), or null when the key is not registered. */
  public static List<String> readers(String keyPath) {
    Entry e = find(keyPath);
    return e == null ? null : e.readers();
  }

  /** Why no model reads {@code keyPath}, or null when some model does. */
  public static String unreadBecause(String keyPath) {
    Entry e = find(keyPath);
    return e != null && e.readers().isEmpty() ? e.why() : null;
  }
}
