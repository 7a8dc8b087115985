package trnsim.core.config;

import trnsim.core.config.unit.Bandwidth;
import trnsim.core.config.unit.DataSize;
import trnsim.core.config.unit.TimeSpan;

/**
 * Device memory shared by every core of a chip.
 *
 * @param efficiency the fraction of {@code bandwidth} that streaming transfers can sustain (refresh,
 *     bank conflicts and read/write turnaround are folded into this one number)
 */
public record HbmSpec(DataSize capacity, Bandwidth bandwidth, TimeSpan latency, Double efficiency) {
  public HbmSpec {
    Require.present(capacity, "capacity");
    Require.present(bandwidth, "bandwidth");
    if (latency == null) {
      latency = TimeSpan.ZERO;
    }
    efficiency = Require.fraction(efficiency, 1.0, "efficiency");
  }

  public double sustainedBytesPerSecond() {
    return bandwidth.bytesPerSecond() * efficiency;
  }
}
