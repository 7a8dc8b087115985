package trnsim.core.energy;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The energy of one simulated run: dynamic energy per action (count x energy per action) plus
 * static energy (static power x simulated time, per chip). Immutable.
 *
 * <p>Action names are {@code component.action}: {@code tensor.mac_bf16}, {@code sbuf.read},
 * {@code sbuf.write}, {@code psum.read}, {@code psum.write}, {@code hbm.read}, {@code hbm.write},
 * {@code dma.byte}, {@code link.byte}, {@code vector.element_op}, {@code scalar.element_op},
 * {@code gpsimd.element_op}. Counts are MACs, bytes or element operations.
 *
 * <p>{@link #totalEnergyJ()} is computed from the parts in iteration order, so summing
 * {@link #dynamicEnergyJ()} in order and adding {@link #staticEnergyJ()} reproduces it exactly.
 *
 * @param seconds simulated time
 * @param chips chips the statistics cover (each pays static power for the whole time)
 * @param staticPowerW static power per chip
 * @param actionCounts how many of each action the run performed, by action name
 * @param dynamicEnergyJ joules per action, by action name (same keys as {@code actionCounts})
 * @param staticEnergyJ static power x chips x seconds
 */
public record EnergyReport(
    double seconds,
    int chips,
    double staticPowerW,
    Map<String, Double> actionCounts,
    Map<String, Double> dynamicEnergyJ,
    double staticEnergyJ) {

  public EnergyReport {
    if (!(seconds >= 0) || Double.isInfinite(seconds)) {
      throw new IllegalArgumentException("simulated time must be finite and >= 0: " + seconds);
    }
    if (chips < 1) {
      throw new IllegalArgumentException("chips must be >= 1: " + chips);
    }
    actionCounts = Collections.unmodifiableMap(new TreeMap<>(actionCounts));
    dynamicEnergyJ = Collections.unmodifiableMap(new TreeMap<>(dynamicEnergyJ));
    if (!actionCounts.keySet().equals(dynamicEnergyJ.keySet())) {
      throw new IllegalArgumentException("action counts and energies must name the same actions");
    }
  }

  /** Sum of the dynamic parts, in the map's (sorted) order. */
  public double dynamicTotalJ() {
    double s = 0;
    for (double v : dynamicEnergyJ.values()) {
      s += v;
    }
    return s;
  }

  /** Dynamic plus static energy, all chips. */
  public double totalEnergyJ() {
    return dynamicTotalJ() + staticEnergyJ;
  }

  /** Dynamic energy by component (the part of the action name before the dot). */
  public Map<String, Double> dynamicEnergyByComponentJ() {
    Map<String, Double> m = new TreeMap<>();
    for (var e : dynamicEnergyJ.entrySet()) {
      String k = e.getKey();
      int dot = k.indexOf('.');
      m.merge(dot < 0 ? k : k.substring(0, dot), e.getValue(), Double::sum);
    }
    return Collections.unmodifiableMap(m);
  }

  /** Average power of all chips together over the run; 0 for a zero-length run. */
  public double averagePowerW() {
    return seconds > 0 ? totalEnergyJ() / seconds : 0;
  }

  /** Average power per chip: the number to compare with a chip's power limit. */
  public double averagePowerPerChipW() {
    return averagePowerW() / chips;
  }

  /** Average dynamic power per chip (what a clock change scales). */
  public double dynamicPowerPerChipW() {
    return seconds > 0 ? dynamicTotalJ() / seconds / chips : 0;
  }

  /** Useful work per joule (FLOP/J = FLOP/s per W); 0 when no energy was spent. */
  public double flopsPerJoule(double flops) {
    double e = totalEnergyJ();
    return e > 0 ? flops / e : 0;
  }

  /** Energy per unit of work in picojoules (per FLOP, per token, per byte: whatever {@code units} counts). */
  public double picojoulesPer(double units) {
    return units > 0 ? totalEnergyJ() * 1e12 / units : Double.NaN;
  }
}
