package trnsim.isa.lower;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import trnsim.isa.DType;

/**
 * Sliding-window causal attention as block-sparse work: its query-key pairs against the exact count
 * (query p attends min(p + 1, W) keys), summed here by brute force.
 */
class SlidingWindowTest {
  @ParameterizedTest
  @CsvSource({"8192, 128", "8192, 4096", "4096, 1000", "2048, 2048", "2048, 4096"})
  void windowedPairsMatchTheExactCount(long s, long w) {
    AttentionSpec full = new AttentionSpec(2, 8, s, s, 64, 2, true, DType.BF16);
    AttentionSpec win = full.windowed(w);
    double exact = 0;
    for (long p = 0; p < s; p++) {
      exact += Math.min(p + 1, w);
    }
    double pairs = win.forwardFlops() / (4.0 * 2 * 8 * 64);
    if (w >= s) {
      assertThat(win).isEqualTo(full);
    } else {
      assertThat(pairs).isCloseTo(exact, within(0.01 * exact));
      assertThat(win.s() * (win.b() / full.b())).isBetween(s, s + win.b() / full.b()); // every query once (to the chunks' rounding)
    }
    assertThat(win.forwardFlops()).isLessThanOrEqualTo(full.forwardFlops());
  }
}
