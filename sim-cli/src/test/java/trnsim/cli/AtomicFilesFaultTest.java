package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk that fills up part-way through an output (a trace, a CSV, a chart): the write fails with
 * the device's reason, the file already at the path (an earlier run's trace) is untouched, and no
 * partial or temporary file is left beside it. The full disk is injected at the writer (the test JVM
 * has no full file system to write to), after part of the content went out.
 */
class AtomicFilesFaultTest {
  @TempDir
  Path tmp;

  @Test
  void aDiskFullMidWriteKeepsTheEarlierFileAndLeavesNothingBehind() throws Exception {
    Path trace = tmp.resolve("trace.json");
    Files.writeString(trace, "{\"earlier\": true}\n");
    assertThatThrownBy(() -> AtomicFiles.write(trace, w -> {
      w.write("{\"traceEvents\": [");
      w.flush();
      throw new java.nio.file.FileSystemException(trace + ".tmp", null, "No space left on device");
    })).isInstanceOf(UncheckedIOException.class).hasMessageContaining("cannot write " + trace)
        .hasMessageContaining("No space left on device").hasMessageNotContaining(".tmp");
    assertThat(Files.readString(trace)).isEqualTo("{\"earlier\": true}\n");
    try (var files = Files.list(tmp)) {
      assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("trace.json");
    }
  }

  @Test
  void aDiskFullOnANewFileLeavesNoFile() {
    Path csv = tmp.resolve("out.csv");
    assertThatThrownBy(() -> AtomicFiles.write(csv, w -> {
      w.write("a,b\n");
      throw new IOException("No space left on device");
    })).isInstanceOf(UncheckedIOException.class);
    assertThat(Files.exists(csv)).isFalse();
  }
}
