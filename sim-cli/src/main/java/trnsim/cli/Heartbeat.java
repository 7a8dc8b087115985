package trnsim.cli;

import java.io.PrintWriter;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A progress line on stderr for a command that runs longer than {@link #DELAY_MS}: "trnsim: still
 * simulating ... (N s)", rewritten in place every second and erased when the command ends. Shown
 * only for people, under the same rule as the sweep's progress bar ({@link Progress#wanted}): never
 * when stderr is not a terminal or {@code CI=true}, so logs, pipes and tests see nothing. It reads
 * the wall clock in the command line, never in the model.
 */
final class Heartbeat implements AutoCloseable {
  static final long DELAY_MS = 2000;
  private final ScheduledExecutorService timer;
  private final PrintWriter err;
  private volatile boolean printed;

  private Heartbeat(PrintWriter err, String what, long delayMs, long periodMs) {
    this.err = err;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "trnsim-heartbeat");
      t.setDaemon(true);
      return t;
    });
    long start = System.nanoTime();
    timer.scheduleAtFixedRate(() -> {
      long s = (System.nanoTime() - start) / 1_000_000_000L;
      synchronized (err) {
        err.print("\rtrnsim: still simulating " + what + " (" + s + " s)");
        err.flush();
      }
      printed = true;
    }, delayMs, periodMs, TimeUnit.MILLISECONDS);
  }

  /** Starts the heartbeat when stderr is a terminal (and not CI); otherwise a no-op. */
  static AutoCloseable start(PrintWriter err, String what) {
    return Progress.wanted(true) ? new Heartbeat(err, what, DELAY_MS, 1000) : () -> {};
  }

  /** For tests: a heartbeat whatever the terminal, with its own delay. */
  static Heartbeat forced(PrintWriter err, String what, long delayMs, long periodMs) {
    return new Heartbeat(err, what, delayMs, periodMs);
  }

  @Override
  public void close() {
    timer.shutdownNow();
    try {
      timer.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (printed) {
      synchronized (err) {
        // Erase the line so the report (or an error) starts on a clean line.
        err.print("\r\u001b[2K");
        err.flush();
      }
    }
  }
}
