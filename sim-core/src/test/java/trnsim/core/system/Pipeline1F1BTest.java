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

  @Test
  void twoUnequalStagesFollowTheirClosedForm() {
    // Last stage the bottleneck with slack for the transfers (a + b + 2t <= c + d): it never waits after its first
    // forward, so T = a + t + m (c + d) + t + b. First stage the bottleneck with its backward covering the round trip
    // (b >= c + d + 2t and a >= c + d + 2t): it never waits, so T = m (a + b).
    double t = 0.25;
    for (int m : new int[] {1, 2, 5, 16}) {
      var lastSlow = Pipeline1F1B.run(new double[] {1, 3}, new double[] {2, 6}, m, new double[] {t});
      assertThat(lastSlow.seconds()).as("m=%d", m).isCloseTo(m * 9.0 + 3 + 2 * t, within(1e-9));
      var firstSlow = Pipeline1F1B.run(new double[] {4, 1}, new double[] {8, 2}, m, new double[] {t});
      assertThat(firstSlow.seconds()).as("m=%d", m).isCloseTo(m * 12.0 + (m == 1 ? 3 + 2 * t : 0), within(1e-9));
    }
  }

  @Test
  void oneTransferPerBoundaryEqualsTheUniformTransfer() {
    double[] f = {1, 2, 1};
    double[] b = {2, 3, 2};
    assertThat(Pipeline1F1B.run(f, b, 6, new double[] {0.3, 0.3}).seconds()).isEqualTo(Pipeline1F1B.run(f, b, 6, 0.3).seconds());
    assertThat(Pipeline1F1B.run(f, b, 6, new double[] {0.3, 0.9}).seconds()).isGreaterThan(Pipeline1F1B.run(f, b, 6, 0.3).seconds());
  }
}
