package trnsim.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The registry of consumed config keys: which models read each leaf key of a hardware config (and
 * of an energy table). It is checked against the fully resolved tree when a config is loaded (every
 * file of the {@code extends:} chain, every {@code --set}): a key no model reads is an error naming
 * its file and key path, so a setting either changes a result or is refused. It is also the source
 * of {@code config show --models}.
 *
 * <p>Keys are exact dotted paths; {@code *} stands for one map key ({@code dtype_rates.*}) and
 * {@code []} for every element of a list ({@code system.topology.links[].bandwidth}). Reader names:
 * {@code lowering} (instruction lists and tiling), {@code timing} (the event simulation),
 * {@code energy}, {@code power-limiter}, {@code llm} (llm-train, llm-infer, serve), {@code
 * collectives}, {@code cost}, {@code report} (printed, changes no number).
 * {@code ConfigReadersTest} checks every leaf of every shipped config is registered, and {@code
 * ConfigSensitivityTest} that changing each registered key changes some output.
 */
public final class ConfigReaders {
  /** One key: the models that read it, or (readers empty) why none does. */
  public record Entry(String key, List<String> readers, String why) {
    public Entry {
      readers = List.copyOf(readers);
    }
  }

  private static final List<String> KERNEL = List.of("lowering", "timing");
  private static final List<String> ENGINE_TIMING = List.of("timing");
  private static final List<String> CLOCK = List.of("timing", "energy", "power-limiter");
  /**
   * A rate the cost model reads for an instruction class that no shipped kernel issues on that engine
   * at a size the rate sets (Scalar two-input ops; GpSimd 32-bit one-input ops): VectorCostRulesTest
   * checks the cost model, as no workload reaches it.
   */
  public static final String NO_SHIPPED_OP = "timing (no shipped kernel issues this op class here at a rate-bound size)";
  private static final String UNREAD_L2_SIZE = "the L2 is modelled as a reuse filter without a capacity";
  private static final String UNREAD_HBM_LATENCY =
      "the fitted chip.core.dma.latency already holds the first HBM access; a second latency would count it twice";

  /** Hardware config keys. */
  public static final ConfigReaders HARDWARE = new ConfigReaders(hardwareEntries());

  /** Energy table keys ({@code configs/energy/*.energy.yaml}). */
  public static final ConfigReaders ENERGY_TABLE = new ConfigReaders(List.of(
      new Entry("description", List.of("report"), null),
      new Entry("static_power", List.of("energy", "power-limiter"), null),
      new Entry("tensor.mac_pj.*", List.of("energy", "power-limiter"), null),
      new Entry("vector.element_op_pj", List.of("energy", "power-limiter"), null),
      new Entry("scalar.element_op_pj", List.of("energy", "power-limiter"), null),
      new Entry("gpsimd.element_op_pj", List.of("energy", "power-limiter"), null),
      new Entry("sbuf.read_byte_pj", List.of("energy", "power-limiter"), null),
      new Entry("sbuf.write_byte_pj", List.of("energy", "power-limiter"), null),
      new Entry("psum.read_byte_pj", List.of("energy", "power-limiter"), null),
      new Entry("psum.write_byte_pj", List.of("energy", "power-limiter"), null),
      new Entry("hbm.read_byte_pj", List.of("energy", "power-limiter"), null),
      new Entry("hbm.write_byte_pj", List.of("energy", "power-limiter"), null),
      new Entry("dma.byte_pj", List.of("energy", "power-limiter"), null),
      new Entry("link.byte_pj", List.of("energy (multi-chip)"), null)));

