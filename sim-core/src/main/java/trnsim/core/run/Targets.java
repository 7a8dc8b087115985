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

  /**
   * The target with its clock zeroed: lowering reads the target's shapes, buffers and queues, not
   * its clock, so runs at other clocks (the power limiter's) can share what was lowered for one.
   */
  public static TargetSpec withoutClock(TargetSpec t) {
    return new TargetSpec(t.name(), t.cores(), t.partitions(), t.peRows(), t.peCols(), t.maxMovingFree(),
        t.dtypeRates(), t.sbufBytesPerPartition(), t.psumBytesPerPartition(), t.psumBanks(), t.dmaQueues(),
        t.hbmCapacityBytes(), 0, t.hbmBytesPerSecond(), t.dmaQueueBytesPerSecond(), t.dmaMinBytesPerQueue());
  }
}
