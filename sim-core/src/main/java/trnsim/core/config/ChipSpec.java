package trnsim.core.config;

/**
 * One accelerator chip: identical cores sharing the chip's HBM.
 *
 * @param cores physical NeuronCores (or SMs for a GPU template) per chip
 * @param core the per-core design
 * @param hbm the chip's device memory, shared by all cores
 * @param l2 optional shared on-chip cache in front of HBM (null when the chip has none)
 * @param power power envelope (optional until the energy model needs it)
 * @param lnc default logical-core size: physical cores per collective rank (Neuron's LNC; a
 *     workload may override it). Absent means one rank per chip (a GPU is one rank).
 * @param collectives how the collective runtime runs on this chip (null: the bare link model)
 */
public record ChipSpec(Integer cores, CoreSpec core, HbmSpec hbm, CacheSpec l2, PowerSpec power, Integer lnc,
    CollectiveSpec collectives) {
  public ChipSpec {
    Require.positive(cores, "cores");
    lnc = lnc == null ? cores : Require.positive(lnc, "lnc");
    if (cores % lnc != 0) {
      throw new ConfigFieldException("lnc", lnc, "must divide cores (" + cores + ")");
    }
    Require.present(core, "core");
    Require.present(hbm, "hbm");
    if (collectives != null && collectives.dmaRingsPerCore() > core.dma().queues()) {
      throw new ConfigFieldException("collectives.dma_rings_per_core", collectives.dmaRingsPerCore(),
          "must not exceed the core's " + core.dma().queues() + " DMA queues");
    }
  }

  /** Backwards-compatible form: one rank per chip. */
  public ChipSpec(Integer cores, CoreSpec core, HbmSpec hbm, CacheSpec l2, PowerSpec power) {
    this(cores, core, hbm, l2, power, null, null);
  }

  /** Backwards-compatible form: no collective runtime (the bare link model). */
  public ChipSpec(Integer cores, CoreSpec core, HbmSpec hbm, CacheSpec l2, PowerSpec power, Integer lnc) {
    this(cores, core, hbm, l2, power, lnc, null);
  }
}