  private static List<Entry> hardwareEntries() {
    List<Entry> e = new ArrayList<>();
    e.add(new Entry("name", List.of("report"), null));
    e.add(new Entry("description", List.of("report"), null));
    e.add(new Entry("projection", List.of("report (PROJECTION line and key)"), null));
    e.add(new Entry("chip.cores", List.of("lowering", "timing", "energy", "collectives", "llm"), null));
    e.add(new Entry("chip.lnc", List.of("collectives", "llm"), null));
    for (String k : List.of("type", "rows", "cols", "max_moving_free", "dtype_rates.*")) {
      e.add(new Entry("chip.core.tensor." + k, KERNEL, null));
    }
    e.add(new Entry("chip.core.tensor.dataflow", List.of("timing (type: systolic)"), null));
    e.add(new Entry("chip.core.tensor.clock", CLOCK, null));
    e.add(new Entry("chip.core.tensor.min_matmul_cycles", ENGINE_TIMING, null));
    e.add(new Entry("chip.core.tensor.latency_cycles", ENGINE_TIMING, null));
    for (String engine : List.of("vector", "scalar", "gpsimd")) {
      String p = "chip.core." + engine + ".";
      e.add(new Entry(p + "clock", CLOCK, null));
      e.add(new Entry(p + "lanes", KERNEL, null));
      for (String k : List.of("min_ii_cycles", "start_cycles", "latency_cycles", "unary16_rate", "binary16_rate",
          "unary32_rate", "binary32_rate", "max_sbuf_free_elements", "max_psum_free_elements")) {
        boolean noShippedOp = engine.equals("scalar") && k.startsWith("binary") || engine.equals("gpsimd") && k.equals("unary32_rate");
        if (engine.equals("gpsimd") && k.equals("max_psum_free_elements")) {
          e.add(new Entry(p + k, List.of(), "GpSimd cannot read or write PSUM (the cost model refuses such an operand)"));
        } else {
          e.add(new Entry(p + k, noShippedOp ? List.of(NO_SHIPPED_OP) : ENGINE_TIMING, null));
        }
      }
    }
    for (String k : List.of("sbuf.size", "sbuf.partitions", "psum.size", "psum.partitions", "psum.banks")) {
      e.add(new Entry("chip.core." + k, KERNEL, null));
    }
    for (String k : List.of("queues", "queue_bandwidth", "descriptor_cost", "latency", "sbuf_bandwidth")) {
      e.add(new Entry("chip.core.dma." + k, ENGINE_TIMING, null));
    }
    e.add(new Entry("chip.core.dma.min_bytes_per_queue", KERNEL, null));
    e.add(new Entry("chip.core.launch_overhead", ENGINE_TIMING, null));
    e.add(new Entry("chip.hbm.capacity", List.of("llm (memory fit)"), null));
    e.add(new Entry("chip.hbm.bandwidth", List.of("timing", "llm"), null));
    e.add(new Entry("chip.hbm.efficiency", List.of("timing", "llm"), null));
    e.add(new Entry("chip.hbm.latency", List.of(), UNREAD_HBM_LATENCY));
    e.add(new Entry("chip.l2.bandwidth", List.of("timing"), null));
    e.add(new Entry("chip.l2.size", List.of(), UNREAD_L2_SIZE));
    e.add(new Entry("chip.power.limit", List.of("power-limiter"), null));
    e.add(new Entry("chip.power.idle", List.of("energy", "power-limiter"), null));
    e.add(new Entry("chip.power.energy_table", List.of("energy", "power-limiter"), null));
    for (String k : List.of("algorithms", "launch", "transfer_overhead", "dma_rings_per_core", "packet",
        "reduce_elements_per_ns_per_core", "gather_setup")) {
      e.add(new Entry("chip.collectives." + k, List.of("collectives", "llm"), null));
    }
    e.add(new Entry("system.chips", List.of("collectives", "llm", "cost"), null));
    e.add(new Entry("system.chips_per_node", List.of("collectives", "llm", "cost"), null));
    e.add(new Entry("system.topology.type", List.of("collectives", "llm"), null));
    e.add(new Entry("system.topology.dims[]", List.of("collectives", "llm"), null));
    e.add(new Entry("system.topology.links[].bandwidth", List.of("collectives", "llm"), null));
    e.add(new Entry("system.topology.links[].latency", List.of("collectives", "llm"), null));
    e.add(new Entry("system.network.bandwidth", List.of("collectives", "llm"), null));
    e.add(new Entry("system.network.latency", List.of("collectives", "llm"), null));
    e.add(new Entry("system.price_per_node_hour_usd", List.of("cost"), null));
    // a mixed scale-up domain's groups: each names its chips' config and count (trnsim.core.system.Domain)
    e.add(new Entry("system.groups[].name", List.of("llm"), null));
    e.add(new Entry("system.groups[].hardware", List.of("llm", "cost"), null));
    e.add(new Entry("system.groups[].chips", List.of("llm", "cost"), null));
    e.add(new Entry("runtime.graph_launch", List.of("llm"), null));
    e.add(new Entry("runtime.request_overhead", List.of("llm (serve, time to first token)"), null));
    e.add(new Entry("runtime.kv_buckets", List.of("llm (decode KV span)", "serve"), null));
    return List.copyOf(e);
  }

