package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The dependency-driven 1F1B schedule against the textbook bubble fraction. */
class Pipeline1F1BTest {
  @Test
  void balancedStagesGiveTheTextbookBubble() {
    for (int p : new int[] {1, 2, 4, 8}) {
      for (int m : new int[] {1, 3, 8, 32}) {
        double[] f = new double[p];
        double[] b = new double[p];
        Arrays.fill(f, 1.0);
        Arrays.fill(b, 2.0);
        var s = Pipeline1F1B.run(f, b, m, 0);
        assertThat(s.seconds()).as("p=%d m=%d", p, m).isCloseTo((m + p - 1) * 3.0, within(1e-9));
        assertThat(s.bubbleFraction()).isCloseTo((p - 1.0) / (m + p - 1), within(1e-9));
      }
    }
  }

  @Test
  void transfersAndASlowStageOnlyLengthenTheStep() {
    double[] f = {1, 1, 1, 1};
    double[] b = {2, 2, 2, 2};
    double base = Pipeline1F1B.run(f, b, 8, 0).seconds();
    assertThat(Pipeline1F1B.run(f, b, 8, 0.1).seconds()).isGreaterThan(base);
    double[] slow = {1, 1, 1, 2};
    // A stage twice as slow forward bounds the pipeline: at least m x its busy time.
    assertThat(Pipeline1F1B.run(slow, b, 8, 0).seconds()).isGreaterThanOrEqualTo(8 * 4.0);
  }
}
