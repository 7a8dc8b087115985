package trnsim.core.system;

import trnsim.core.config.ChipSpec;
import trnsim.core.config.ConfigFieldException;

/**
 * How a chip's cores are grouped into collective ranks, as the Neuron runtime counts them: one rank
 * per logical NeuronCore of {@code lnc} physical cores (LNC=1 on Trn1; LNC=2 by default on Trn2 and
 * Trn3, A-LNC). A GPU config leaves {@code chip.lnc} unset, so one GPU is one rank. Tensor-parallel
 * degrees and collective group sizes are counted in ranks.
 *
 * @param coresPerChip physical cores per chip
 * @param lnc physical cores per rank; divides {@code coresPerChip}
 */
public record RankLayout(int coresPerChip, int lnc) {
  public RankLayout {
    if (lnc < 1 || coresPerChip % lnc != 0) {
      throw new ConfigFieldException("lnc", lnc, "must divide the chip's " + coresPerChip + " cores");
    }
  }

  /** The chip's default layout, or {@code lncOverride} when given (null: the chip's default). */
  public static RankLayout of(ChipSpec chip, Integer lncOverride) {
    return new RankLayout(chip.cores(), lncOverride != null ? lncOverride : chip.lnc());
  }

  public int ranksPerChip() {
    return coresPerChip / lnc;
  }

  /** Chips that hold {@code ranks} ranks (rounded up). */
  public int chipsFor(int ranks) {
    return (ranks + ranksPerChip() - 1) / ranksPerChip();
  }
}
