package trnsim.isa.lower;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import trnsim.isa.DType;

/**
 * Rows too long for SBUF even split over all partitions (softmax over Llama-3's 128,256-entry vocabulary on the
 * H100-like target) lower as two passes: the row kernel over column chunks and a rescale pass. Every buffer fits
 * the target, and the passes move the tensor four times (read + write each), the bytes the composition claims.
 */
class LongRowLoweringTest {
  @Test
  void vocabularySoftmaxOnTheSmallTargetIsTwoPassesThatFit() {
    long rows = 2048;
    long cols = 128256;
    LoweredWorkload w = SmallSbufLoweringTest.lower(SmallSbufLoweringTest.H, "softmax:rows=" + rows + ",cols=" + cols);
    assertThat(w.steps()).extracting(Step::label).containsExactly("softmax_chunks", "softmax_rescale");
    long bytes = 0;
    for (Step s : w.steps()) {
      SmallSbufLoweringTest.assertFits(SmallSbufLoweringTest.H, s.program());
      bytes += s.program().hbmBytesMin() * s.repeat();
    }
    long data = DType.BF16.bytes(rows * cols);
    // chunks are whole columns: the padded tail of the last chunk of a row adds at most a chunk's width per row
    assertThat((double) bytes).isBetween(4.0 * data, 4.0 * data * 1.01);
  }

  @Test
  void rowsThatFitKeepTheOnePassKernel() {
    LoweredWorkload w = SmallSbufLoweringTest.lower(SmallSbufLoweringTest.H, "softmax:rows=2048,cols=32768");
    assertThat(w.steps()).hasSize(1);
    assertThat(w.steps().get(0).program().hbmBytesMin()).isEqualTo(2 * DType.BF16.bytes(2048L * 32768));
  }
}
