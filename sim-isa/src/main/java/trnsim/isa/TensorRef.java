package trnsim.isa;

/**
 * The operand of an instruction: a tile of {@code partitions} rows by {@code free} elements per row
 * in one memory space. The timing model needs shapes and types, not data or addresses.
 *
 * @param space where the tile lives
 * @param partitions rows (the partition dimension, at most 128 on Trainium)
 * @param free elements per partition (the free dimension)
 * @param dtype element type
 */
public record TensorRef(MemSpace space, int partitions, long free, DType dtype) {
  public TensorRef {
    if (space == null || dtype == null) {
      throw new IllegalArgumentException("tensor needs a memory space and a dtype");
    }
    if (partitions <= 0 || free <= 0) {
      throw new IllegalArgumentException("tensor shape must be positive: " + partitions + " x " + free);
    }
  }

  public static TensorRef sbuf(int partitions, long free, DType dtype) {
    return new TensorRef(MemSpace.SBUF, partitions, free, dtype);
  }

  public static TensorRef psum(int partitions, long free, DType dtype) {
    return new TensorRef(MemSpace.PSUM, partitions, free, dtype);
  }

  public static TensorRef hbm(int partitions, long free, DType dtype) {
    return new TensorRef(MemSpace.HBM, partitions, free, dtype);
  }

  public long elements() {
    return (long) partitions * free;
  }

  public long bytes() {
    return dtype.bytes(elements());
  }

  public long bytesPerPartition() {
    return dtype.bytes(free);
  }

  @Override
  public String toString() {
    return space.name().toLowerCase(java.util.Locale.ROOT) + "[" + partitions + "x" + free + "]" + dtype.label();
  }
}
