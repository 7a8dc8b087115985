package trnsim.core.energy;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import trnsim.core.config.ConfigException;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.PowerSpec;
import trnsim.core.stats.StatsSnapshot;
import trnsim.isa.DType;

/**
 * Accelergy-style energy: {@code energy = sum over actions (count x energy per action) + static
 * power x simulated time}. Action counts come from the run's {@link StatsSnapshot}; energies per
 * action from the chip's {@link EnergyTable}.
 *
 * <h2>What is counted</h2>
 * <ul>
 *   <li>{@code *.tensor.macs_<dtype>}: MACs through the PE array (matmuls and tensor-engine
 *       transposes), charged at {@code tensor.mac_pj[<dtype class>]} (fp8_e4m3 and fp8_e5m2 are
 *       both class {@code fp8}).
 *   <li>{@code *.sbuf_read_bytes} / {@code *.sbuf_write_bytes}, {@code *.psum_read_bytes} /
 *       {@code *.psum_write_bytes}: bytes every engine and DMA queue read or wrote.
 *   <li>{@code *.hbm_read_bytes} / {@code *.hbm_write_bytes}: HBM bytes (from the DMA queues).
 *   <li>{@code *.dmaN.bytes}: bytes moved by DMA queues (on-chip movement, on top of the memories
 *       at each end).
 *   <li>{@code *.<engine>.element_ops} for vector, scalar, gpsimd.
 *   <li>{@code *.link_bytes}: chip-to-chip bytes, for a multi-chip model to write.
 * </ul>
 *
 * <h2>What is simplified, and why</h2>
 * <ul>
 *   <li>Energy per action is a constant: it does not depend on data values (toggle rates), on the
 *       clock or on the voltage. Under a power limit real chips lower voltage with frequency, which
 *       makes each action cheaper; the model's fixed-voltage law (see {@link PowerLimiter})
 *       therefore throttles somewhat more than real silicon.
 *   <li>Static power is one number per chip, charged for the whole run, for every chip the
 *       statistics cover, whether or not all its cores were used. Its rise with temperature is
 *       ignored.
 *   <li>Clock-tree and control power of running-but-stalled engines is not an action; it is folded
 *       into the per-action energies, which were derived from whole-board measurements or power
 *       envelopes (docs/model.md, "Energy, power and cost").
 *   <li>The L2 (if any) has no action counter yet; its energy is folded into the HBM byte energy.
 * </ul>
 *
 * <p>Immutable and stateless: one model may serve any number of concurrent reports.
 */
public final class EnergyModel {
  private static final Map<String, DType> DTYPES_BY_LABEL;

  static {
    Map<String, DType> m = new HashMap<>();
    for (DType d : DType.values()) {
      m.put(d.label(), d);
    }
    DTYPES_BY_LABEL = Map.copyOf(m);
  }

  private final EnergyTable table;
  private final double staticPowerW;
  private final String source;

  /**
   * @param table energies per action
   * @param staticPowerW static power per chip, in watts
   * @param source where the table came from, for error messages
   */
  public EnergyModel(EnergyTable table, double staticPowerW, String source) {
    if (table == null) {
      throw new IllegalArgumentException("energy table required");
    }
    if (!(staticPowerW >= 0) || Double.isInfinite(staticPowerW)) {
      throw new IllegalArgumentException("static power must be finite and >= 0 W: " + staticPowerW);
    }
    this.table = table;
    this.staticPowerW = staticPowerW;
    this.source = source == null ? "<energy table>" : source;
  }

  /** A model using the table's own static power. */
  public static EnergyModel of(EnergyTable table, String source) {
    return new EnergyModel(table, table.staticPower().watts(), source);
  }

  /**
   * The energy model of a hardware config: loads {@code chip.power.energy_table} (relative to
   * {@code configsRoot}); static power is {@code chip.power.idle} when the config sets it (non-zero),
   * otherwise the table's {@code static_power}.
   *
   * @throws ConfigException if the config names no table or the table is invalid
   */
  public static EnergyModel forHardware(HardwareSpec hw, Path configsRoot) {
    PowerSpec power = hw.chip().power();
    if (power == null || power.energyTable() == null) {
      throw new ConfigException(hw.name(), "chip.power.energy_table", null,
          "no energy table configured; set chip.power.energy_table (e.g. energy/trn2.energy.yaml)");
    }
    Path file = configsRoot.resolve(power.energyTable()).normalize();
    EnergyTable table = EnergyTable.load(file);
    double staticW = power.idle().milliwatts() > 0 ? power.idle().watts() : table.staticPower().watts();
    return new EnergyModel(table, staticW, file.toString());
  }

