package trnsim.cli;

import java.io.Serializable;
import java.util.List;

/**
 * What every point of one sweep shares, in a form that travels: the distinct hardware variants as
 * merged config trees (compact JSON: extends resolved, {@code --set}s applied, so an executor needs
 * neither the hardware files nor the overrides), the name errors cite for them, the event budget,
 * and the driver's configs folder (energy tables and models, shipped by an engine that needs them).
 */
public record SweepJob(List<String> hardwareTrees, String hardwareOrigin, long maxEvents, String configsDir)
    implements Serializable {

  public SweepJob {
    hardwareTrees = List.copyOf(hardwareTrees);
  }
}
