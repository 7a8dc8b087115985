package trnsim.isa.target;

import java.util.Map;

/**
 * The hardware limits and rates an instruction stream can see, so lowering can choose tilings
 * without depending on the simulator. Built by {@code sim-core} from a hardware config.
 *
 * @param name hardware config name
 * @param cores cores per chip
 * @param partitions SBUF/PSUM partitions (128)
 * @param peRows tensor engine rows (contraction dimension per pass)
 * @param peCols tensor engine columns (stationary free size per instruction)
 * @param maxMovingFree largest moving free size of one matmul
 * @param dtypeRates tensor throughput per dtype rate key relative to bf16
 * @param sbufBytesPerPartition SBUF bytes in one partition
 * @param psumBytesPerPartition PSUM bytes in one partition
 * @param psumBanks PSUM banks (independent accumulation groups)
 * @param dmaQueues DMA queues per core
 * @param hbmCapacityBytes device memory per chip
 * @param tensorClockHz tensor engine clock
 * @param hbmBytesPerSecond sustained HBM bandwidth per chip
 * @param dmaQueueBytesPerSecond bandwidth of one DMA queue
 * @param dmaMinBytesPerQueue smallest share of one DMA the toolchain gives a queue (0: one queue
 *     per partition group, whatever the size)
 */
public record TargetSpec(
    String name,
    int cores,
    int partitions,
    int peRows,
    int peCols,
    int maxMovingFree,
    Map<String, Double> dtypeRates,
    long sbufBytesPerPartition,
    long psumBytesPerPartition,
    int psumBanks,
    int dmaQueues,
    long hbmCapacityBytes,
    double tensorClockHz,
    double hbmBytesPerSecond,
    double dmaQueueBytesPerSecond,
    long dmaMinBytesPerQueue) {

  public TargetSpec {
    dtypeRates = Map.copyOf(dtypeRates);
    if (dmaMinBytesPerQueue < 0) {
      throw new IllegalArgumentException("dmaMinBytesPerQueue must not be negative: " + dmaMinBytesPerQueue);
    }
  }

  /** Backwards-compatible form without a minimum DMA share per queue. */
  public TargetSpec(String name, int cores, int partitions, int peRows, int peCols, int maxMovingFree,
      Map<String, Double> dtypeRates, long sbufBytesPerPartition, long psumBytesPerPartition, int psumBanks,
      int dmaQueues, long hbmCapacityBytes, double tensorClockHz, double hbmBytesPerSecond, double dmaQueueBytesPerSecond) {
    this(name, cores, partitions, peRows, peCols, maxMovingFree, dtypeRates, sbufBytesPerPartition, psumBytesPerPartition,
        psumBanks, dmaQueues, hbmCapacityBytes, tensorClockHz, hbmBytesPerSecond, dmaQueueBytesPerSecond, 0);
  }

  public boolean supports(trnsim.isa.DType d) {
    return dtypeRates.containsKey(d.rateKey());
  }

  public double rate(trnsim.isa.DType d) {
    Double r = dtypeRates.get(d.rateKey());
    if (r == null) {
      throw new IllegalArgumentException(d.label() + " is not supported by " + name);
    }
    return r;
  }

  /** Contraction depth of one matmul instruction for dtype {@code d}: packed types fit more K. */
  public int kPerMatmul(trnsim.isa.DType d) {
    return (int) Math.round(peRows * Math.max(1.0, rate(d)));
  }

  /** Peak dense FLOP/s of one core for dtype {@code d}. */
  public double peakFlopsPerCore(trnsim.isa.DType d) {
    return 2.0 * peRows * peCols * tensorClockHz * rate(d);
  }

  public int psumBankFp32Elements() {
    return (int) (psumBytesPerPartition / psumBanks / 4);
  }
}
