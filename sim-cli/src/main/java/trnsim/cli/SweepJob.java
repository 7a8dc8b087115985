package trnsim.cli;

import java.io.Serializable;
import java.util.List;

/**
 * What every point of one sweep shares, in a form that travels: the distinct hardware variants as
 * merged config trees (compact JSON: extends resolved, {@code --set}s applied, so an executor needs
 * neither the hardware files nor the overrides), the name errors cite for them, the event budget,
 * the driver's configs folder (energy tables and models, shipped by an engine that needs them), and
 * whether each point's statistics come back too (for {@code --outdir}).
 */
public record SweepJob(List<String> hardwareTrees, String hardwareOrigin, long maxEvents, String configsDir,
    boolean withStats)
    implements Serializable {

  public SweepJob {
    hardwareTrees = List.copyOf(hardwareTrees);
  }
}
