package trnsim.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import trnsim.core.api.Simulator;
import trnsim.core.config.ConfigException;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.RunOptions;
import trnsim.core.system.Collectives;
import trnsim.core.system.Fabric;
import trnsim.core.system.RankLayout;
import trnsim.isa.ProgramException;
import trnsim.isa.workload.WorkloadException;

/**
 * Simulates each published Trainium record through the same paths as {@code run} and
 * {@code collective}: kernels and system steps under the chip's power limit, standalone collectives
 * on the system's fabric with ranks in NeuronCores, raw transfers on the fabric's links. A record
 * trnsim cannot express or lower is listed with the reason and not counted (so a group's "counted"
 * falls short of its points: the "every record expressible" fails visibly).
 */
final class TrainiumValidation {
  private final Simulator sim;
  private final RunOptions opts;
  private final Map<String, HardwareSpec> hardware = new HashMap<>();
  private final Map<String, Double> memo = new HashMap<>();

  TrainiumValidation(Simulator sim, CliContext ctx, RunOptions opts) {
    this.sim = sim;
    this.opts = opts;
  }

  List<Calibration.Compared> compare(List<TrainiumCalibration.Case> cases, List<TrainiumCalibration.Fit> fits) {
    Map<String, List<String>> setBy = new HashMap<>();
    for (TrainiumCalibration.Fit f : fits) {
      for (String id : f.records()) {
        setBy.computeIfAbsent(id, k -> new ArrayList<>()).add(f.config() + " " + f.parameter());
      }
    }
    List<Calibration.Compared> out = new ArrayList<>();
    for (TrainiumCalibration.Case c : cases) {
      Calibration.Point p = new Calibration.Point(hardwareName(c), c.group(), c.label(), describe(c.probe()),
          Calibration.Metric.ofUnit(c.unit()), c.measured(), Double.NaN, 1, c.note(),
          String.join(", ", setBy.getOrDefault(c.id(), List.of())));
      if (c.unexpressible() != null) {
        out.add(new Calibration.Compared(p, Double.NaN, c.unexpressible()));
        continue;
      }
      try {
        out.add(new Calibration.Compared(p, predict(c)));
      } catch (WorkloadException | ProgramException | ConfigException | IllegalArgumentException e) {
        out.add(new Calibration.Compared(p, Double.NaN, oneLine(e.getMessage())));
      }
    }
    return out;
  }

  /** The predicted value in the record's unit. */
  double predict(TrainiumCalibration.Case c) {
    TrainiumCalibration.Probe probe = c.probe();
    if (probe instanceof TrainiumCalibration.Kernel k) {
      return seconds(k.hardware() + "|" + k.workload(),
          () -> sim.runKernel(hw(k.hardware()), k.workload(), opts).result().timeSeconds()) * c.unitScale();
    }
    if (probe instanceof TrainiumCalibration.SystemStep s) {
      var r = sim.runSystem(hw(s.hardware()), s.workload(), opts).result();
      return switch (s.metric()) {
        case TIME -> r.seconds() * c.unitScale();
        case TOKENS_PER_SECOND -> r.tokens() / r.seconds();
        case SEQUENCES_PER_SECOND -> s.sequences() / r.seconds();
      };
    }
    if (probe instanceof TrainiumCalibration.Collective col) {
      HardwareSpec h = hw(col.hardware());
      Collectives.Result r = Collectives.onSystem(h, col.systems(), RankLayout.of(h.chip(), col.lnc()),
          Collectives.Op.parse(col.op()), col.ranks(), col.bytes(), Collectives.elementType(col.dtype()), Collectives.Algo.AUTO,
          true);
      return r.seconds() * c.unitScale();
    }
    if (probe instanceof TrainiumCalibration.Link l) {
      HardwareSpec h = hw(l.hardware());
      Fabric f = Fabric.of(h, l.systems(), RankLayout.of(h.chip(), null));
      return Collectives.rawTransfer(f, 0, f.size() / l.systems(), l.bytes()).seconds() * c.unitScale();
    }
    throw new IllegalStateException("unknown probe " + probe);
  }

  private double seconds(String key, java.util.function.DoubleSupplier f) {
    Double v = memo.get(key);
    if (v == null) {
      v = f.getAsDouble();
      memo.put(key, v);
    }
    return v;
  }

  private HardwareSpec hw(String name) {
    return hardware.computeIfAbsent(name, n -> sim.hardware(n, List.of()));
  }

  private static String hardwareName(TrainiumCalibration.Case c) {
    TrainiumCalibration.Probe p = c.probe();
    if (p instanceof TrainiumCalibration.Kernel k) {
      return k.hardware();
    }
    if (p instanceof TrainiumCalibration.SystemStep s) {
      return s.hardware();
    }
    if (p instanceof TrainiumCalibration.Collective col) {
      return col.hardware();
    }
    if (p instanceof TrainiumCalibration.Link l) {
      return l.hardware() + " x" + l.systems();
    }
    return "-";
  }

  static String describe(TrainiumCalibration.Probe p) {
    if (p instanceof TrainiumCalibration.Kernel k) {
      return k.workload();
    }
    if (p instanceof TrainiumCalibration.SystemStep s) {
      return s.workload();
    }
    if (p instanceof TrainiumCalibration.Collective c) {
      return String.format(java.util.Locale.ROOT, "collective --op %s --ranks %d --bytes %d --dtype %s%s%s", c.op(), c.ranks(),
          c.bytes(), c.dtype(), c.lnc() != null ? " --lnc " + c.lnc() : "", c.systems() > 1 ? " --systems " + c.systems() : "");
    }
    if (p instanceof TrainiumCalibration.Link l) {
      return "raw transfer of " + l.bytes() + " B between two systems";
    }
    return "";
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s+", " ").trim();
  }
}
