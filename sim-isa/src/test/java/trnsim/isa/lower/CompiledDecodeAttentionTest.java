package trnsim.isa.lower;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import trnsim.isa.DType;
import trnsim.isa.MemSpace;
import trnsim.isa.Program;
import trnsim.isa.target.TargetSpec;

/**
 * The compiled decode attention's V buffer: V is an input of the graph, so its loads fill whatever SBUF
 * the softmax (the kernel they overlap) and the values kernel's own tiles leave. Sizes are computed here
 * from the shapes (bf16, keys on partitions, 2048-key DMAs), not read from the lowering.
 */
class CompiledDecodeAttentionTest {
  static final TargetSpec T = KernelLoweringTest.T;

  static long sbuf(Program p) {
    return p.cores().get(0).allocatedBytesPerPartition(MemSpace.SBUF);
  }

  /** One rank of Llama-3-8B at tp=32: one query head over one kv head of 128, {@code batch} sequences. */
  static CompiledDecodeAttention.Shape rank(long batch, long span) {
    return new CompiledDecodeAttention.Shape(batch, 1, 1, 128, span, DType.BF16);
  }

  /** Bytes per partition of the values kernel's P, P^T and O^T tiles for {@code rows <= 128} rows. */
  static long ownTiles(long rows, long span) {
    return 2 * span + 2 * (span / 128) * rows + 4 * rows;
  }

  @Test
  void theWholeVOfTheSpanIsBufferedWhenItFitsBesideTheSoftmax() {
    for (long batch : new long[] {1, 2, 8}) {
      var a = rank(batch, 8192);
      // V of every sequence: 8192 keys over 128 partitions x 128 wide x 2 B = 16 KiB per partition per sequence
      long wholeV = batch * 8192 / 128 * 128 * 2;
      assertThat(sbuf(CompiledDecodeAttention.values(T, a))).as("batch %d", batch).isEqualTo(ownTiles(batch, 8192) + wholeV);
      assertThat(sbuf(CompiledDecodeAttention.softmax(T, a)) + sbuf(CompiledDecodeAttention.values(T, a)))
          .isLessThanOrEqualTo(T.sbufBytesPerPartition());
    }
  }

  /**
   * The softmax is one instruction per HLO op over all {@code batch x heads} rows at once (rows on
   * partitions), so its instruction count does not grow with the batch until the rows outgrow the 128
   * partitions. Per 128-row tile over c = span / 2048 chunks: c mask loads, c mask selects and c maxima,
   * one max of the maxima, c x (subtract, exp, select, sum, cast), one sum of the sums and one copy of
   * the statistics: 8c + 3 instructions.
   */
  @Test
  void theSoftmaxIsBatchedOverRowsOnPartitions() {
    long c = 8192 / 2048;
    for (long batch : new long[] {1, 8, 128}) {
      assertThat(CompiledDecodeAttention.softmax(T, rank(batch, 8192)).instructionCount()).as("batch %d", batch).isEqualTo(8 * c + 3);
    }
    assertThat(CompiledDecodeAttention.softmax(T, rank(256, 8192)).instructionCount()).isEqualTo(2 * (8 * c + 3));
  }

  @Test
  void aVLargerThanTheFreeSbufFillsItInWholeSlots() {
    // 32 sequences x 8192 keys: 512 KiB of V per partition, far above the 224 KiB partition
    var a = rank(32, 8192);
    long slot = 2048 / 128 * 128 * 2;
    long free = T.sbufBytesPerPartition() - sbuf(CompiledDecodeAttention.softmax(T, a)) - ownTiles(32, 8192);
    assertThat(sbuf(CompiledDecodeAttention.values(T, a))).isEqualTo(ownTiles(32, 8192) + free / slot * slot);
    // a span short enough that the old three-slot ring already held it is unchanged: 2 sequences x 2048 keys
    var small = rank(2, 2048);
    assertThat(sbuf(CompiledDecodeAttention.values(T, small))).isEqualTo(ownTiles(2, 2048) + 3 * slot);
  }
}
