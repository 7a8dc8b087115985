package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@code -v} shows the model's debug log on stderr (it enabled no logging before): the kernel and
 * tiling chosen, every candidate tiling, and each power-limiter simulation. Without {@code -v}
 * nothing is logged, and stdout holds only the report either way.
 */
class VerboseLoggingTest {
  /** Runs the command line with the process's stderr captured (where the log appender writes). */
  static String logOf(String... args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
    try {
      var r = CliHarness.run(args);
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(r.out()).doesNotContain("DEBUG");
    } finally {
      System.setErr(saved);
    }
    return log.toString(StandardCharsets.UTF_8);
  }

  @Test
  void verboseLogsKernelTilingAndLimiterAtDebugAndQuietLogsNothing() {
    String verbose = logOf("-v", "run", "-H", "trn2", "-w", "gemm:m=1024,k=1024,n=1024", "--set", "chip.power.limit=150W");
    assertThat(verbose).contains("DEBUG").contains("trn2 kernel gemm x1: ").contains("candidate blocked: cores ")
        .contains("power limiter: gemm");
    String subcommandFlag = logOf("run", "-v", "-H", "trn2", "-w", "gemm:m=512,k=512,n=512");
    assertThat(subcommandFlag).contains("trn2 kernel gemm x1: ");
    String quiet = logOf("run", "-H", "trn2", "-w", "gemm:m=1024,k=1024,n=1024", "--set", "chip.power.limit=150W");
    assertThat(quiet).doesNotContain("DEBUG");
  }
}
