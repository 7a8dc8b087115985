package trnsim.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on stderr, shown only for people: off with --no-progress, when there is no
 * terminal, or when {@code CI=true}. Everything else about a command is unaffected by it.
 */
final class Progress implements AutoCloseable {
  private final ProgressBar bar;

  private Progress(ProgressBar bar) {
    this.bar = bar;
  }

  static boolean wanted(boolean requested) {
    return requested && stderrIsTerminal() && !"true".equalsIgnoreCase(System.getenv("CI"));
  }

  /** Whether stderr is a terminal: on Linux from /proc (stdout may be redirected), else whether there is a console. */
  static boolean stderrIsTerminal() {
    java.nio.file.Path fd = java.nio.file.Path.of("/proc/self/fd/2");
    try {
      String target = java.nio.file.Files.readSymbolicLink(fd).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (java.io.IOException | UnsupportedOperationException | SecurityException e) {
      return System.console() != null;
    }
  }

  static Progress start(boolean requested, String task, long total, long done) {
    if (!wanted(requested)) {
      return new Progress(null);
    }
    ProgressBar b = new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(total)
        .setStyle(ProgressBarStyle.ASCII)
        .setConsumer(new ConsoleProgressBarConsumer(System.err))
        .setUpdateIntervalMillis(250)
        .showSpeed()
        .build();
    b.stepTo(done);
    return new Progress(b);
  }

  void step() {
    if (bar != null) {
      bar.step();
    }
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