  public EnergyTable table() {
    return table;
  }

  /** Static power per chip, in watts. */
  public double staticPowerW() {
    return staticPowerW;
  }

  /**
   * Energy of a run whose statistics are {@code stats} and which took {@code seconds} of simulated
   * time. Static power is charged for every chip named in the statistics ({@code chipN.}), at least
   * one.
   *
   * @throws ConfigException if the run performed an action the table has no energy for
   */
  public EnergyReport report(StatsSnapshot stats, double seconds) {
    Map<String, Double> counts = new TreeMap<>();
    TreeSet<String> chips = new TreeSet<>();
    for (var e : stats.values().entrySet()) {
      String k = e.getKey();
      double v = e.getValue();
      if (k.startsWith("chip")) {
        int dot = k.indexOf('.');
        if (dot > 4 && k.substring(4, dot).chars().allMatch(Character::isDigit)) {
          chips.add(k.substring(0, dot));
        }
      }
      String action = actionOf(k);
      if (action != null && v != 0) {
        counts.merge(action, v, Double::sum);
      }
    }
    Map<String, Double> joules = new TreeMap<>();
    for (var e : counts.entrySet()) {
      joules.put(e.getKey(), e.getValue() * energyPj(e.getKey()) * 1e-12);
    }
    int n = Math.max(1, chips.size());
    return new EnergyReport(seconds, n, staticPowerW, counts, joules, staticPowerW * n * seconds);
  }

  /** The action a statistic counts, or null if it is not an energy action. */
  static String actionOf(String key) {
    int last = key.lastIndexOf('.');
    if (last < 0) {
      return null;
    }
    String leaf = key.substring(last + 1);
    int prev = key.lastIndexOf('.', last - 1);
    String component = key.substring(prev + 1, last);
    switch (leaf) {
      case "sbuf_read_bytes": return "sbuf.read";
      case "sbuf_write_bytes": return "sbuf.write";
      case "psum_read_bytes": return "psum.read";
      case "psum_write_bytes": return "psum.write";
      case "hbm_read_bytes": return "hbm.read";
      case "hbm_write_bytes": return "hbm.write";
      case "link_bytes": return "link.byte";
      case "element_ops":
        return component + ".element_op";
      case "bytes":
        return component.startsWith("dma") && component.length() > 3
            && component.substring(3).chars().allMatch(Character::isDigit) ? "dma.byte" : null;
      default:
        break;
    }
    if (leaf.startsWith("macs_") && component.equals("tensor")) {
      DType d = DTYPES_BY_LABEL.get(leaf.substring(5));
      if (d == null) {
        throw new IllegalArgumentException("statistic " + key + " names an unknown dtype");
      }
      return "tensor.mac_" + d.rateKey();
    }
    return null;
  }

  /** Energy of one action, in picojoules. */
  public double energyPj(String action) {
    Double pj = switch (action) {
      case "sbuf.read" -> table.sbuf().readBytePj();
      case "sbuf.write" -> table.sbuf().writeBytePj();
      case "psum.read" -> table.psum().readBytePj();
      case "psum.write" -> table.psum().writeBytePj();
      case "hbm.read" -> table.hbm().readBytePj();
      case "hbm.write" -> table.hbm().writeBytePj();
      case "dma.byte" -> table.dma().bytePj();
      case "link.byte" -> {
        if (table.link() == null) {
          throw new ConfigException(source, "link.byte_pj", null, "the run sent link bytes but the table has no link energy");
        }
        yield table.link().bytePj();
      }
      case "vector.element_op" -> table.vector().elementOpPj();
      case "scalar.element_op" -> table.scalar().elementOpPj();
      case "gpsimd.element_op" -> table.gpsimd().elementOpPj();
      default -> {
        if (action.startsWith("tensor.mac_")) {
          String cls = action.substring("tensor.mac_".length());
          Double v = table.tensor().macPj().get(cls);
          if (v == null) {
            throw new ConfigException(source, "tensor.mac_pj." + cls, null,
                "the run performed " + cls + " MACs but the table has no energy for them (has: "
                    + String.join(", ", table.tensor().macPj().keySet()) + ")");
          }
          yield v;
        }
        throw new IllegalArgumentException("unknown energy action " + action);
      }
    };
    return pj;
  }
}
