package trnsim.core.config;

import trnsim.core.config.unit.DataSize;

/** The partial-sum buffer the matrix engine accumulates into, split into {@code banks}. */
public record PsumSpec(DataSize size, Integer partitions, Integer banks) {
  public PsumSpec {
    Require.present(size, "size");
    Require.positive(partitions, "partitions");
    Require.positive(banks, "banks");
    if (size.bytes() % ((long) partitions * banks) != 0) {
      throw new ConfigFieldException("size", size,
          "must divide evenly into " + partitions + " partitions x " + banks + " banks");
    }
  }

  public long bytesPerPartition() {
    return size.bytes() / partitions;
  }

  public long bankBytesPerPartition() {
    return bytesPerPartition() / banks;
  }
}
