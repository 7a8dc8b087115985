package trnsim.core.config;

import trnsim.core.config.unit.Bandwidth;
import trnsim.core.config.unit.DataSize;
import trnsim.core.config.unit.TimeSpan;

/**
 * A core's DMA queues (one hardware DMA engine each).
 *
 * <p>A transfer passes through two pipelined stages: descriptor processing ({@code descriptorCost},
 * one transfer at a time per queue) and data movement at up to {@code queueBandwidth} (shared with
 * every other transfer touching HBM). Completion is visible {@code latency} after the last byte.
 *
 * <p>{@code minBytesPerQueue} (optional) is how the toolchain spreads one DMA over the queues: over
 * as many queues as keep each queue's share at least this size (absent: one queue per group of
 * partitions, all queues for a full-partition tile). The lowerings that model a specific compiler
 * read it; see docs/model.md, "NKI matmul tutorial kernels and the DMA transfer model".
 *
 * @param queueBandwidth one queue's data rate for a transfer between two device-memory (HBM)
 *     locations (copies, collective rings)
 * @param sbufBandwidth one queue's data rate when one end of the transfer is on chip (SBUF or PSUM):
 *     kernels' loads and stores; absent means {@code queueBandwidth} (docs/model.md, "LLM inference as
 *     deployed")
 */
public record DmaSpec(Integer queues, Bandwidth queueBandwidth, TimeSpan descriptorCost, TimeSpan latency,
    DataSize minBytesPerQueue, Bandwidth sbufBandwidth) {
  public DmaSpec {
    Require.positive(queues, "queues");
    Require.present(queueBandwidth, "queue_bandwidth");
    Require.present(descriptorCost, "descriptor_cost");
    if (latency == null) {
      latency = TimeSpan.ZERO;
    }
    if (sbufBandwidth == null) {
      sbufBandwidth = queueBandwidth;
    }
  }

  /** Backwards-compatible form: no minimum share per queue. */
  public DmaSpec(Integer queues, Bandwidth queueBandwidth, TimeSpan descriptorCost, TimeSpan latency) {
    this(queues, queueBandwidth, descriptorCost, latency, null, null);
  }

  /** With a minimum share per queue, the on-chip rate equal to the queue rate. */
  public DmaSpec(Integer queues, Bandwidth queueBandwidth, TimeSpan descriptorCost, TimeSpan latency, DataSize minBytesPerQueue) {
    this(queues, queueBandwidth, descriptorCost, latency, minBytesPerQueue, null);
  }

  /** {@link #minBytesPerQueue} in bytes, 0 when absent. */
  public long minBytesPerQueueOrZero() {
    return minBytesPerQueue == null ? 0 : minBytesPerQueue.bytes();
  }
}
