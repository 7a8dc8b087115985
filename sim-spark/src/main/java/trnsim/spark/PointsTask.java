package trnsim.spark;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import org.apache.spark.broadcast.Broadcast;
import scala.collection.Iterator;
import scala.runtime.AbstractFunction1;
import trnsim.cli.ConfigBundle;
import trnsim.cli.SweepOutcome;
import trnsim.cli.SweepPoint;
import trnsim.cli.SweepPointRunner;

/**
 * One Spark task: unpacks the shipped configs into a private temporary folder, runs its slice of
 * points through {@link SweepPointRunner#run} (the per-point function every engine shares) and
 * returns their rows. The folder is removed when the task ends; nothing outlives the task.
 */
final class PointsTask extends AbstractFunction1<Iterator<SweepPoint>, ArrayList<PointsTask.Row>> implements Serializable {
  private static final long serialVersionUID = 1L;

  /** A finished point: its index in the sweep's product and its outcome. */
  record Row(int index, SweepOutcome outcome) implements Serializable {}

  private final Broadcast<SparkSweepEngine.Shipment> shipment;

  PointsTask(Broadcast<SparkSweepEngine.Shipment> shipment) {
    this.shipment = shipment;
  }

  @Override
  public ArrayList<Row> apply(Iterator<SweepPoint> points) {
    SparkSweepEngine.Shipment s = shipment.value();
    Path home;
    try {
      home = Files.createTempDirectory("trnsim-task-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make a temporary folder for the configs: " + e.getMessage(), e);
    }
    try {
      s.configs().unpackInto(home.resolve("configs"));
      SweepPointRunner runner = SweepPointRunner.forJob(s.job(), home);
      ArrayList<Row> rows = new ArrayList<>();
      while (points.hasNext()) {
        SweepPoint p = points.next();
        rows.add(new Row(p.index(), runner.run(p)));
      }
      return rows;
    } finally {
      ConfigBundle.delete(home);
    }
  }
}
