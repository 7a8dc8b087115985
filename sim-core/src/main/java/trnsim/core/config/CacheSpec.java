package trnsim.core.config;

import trnsim.core.config.unit.Bandwidth;
import trnsim.core.config.unit.DataSize;

/**
 * A shared on-chip cache between the cores and HBM (a GPU's L2; a what-if for future Trainium
 * designs). Modelled by capacity: a working set that fits is served at {@code bandwidth}.
 */
public record CacheSpec(DataSize size, Bandwidth bandwidth) {
  public CacheSpec {
    Require.present(size, "size");
    Require.present(bandwidth, "bandwidth");
  }
}
