package trnsim.core.config;

import trnsim.core.config.unit.DataSize;

/** The state buffer: a software-managed scratchpad of {@code partitions} equal rows. */
public record SbufSpec(DataSize size, Integer partitions) {
  public SbufSpec {
    Require.present(size, "size");
    Require.positive(partitions, "partitions");
    if (size.bytes() % partitions != 0) {
      throw new ConfigFieldException("size", size, "must divide evenly into " + partitions + " partitions");
    }
  }

  public long bytesPerPartition() {
    return size.bytes() / partitions;
  }
}
