package trnsim.core.config;

import trnsim.core.config.unit.Bandwidth;
import trnsim.core.config.unit.TimeSpan;

/**
 * A core's DMA queues (one hardware DMA engine each).
 *
 * <p>A transfer passes through two pipelined stages: descriptor processing ({@code descriptorCost},
 * one transfer at a time per queue) and data movement at up to {@code queueBandwidth} (shared with
 * every other transfer touching HBM). Completion is visible {@code latency} after the last byte.
 *
 * @param queueBandwidth one queue's data rate for a transfer between two device-memory (HBM)
 *     locations (copies, collective rings)
 * @param sbufBandwidth one queue's data rate when one end of the transfer is on-chip (SBUF or PSUM):
 *     loads and stores of kernels; absent means {@code queueBandwidth}
 */
public record DmaSpec(Integer queues, Bandwidth queueBandwidth, TimeSpan descriptorCost, TimeSpan latency, Bandwidth sbufBandwidth) {
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

  public DmaSpec(Integer queues, Bandwidth queueBandwidth, TimeSpan descriptorCost, TimeSpan latency) {
    this(queues, queueBandwidth, descriptorCost, latency, null);
  }
}
