package trnsim.core.system;

import trnsim.core.config.ChipSpec;
import trnsim.core.config.CollectiveSpec;
import trnsim.core.config.HardwareSpec;

/**
 * The collective runtime's costs per rank, derived from a chip's {@code collectives:} block, its
 * DMA queues and HBM, and the rank layout: what {@link Fabric} and {@link Collectives} charge on top
 * of the links. {@link #bare()} is the bare link model (GPU configs, fabrics built from a system
 * alone): no launch, no per-transfer cost, no DMA, HBM or reduction limit.
 *
 * @param sizeBasedAlgorithms the current Neuron policy (mesh / RDH / KangaRing by size); false: ring
 *     inside a node, hierarchical across nodes (the 2023 runtime)
 * @param launchSeconds host cost of one standalone collective
 * @param transferOverheadSeconds cost of one DMA transfer (one per peer per step) on one DMA ring
 * @param dmaRings DMA rings per rank (rings per core x physical cores per rank)
 * @param ringBytesPerSecond one ring's bandwidth: the DMA queue's, at the HBM's sustained fraction
 *     (both ends of a collective transfer are in HBM)
 * @param packetBytes a transfer of S bytes is spread over at most ceil(S / packetBytes) rings
 * @param hbmBytesPerSecond the chip's sustained HBM bandwidth, shared by its ranks' transfers
 * @param reduceElementsPerSecond reduction throughput per rank, elements of any dtype per second
 * @param modelsDma whether transfers go through per-rank DMA rings and the chip's HBM
 * @param gatherSetupSeconds the part of {@code launchSeconds} that a standalone all-reduce spends
 *     setting up its all-gather half while its reduce-scatter half runs
 */
public record CollectiveCosts(boolean sizeBasedAlgorithms, double launchSeconds, double transferOverheadSeconds,
    int dmaRings, double ringBytesPerSecond, double packetBytes, double hbmBytesPerSecond,
    double reduceElementsPerSecond, boolean modelsDma, double gatherSetupSeconds) {
  private static final CollectiveCosts BARE = new CollectiveCosts(true, 0, 0, Integer.MAX_VALUE,
      Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, false, 0);

  /** Without a gather setup overlap (the whole launch before the first step). */
  public CollectiveCosts(boolean sizeBasedAlgorithms, double launchSeconds, double transferOverheadSeconds, int dmaRings,
      double ringBytesPerSecond, double packetBytes, double hbmBytesPerSecond, double reduceElementsPerSecond,
      boolean modelsDma) {
    this(sizeBasedAlgorithms, launchSeconds, transferOverheadSeconds, dmaRings, ringBytesPerSecond, packetBytes,
        hbmBytesPerSecond, reduceElementsPerSecond, modelsDma, 0);
  }

  /** The bare link model. */
  public static CollectiveCosts bare() {
    return BARE;
  }

  /** The costs of {@code hw}'s collective runtime with ranks laid out as {@code layout}; bare if it has none. */
  public static CollectiveCosts of(HardwareSpec hw, RankLayout layout) {
    ChipSpec chip = hw.chip();
    CollectiveSpec c = chip.collectives();
    if (c == null) {
      return BARE;
    }
    int coresPerRank = layout.lnc();
    double ring = chip.core().dma().queueBandwidth().bytesPerSecond() * chip.hbm().efficiency();
    return new CollectiveCosts(c.sizeBasedAlgorithms(), c.launch().seconds(), c.transferOverhead().seconds(),
        c.dmaRingsPerCore() * coresPerRank, ring, c.packet().bytes(), chip.hbm().sustainedBytesPerSecond(),
        c.reduceElementsPerNsPerCore() * 1e9 * coresPerRank, true, c.gatherSetup().seconds());
  }

  /** Rings one transfer of {@code bytes} spreads over: one per packet, at most the rank's rings. */
  public double flowBytesPerSecond(double bytes) {
    if (!modelsDma) {
      return Double.POSITIVE_INFINITY;
    }
    double packets = Math.max(1, Math.ceil(bytes / packetBytes));
    return Math.min(dmaRings, packets) * ringBytesPerSecond;
  }

  /** A rank's whole DMA bandwidth (all its rings). */
  public double rankBytesPerSecond() {
    return modelsDma ? dmaRings * ringBytesPerSecond : Double.POSITIVE_INFINITY;
  }

  /** Per-step cost of issuing {@code transfers} DMA transfers over the rank's rings. */
  public double issueSeconds(int transfers) {
    if (transfers == 0 || transferOverheadSeconds == 0) {
      return 0;
    }
    return Math.ceil(transfers / (double) dmaRings) * transferOverheadSeconds;
  }
}
