package trnsim.cli;

import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Runs a sweep's points somewhere and hands each finished row back to the driver. Every engine calls
 * the same per-point function ({@link SweepPointRunner#run}), so rows are byte-identical whichever
 * engine ran them; the driver alone writes the resumable JSONL, CSV and charts. {@code local} (a
 * thread pool in this JVM) is built in; others (the Spark engine of module sim-spark) are found on
 * the class path with {@link ServiceLoader}.
 */
public interface SweepEngine {
  /** The {@code --engine} value that selects this engine. */
  String name();

  /**
   * Runs {@code points} and calls {@code sink} once per point with its outcome (its row: a result or
   * an error row). Calls to {@code sink} may come from any thread but never concurrently.
   */
  void run(SweepJob job, List<SweepPoint> points, Options options, RowSink sink);

  /** The driver's side of an engine: receives finished rows. */
  @FunctionalInterface
  interface RowSink {
    void accept(SweepPoint point, SweepOutcome outcome);
  }

  /**
   * Engine settings from the command line: local threads; a cluster's master URL, task count
   * ({@code null}: the engine chooses) and extra configuration.
   */
  record Options(int threads, String master, Integer tasks, Map<String, String> conf) {
    public Options {
      conf = Map.copyOf(conf);
    }
  }

  /** The engine named {@code name} among those on the class path, or a one-line error saying how to get it. */
  static SweepEngine find(String name) {
    for (SweepEngine e : ServiceLoader.load(SweepEngine.class, SweepEngine.class.getClassLoader())) {
      if (e.name().equals(name)) {
        return e;
      }
    }
    throw new UserInputException("--engine = '" + name + "': the " + name + " engine is not on the class path; "
        + "run sweeps through ./trnsim, which builds and starts sim-spark/target/trnsim-spark.jar for --engine spark "
        + "(or build it: mvn -pl sim-spark -am package)");
  }
}
