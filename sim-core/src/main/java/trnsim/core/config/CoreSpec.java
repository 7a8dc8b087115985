package trnsim.core.config;

import trnsim.core.config.unit.TimeSpan;

/**
 * One NeuronCore: four compute engines, two on-chip scratchpads and a set of DMA queues.
 * {@code launchOverhead} is the fixed start-up and tear-down time of one kernel launch (one NEFF
 * execution) on the core, charged once per workload run from a workload string (absent: zero).
 */
public record CoreSpec(
    TensorEngineSpec tensor,
    EngineSpec vector,
    EngineSpec scalar,
    EngineSpec gpsimd,
    SbufSpec sbuf,
    PsumSpec psum,
    DmaSpec dma,
    TimeSpan launchOverhead) {
  public CoreSpec {
    Require.present(tensor, "tensor");
    Require.present(vector, "vector");
    Require.present(scalar, "scalar");
    Require.present(gpsimd, "gpsimd");
    Require.present(sbuf, "sbuf");
    Require.present(psum, "psum");
    Require.present(dma, "dma");
    if (launchOverhead == null) {
      launchOverhead = TimeSpan.ZERO;
    }
  }
}
