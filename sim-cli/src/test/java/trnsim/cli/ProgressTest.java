package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProgressTest {
  @Test
  void offWhenNotRequestedOrNotATerminal() {
    assertThat(Progress.wanted(false)).isFalse();
    // Under the test runner stderr is a pipe, not a terminal.
    assertThat(Progress.stderrIsTerminal()).isFalse();
    assertThat(Progress.wanted(true)).isFalse();
    try (Progress p = Progress.start(true, "t", 3, 1)) {
      p.step();
    }
  }
}
