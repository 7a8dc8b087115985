package trnsim.cli;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** The default engine: a fixed pool of {@code --threads} in this JVM, rows handed back as they finish. */
final class LocalSweepEngine implements SweepEngine {
  private final SweepPointRunner runner;

  LocalSweepEngine(SweepPointRunner runner) {
    this.runner = runner;
  }

  @Override
  public String name() {
    return "local";
  }

  @Override
  public void run(SweepJob job, List<SweepPoint> points, Options options, RowSink sink) {
    if (points.isEmpty()) {
      return;
    }
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(options.threads(), points.size()), r -> {
      Thread t = new Thread(r, "trnsim-sweep");
      t.setDaemon(true);
      return t;
    });
    ExecutorCompletionService<SweepOutcome> done = new ExecutorCompletionService<>(pool);
    Map<Future<SweepOutcome>, SweepPoint> futures = new HashMap<>();
    try {
      for (SweepPoint p : points) {
        futures.put(done.submit(() -> runner.run(p)), p);
      }
      for (int i = 0; i < points.size(); i++) {
        Future<SweepOutcome> f = done.take();
        sink.accept(futures.get(f), f.get());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserInputException("sweep interrupted; re-run the same command to resume");
    } catch (ExecutionException e) {
      // run() turns every fault of a point into an error row; what reaches here is a JVM error.
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }
}
