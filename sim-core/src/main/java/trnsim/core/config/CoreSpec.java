package trnsim.core.config;

/** One NeuronCore: four compute engines, two on-chip scratchpads and a set of DMA queues. */
public record CoreSpec(
    TensorEngineSpec tensor,
    EngineSpec vector,
    EngineSpec scalar,
    EngineSpec gpsimd,
    SbufSpec sbuf,
    PsumSpec psum,
    DmaSpec dma) {
  public CoreSpec {
    Require.present(tensor, "tensor");
    Require.present(vector, "vector");
    Require.present(scalar, "scalar");
    Require.present(gpsimd, "gpsimd");
    Require.present(sbuf, "sbuf");
    Require.present(psum, "psum");
    Require.present(dma, "dma");
  }
}
