package trnsim.core.config;

import java.util.Locale;
import trnsim.core.config.unit.DataSize;
import trnsim.core.config.unit.TimeSpan;

/**
 * How the accelerator's collective runtime runs a collective on this chip (the Neuron runtime on
 * Trainium). A chip without this block (a GPU config) gets the bare link model: no launch, no
 * per-transfer cost, no DMA or reduction limit.
 *
 * @param algorithms the runtime's algorithm policy: {@code ring} (Neuron collectives up to mid-2023:
 *     ring inside a node, hierarchical across nodes) or {@code neuron} (the current runtime: mesh,
 *     recursive halving/doubling or KangaRing by message size)
 * @param launch host-side cost of launching one standalone collective (nccom-test pays it once per
 *     collective; a collective inside a compiled graph does not)
 * @param transferOverhead cost of one DMA transfer of an algorithm step (descriptor, DMA start,
 *     semaphore hand-off to the peer), paid once per peer per step on each of the rank's DMA rings
 * @param dmaRingsPerCore DMA rings (one DMA engine each) a rank's collective traffic is spread over,
 *     per physical core of the rank
 * @param packet the collective DMA packet: a transfer of S bytes uses at most ceil(S / packet) rings
 * @param reduceElementsPerNsPerCore reduction throughput per physical core, in elements per
 *     nanosecond (= G elements/s) of any dtype (the reducing engine computes in fp32)
 * @param gatherSetup the part of a standalone all-reduce's {@code launch} that sets up its
 *     all-gather half and runs while its reduce-scatter half moves data (0: none; at most
 *     {@code launch})
 */
public record CollectiveSpec(String algorithms, TimeSpan launch, TimeSpan transferOverhead, Integer dmaRingsPerCore,
    DataSize packet, Double reduceElementsPerNsPerCore, TimeSpan gatherSetup) {
  public CollectiveSpec {
    Require.present(algorithms, "algorithms");
    algorithms = algorithms.toLowerCase(Locale.ROOT);
    if (!algorithms.equals("ring") && !algorithms.equals("neuron")) {
      throw new ConfigFieldException("algorithms", algorithms, "must be 'ring' or 'neuron'");
    }
    if (launch == null) {
      launch = TimeSpan.ZERO;
    }
    if (transferOverhead == null) {
      transferOverhead = TimeSpan.ZERO;
    }
    Require.positive(dmaRingsPerCore, "dma_rings_per_core");
    Require.present(packet, "packet");
    Require.positive(reduceElementsPerNsPerCore, "reduce_elements_per_ns_per_core");
    if (gatherSetup == null) {
      gatherSetup = TimeSpan.ZERO;
    }
    if (gatherSetup.seconds() > launch.seconds()) {
      throw new ConfigFieldException("gather_setup", gatherSetup, "must not exceed launch (" + launch + "): it is part of it");
    }
  }

  /** Without a gather setup overlap (the whole launch before the first step). */
  public CollectiveSpec(String algorithms, TimeSpan launch, TimeSpan transferOverhead, Integer dmaRingsPerCore,
      DataSize packet, Double reduceElementsPerNsPerCore) {
    this(algorithms, launch, transferOverhead, dmaRingsPerCore, packet, reduceElementsPerNsPerCore, null);
  }

  /** True for the size-based policy of the current Neuron runtime (mesh, RDH, KangaRing). */
  public boolean sizeBasedAlgorithms() {
    return algorithms.equals("neuron");
  }
}
