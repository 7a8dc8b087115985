package trnsim.core.config;

import trnsim.core.config.unit.Bandwidth;
import trnsim.core.config.unit.TimeSpan;

/** A point-to-point link: bandwidth per direction and latency per hop. */
public record LinkSpec(Bandwidth bandwidth, TimeSpan latency) {
  public LinkSpec {
    Require.present(bandwidth, "bandwidth");
    if (latency == null) {
      latency = TimeSpan.ZERO;
    }
  }
}
