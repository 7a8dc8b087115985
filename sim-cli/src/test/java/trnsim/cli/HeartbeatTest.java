package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The progress line for long runs: printed after its delay, erased at the end, absent for short runs. */
class HeartbeatTest {
  @Test
  void aLongRunGetsAProgressLineThatIsErasedAndAShortRunGetsNone() throws Exception {
    StringWriter sw = new StringWriter();
    try (Heartbeat h = Heartbeat.forced(new PrintWriter(sw), "gemm on trn2", 50, 20)) {
      Thread.sleep(400);
    }
    assertThat(sw.toString()).startsWith("\rtrnsim: still simulating gemm on trn2 (0 s)").endsWith("\r\u001b[2K");
    StringWriter quiet = new StringWriter();
    try (Heartbeat h = Heartbeat.forced(new PrintWriter(quiet), "x", 10_000, 1000)) {
      // finishes before the delay
    }
    assertThat(quiet.toString()).isEmpty();
    // Tests do not run on a terminal: the command line prints nothing of the kind.
    assertThat(CliHarness.run("run", "-H", "trn2", "-w", "copy:bytes=1MiB").err()).isEmpty();
  }
}
