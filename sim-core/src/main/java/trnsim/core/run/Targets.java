package trnsim.core.run;

import trnsim.core.config.ChipSpec;
import trnsim.core.config.CoreSpec;
import trnsim.core.config.HardwareSpec;
import trnsim.isa.target.TargetSpec;

/** Maps a hardware config to the ISA-visible {@link TargetSpec} that lowering sees. */
public final class Targets {
  private Targets() {}

  public static TargetSpec of(HardwareSpec hw) {
    ChipSpec chip = hw.chip();
    CoreSpec c = chip.core();
    return new TargetSpec(
        hw.name(),
        chip.cores(),
        c.sbuf().partitions(),
        c.tensor().rows(),
        c.tensor().cols(),
        c.tensor().maxMovingFree(),
        c.tensor().dtypeRates(),
        c.sbuf().bytesPerPartition(),
        c.psum().bytesPerPartition(),
        c.psum().banks(),
        c.dma().queues(),
        chip.hbm().capacity().bytes(),
        c.tensor().clock().hertz(),
        chip.hbm().sustainedBytesPerSecond(),
        c.dma().queueBandwidth().bytesPerSecond(),
        c.dma().minBytesPerQueueOrZero());
  }
}
