package trnsim.core.api;

import trnsim.core.config.HardwareSpec;
import trnsim.core.run.WorkloadResult;

/** A kernel workload simulated on one chip at the clock its power limit allows, with its energy. */
public record KernelRunResult(WorkloadResult result, Energy energy, OperatingPoint operating, HardwareSpec hardware)
    implements SimulationResult {

  @Override
  public double timeSeconds() {
    return result.timeSeconds();
  }

  /** Performance per watt: FLOP/J when the workload does FLOPs, else tokens/J, else NaN. */
  public double perfPerWatt() {
    if (!(energy.joules() > 0)) {
      return Double.NaN;
    }
    if (result.flops() > 0) {
      return result.flops() / energy.joules();
    }
    return result.tokens() > 0 ? result.tokens() / energy.joules() : Double.NaN;
  }

  /** The unit of {@link #perfPerWatt()}: {@code flop/J}, {@code tokens/J} or {@code -}. */
  public String perfPerWattUnit() {
    return result.flops() > 0 ? "flop/J" : result.tokens() > 0 ? "tokens/J" : "-";
  }

  /** Rental cost of the one chip for the workload's time; NaN when the config has no price. */
  public double costUsd() {
    return operating.costUsd(result.timeSeconds());
  }
}
