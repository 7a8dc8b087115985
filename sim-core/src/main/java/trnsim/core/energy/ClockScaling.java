package trnsim.core.energy;

import trnsim.core.config.ChipSpec;
import trnsim.core.config.CoreSpec;
import trnsim.core.config.EngineSpec;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.TensorEngineSpec;
import trnsim.core.config.unit.Frequency;

/**
 * Derives hardware specs with scaled compute clocks (specs are immutable records, so this builds
 * new ones). Only the four compute engines' clocks change; HBM, DMA bandwidth and links are on
 * their own clocks and keep their speed, which is why memory-bound kernels barely slow down when
 * a power limit lowers the core clock.
 */
public final class ClockScaling {
  private ClockScaling() {}

  /**
   * A copy of {@code hw} whose tensor, vector, scalar and gpsimd clocks are multiplied by
   * {@code factor} (rounded to the hertz).
   */
  public static HardwareSpec scaleEngineClocks(HardwareSpec hw, double factor) {
    if (!(factor > 0) || Double.isInfinite(factor)) {
      throw new IllegalArgumentException("clock factor must be positive and finite: " + factor);
    }
    if (factor == 1.0) {
      return hw;
    }
    CoreSpec c = hw.chip().core();
    TensorEngineSpec t = c.tensor();
    TensorEngineSpec t2 = new TensorEngineSpec(t.type(), t.dataflow(), t.rows(), t.cols(), scale(t.clock(), factor),
        t.minMatmulCycles(), t.maxMovingFree(), t.latencyCycles(), t.dtypeRates());
    CoreSpec c2 = new CoreSpec(t2, scale(c.vector(), factor), scale(c.scalar(), factor), scale(c.gpsimd(), factor),
        c.sbuf(), c.psum(), c.dma(), c.launchOverhead());
    ChipSpec chip = hw.chip();
    ChipSpec chip2 = new ChipSpec(chip.cores(), c2, chip.hbm(), chip.l2(), chip.power(), chip.lnc(),
        chip.collectives());
    return new HardwareSpec(hw.name(), hw.description(), chip2, hw.system(), hw.runtime(), hw.projection());
  }

  /** The tensor engine clock in GHz. */
  public static double tensorClockGhz(HardwareSpec hw) {
    return hw.chip().core().tensor().clock().gigahertz();
  }

  private static EngineSpec scale(EngineSpec e, double f) {
    return new EngineSpec(scale(e.clock(), f), e.lanes(), e.minIiCycles(), e.startCycles(), e.latencyCycles(),
        e.unary16Rate(), e.binary16Rate(), e.unary32Rate(), e.binary32Rate(), e.maxSbufFreeElements(),
        e.maxPsumFreeElements());
  }

  private static Frequency scale(Frequency f, double factor) {
    return Frequency.ofHertz(Math.max(1L, Math.round(f.hertz() * factor)));
  }
}
