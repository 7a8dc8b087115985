package trnsim.core.config;

/**
 * One accelerator chip: identical cores sharing the chip's HBM.
 *
 * @param cores physical NeuronCores (or SMs for a GPU template) per chip
 * @param core the per-core design
 * @param hbm the chip's device memory, shared by all cores
 * @param l2 optional shared on-chip cache in front of HBM (null when the chip has none)
 * @param power power envelope (optional until the energy model needs it)
 */
public record ChipSpec(Integer cores, CoreSpec core, HbmSpec hbm, CacheSpec l2, PowerSpec power) {
  public ChipSpec {
    Require.positive(cores, "cores");
    Require.present(core, "core");
    Require.present(hbm, "hbm");
  }
}