  private final List<Entry> entries;

  private ConfigReaders(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  /** Every registered key. */
  public List<Entry> entries() {
    return entries;
  }

  /** The entry for {@code keyPath} or, for a key below an unread one ({@code chip.l2.size.x}), that entry; else null. */
  public Entry find(String keyPath) {
    String[] parts = keyPath.split("\\.");
    for (Entry e : entries) {
      String[] pattern = e.key().split("\\.");
      boolean below = e.readers().isEmpty() && parts.length > pattern.length;
      if ((parts.length == pattern.length || below) && matches(pattern, parts)) {
        return e;
      }
    }
    return null;
  }

  private static boolean matches(String[] pattern, String[] parts) {
    for (int i = 0; i < pattern.length; i++) {
      if (!pattern[i].equals("*") && !pattern[i].equals(parts[i])) {
        return false;
      }
    }
    return true;
  }

  /** The models that read {@code keyPath} (empty: none), or null when the key is not registered. */
  public List<String> readersOf(String keyPath) {
    Entry e = find(keyPath);
    return e == null ? null : e.readers();
  }

  /** Why no model reads {@code keyPath}, or null when some model does (or it is not registered). */
  public String unreadReason(String keyPath) {
    Entry e = find(keyPath);
    return e != null && e.readers().isEmpty() ? e.why() : null;
  }

  /** {@link #readersOf} in the hardware registry. */
  public static List<String> readers(String keyPath) {
    return HARDWARE.readersOf(keyPath);
  }

  /** {@link #unreadReason} in the hardware registry. */
  public static String unreadBecause(String keyPath) {
    return HARDWARE.unreadReason(keyPath);
  }

  /** Leaf key paths of a config tree; list elements add {@code []} to their key. */
  public static List<String> leafPaths(JsonNode tree) {
    List<String> out = new ArrayList<>();
    leaves(tree, "", out);
    return out;
  }

  private static void leaves(JsonNode n, String prefix, List<String> out) {
    if (n.isObject()) {
      n.fields().forEachRemaining(f -> leaves(f.getValue(), prefix.isEmpty() ? f.getKey() : prefix + "." + f.getKey(), out));
    } else if (n.isArray()) {
      n.forEach(el -> leaves(el, prefix + "[]", out));
    } else if (!prefix.isEmpty()) {
      out.add(prefix);
    }
  }

  /**
   * Keys of {@code tree} the registry marks as read by no model: the first, as an error naming the
   * file it came from (by {@code origins}, keyed by dotted path without list indices), the key and
   * the reason. {@code unregistered} also refuses keys absent from the registry (after binding, when
   * every key left is one the records accept).
   */
  public void check(JsonNode tree, Map<String, String> origins, String topFile, boolean unregistered) {
    for (String path : leafPaths(tree)) {
      Entry e = find(path);
      String why = e == null ? (unregistered ? "no model is registered as reading it (ConfigReaders)" : null)
          : e.readers().isEmpty() ? e.why() : null;
      if (why != null) {
        String plain = path.replace("[]", "");
        JsonNode at = HardwareLoader.lookup(tree, plain);
        String value = at != null && at.isValueNode() ? at.asText() : null;
        String origin = HardwareLoader.originOf(plain, origins, topFile);
        String tail = origin.equals("--set") ? "; setting it would change no result" : "";
        throw new ConfigException(origin, plain, value, "read by no model (" + why + ")" + tail);
      }
    }
  }
}
