package trnsim.core.config;

import trnsim.core.config.unit.Bandwidth;
import trnsim.core.config.unit.DataSize;

/**
 * Device memory shared by every core of a chip.
 *
 * @param efficiency the fraction of {@code bandwidth} that streaming transfers can sustain (refresh,
 *     bank conflicts and read/write turnaround are folded into this one number)
 *
 * <p>There is no separate HBM latency: each configuration's per-transfer DMA latency
 * ({@code chip.core.dma.latency}) is fitted to measured transfer times that include the memory's
 * first access, so a second latency here would count it twice. (A {@code chip.hbm.latency} key was
 * once accepted and read by no model; it is now an unknown key.)
 */
public record HbmSpec(DataSize capacity, Bandwidth bandwidth, Double efficiency) {
  public HbmSpec {
    Require.present(capacity, "capacity");
    Require.present(bandwidth, "bandwidth");
    efficiency = Require.fraction(efficiency, 1.0, "efficiency");
  }

  public double sustainedBytesPerSecond() {
    return bandwidth.bytesPerSecond() * efficiency;
  }
}
