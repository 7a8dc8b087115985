package trnsim.spark;

import java.io.Serializable;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;
import trnsim.cli.ConfigBundle;
import trnsim.cli.SweepEngine;
import trnsim.cli.SweepJob;
import trnsim.cli.SweepPoint;
import trnsim.cli.UserInputException;

/**
 * {@code --engine spark}: a sweep's points as one Spark job on plain RDDs (parallelize, one task per
 * contiguous slice of points in point order, rows back to the driver). Each task's rows reach the
 * driver's sink as soon as that task finishes, so a job stopped half-way keeps the finished tasks'
 * rows and the same command resumes. The job carries its configs: the hardware variants as merged
 * trees in the {@link SweepJob}, the configs folder as a {@link ConfigBundle}, both broadcast once;
 * executors need no checkout. Only the RDD core API is used, so the jar runs on any Spark 4 cluster
 * (standalone, YARN, Kubernetes) or in local mode without one.
 */
public final class SparkSweepEngine implements SweepEngine {
  /** Tasks per executor core by default: enough slack to balance uneven points, few enough that start-up stays small. */
  static final int TASKS_PER_CORE = 2;

  @Override
  public String name() {
    return "spark";
  }

  /** What every task receives once, through a broadcast. */
  record Shipment(SweepJob job, ConfigBundle configs) implements Serializable {}

  @Override
  public void run(SweepJob job, List<SweepPoint> points, Options options, RowSink sink) {
    if (points.isEmpty()) {
      return;
    }
    ConfigBundle configs = ConfigBundle.of(Path.of(job.configsDir()));
    SparkConf conf = conf(options);
    // A context that is already running (a test's, a notebook's) is used and left running.
    boolean ours = org.apache.spark.SparkContext$.MODULE$.getActive().isEmpty();
    SparkContext sc = start(conf, options);
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sc);
      int tasks = tasks(options, points.size(), sc.defaultParallelism());
      Broadcast<Shipment> shipment = jsc.broadcast(new Shipment(job, configs));
      JavaRDD<SweepPoint> rdd = jsc.parallelize(points, tasks);
      Map<Integer, SweepPoint> byIndex = new HashMap<>();
      for (SweepPoint p : points) {
        byIndex.put(p.index(), p);
      }
      @SuppressWarnings("unchecked")
      ClassTag<ArrayList<PointsTask.Row>> tag = (ClassTag<ArrayList<PointsTask.Row>>) (ClassTag<?>) ClassTag$.MODULE$.apply(ArrayList.class);
      sc.setJobDescription("trnsim sweep: " + points.size() + " points in " + tasks + " tasks");
      try {
        sc.runJob(rdd.rdd(), new PointsTask(shipment), new Handler(byIndex, sink), tag);
      } catch (Exception e) {
        if (e instanceof UserInputException u) {
          throw u;
        }
        throw new IllegalStateException("Spark job failed (the points of finished tasks are kept; re-run the same "
            + "command to resume): " + firstLine(e), e);
      }
      shipment.destroy();
    } finally {
      if (ours) {
        sc.stop();
      }
    }
  }

  /** {@code --tasks}, else two per executor core, never more than one per point. */
  static int tasks(Options options, int points, int defaultParallelism) {
    int wanted = options.tasks() != null ? options.tasks() : TASKS_PER_CORE * Math.max(1, defaultParallelism);
    return Math.max(1, Math.min(points, wanted));
  }

  /**
   * Spark settings: spark-submit's (system properties), then trnsim's defaults where unset, then
   * {@code --master} and {@code --spark-conf}, which win.
   */
  static SparkConf conf(Options options) {
    SparkConf conf = new SparkConf();
    conf.setIfMissing("spark.app.name", "trnsim sweep");
    if (options.master() != null) {
      conf.setMaster(options.master());
    }
    conf.setIfMissing("spark.master", "local[*]");
    // A sweep is one short job: no web UI unless asked for.
    conf.setIfMissing("spark.ui.enabled", "false");
    String master = conf.get("spark.master");
    if (master.startsWith("local") || master.startsWith("spark://127.0.0.1:") || master.startsWith("spark://localhost:")) {
      // Local mode and a loopback cluster stay on the loopback interface (no host name look-up, no
      // listening on the network).
      conf.setIfMissing("spark.driver.host", "127.0.0.1");
      conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
    }
    if (!master.startsWith("local") && !conf.contains("spark.jars")) {
      // Started without spark-submit (the launcher's in-process driver): executors fetch this jar from the driver.
      String jar = ownJar();
      if (jar != null) {
        conf.set("spark.jars", jar);
      }
    }
    for (var e : options.conf().entrySet()) {
      conf.set(e.getKey(), e.getValue());
    }
    return conf;
  }

  private static SparkContext start(SparkConf conf, Options options) {
    try {
      return SparkContext.getOrCreate(conf);
    } catch (RuntimeException e) {
      throw new UserInputException("--master = '" + conf.get("spark.master") + "': cannot start Spark: " + firstLine(e));
    }
  }

  /** The jar this class was loaded from, or null (classes folder in a build). */
  private static String ownJar() {
    try {
      var src = SparkSweepEngine.class.getProtectionDomain().getCodeSource();
      if (src == null) {
        return null;
      }
      Path p = Path.of(src.getLocation().toURI());
      return p.toString().endsWith(".jar") ? p.toString() : null;
    } catch (URISyntaxException | SecurityException e) {
      return null;
    }
  }

  static String firstLine(Throwable e) {
    Throwable root = e;
    String msg = e.getMessage();
    while ((msg == null || msg.isBlank()) && root.getCause() != null) {
      root = root.getCause();
      msg = root.getMessage();
    }
    if (msg == null) {
      return e.getClass().getName();
    }
    int nl = msg.indexOf('\n');
    return nl < 0 ? msg : msg.substring(0, nl);
  }

  /** On the driver: one call per finished task, rows in the task's point order. */
  private static final class Handler extends AbstractFunction2<Object, ArrayList<PointsTask.Row>, BoxedUnit> {
    private final Map<Integer, SweepPoint> byIndex;
    private final RowSink sink;

    Handler(Map<Integer, SweepPoint> byIndex, RowSink sink) {
      this.byIndex = byIndex;
      this.sink = sink;
    }

    @Override
    public BoxedUnit apply(Object partition, ArrayList<PointsTask.Row> rows) {
      for (PointsTask.Row r : rows) {
        sink.accept(byIndex.get(r.index()), r.outcome());
      }
      return BoxedUnit.UNIT;
    }
  }
}
