package trnsim.isa;

/**
 * A statically allocated on-chip buffer (as NKI kernels allocate SBUF/PSUM tiles). The simulator
 * checks that a core's buffers fit its SBUF and PSUM and reports their total as peak occupancy.
 */
public record Buffer(MemSpace space, String name, int partitions, long bytesPerPartition) {
  public Buffer {
    if (partitions <= 0 || bytesPerPartition <= 0) {
      throw new ProgramException("buffer '" + name + "' must have a positive size: " + partitions + " x " + bytesPerPartition + " B");
    }
  }
}
