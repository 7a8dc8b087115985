package trnsim.core.config;

import trnsim.core.config.unit.Bandwidth;

/**
 * A shared on-chip cache between the cores and HBM (a GPU's L2; a what-if for future Trainium
 * designs), simulated as a reuse filter (docs/model.md, "Shared on-chip cache (L2)"): re-reads of a
 * kernel's operands are hits served at {@code bandwidth}. The filter has no capacity (no capacity
 * misses), so a cache size is not a key: {@code chip.l2.size} is refused as read by no model.
 */
public record CacheSpec(Bandwidth bandwidth) {
  public CacheSpec {
    Require.present(bandwidth, "bandwidth");
  }
}
