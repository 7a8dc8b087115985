package trnsim.isa;

/** Where a tensor lives. */
public enum MemSpace {
  /** On-chip state buffer, partitioned into 128 rows. */
  SBUF,
  /** On-chip partial-sum buffer the tensor engine accumulates into. */
  PSUM,
  /** Device memory, shared by all cores of a chip. */
  HBM
}
