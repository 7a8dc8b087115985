package trnsim.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import trnsim.core.api.ResultSchema;
import trnsim.core.api.KernelRunResult;
import trnsim.core.api.Simulator;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.RunOptions;
import trnsim.isa.workload.WorkloadSpec;

/**
 * {@code trnsim validate}: the model against real-hardware measurements. Every point in the
 * calibration folder is simulated (under the chip's power limit, as {@code run} does) and printed
 * with its relative error; then the median and worst absolute error per group. Points whose
 * measured time is under 0.05 ms are listed but left out of the statistics (host launch overhead).
 */
@Command(name = "validate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Compare the model's predictions with real-hardware measurements. A calibration folder is either",
        "a chip folder of CSVs (<chip>/{gemm,copy,elementwise,energy}.csv: GEMM TFLOP/s, copy and elementwise GB/s,",
        "energy per FLOP and per byte, clock under the power limit), or a folder with a measurements.json of published",
        "Trainium records (kernels, collectives, inference TTFT/TPOT/throughput, training), or a folder of such folders.",
        "Errors are predicted/measured - 1; CSV points measured under 0.05 ms are launch-bound and not counted."})
public final class ValidateCommand implements Callable<Integer> {
  private final CliContext ctx;

  @Option(names = "--calibration", paramLabel = "DIR",
      description = "Calibration folder (default: <trnsim home>/calibration, which holds h100/ and trainium/).")
  Path calibration;

  @Option(names = "--format", defaultValue = "table", description = "table, json or csv (default: ${DEFAULT-VALUE}).")
  OutputFormat format;

  @Option(names = "--long-k", defaultValue = "4096",
      description = "GEMMs with K above this are simulated at K/2 and K = this value and extrapolated linearly in K (default: ${DEFAULT-VALUE}).")
  long longK;

  @Option(names = "--max-events", defaultValue = "500000000", description = "Stop a simulation after this many events (default: ${DEFAULT-VALUE}).")
  long maxEvents;

  public ValidateCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  static final List<String> KEYS = List.of("chip", "group", "point", "unit", "measured", "predicted", "error", "counted",
      "measured_ms", "failure", "note", "role", "fitted_parameters");

  // GEMMs with a K loop longer than --long-k are simulated at K = longK / 2 and longK (same tiling, the clock the
  // power limiter finds at longK) and extrapolated linearly in K: the K loop is a steady state, and simulating
  // 16384^3 instruction by instruction under the power-limit search would take minutes per point.

  @Override
  public Integer call() {
    if (longK < 2 || longK % 2 != 0) {
      throw new UserInputException("--long-k = '" + longK + "': must be an even number >= 2");
    }
    Path root = calibration != null ? calibration : ctx.home().resolve("calibration");
    if (!java.nio.file.Files.isDirectory(root)) {
      throw new UserInputException("--calibration = '" + root + "': no such folder");
    }
    List<Path> trainium = trainiumFolders(root);
    List<Calibration.Compared> results = new ArrayList<>();
    Simulator sim = ctx.simulator();
    if (!TrainiumCalibration.isTrainiumFolder(root)) {
      results.addAll(csvPoints(sim, root, trainium));
    }
    for (Path dir : trainium) {
      List<TrainiumCalibration.Case> cases = TrainiumCalibration.load(dir, modelNames());
      java.util.Set<String> ids = new java.util.HashSet<>();
      cases.forEach(c -> ids.add(c.id()));
      results.addAll(new TrainiumValidation(sim, ctx, new RunOptions(null, maxEvents)).compare(cases, TrainiumCalibration.fits(dir, ids)));
    }
    print(results, Calibration.stats(results), root);
    return ExitCodes.OK;
  }

  /** Names of the shipped model shapes (configs/workloads/models/NAME.yaml). */
  private java.util.Set<String> modelNames() {
    java.util.Set<String> names = new java.util.TreeSet<>();
    try (var s = java.nio.file.Files.list(ctx.configs().resolve("workloads").resolve("models"))) {
      s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".yaml"))
          .forEach(f -> names.add(f.substring(0, f.length() - ".yaml".length())));
    } catch (java.io.IOException e) {
      throw new UserInputException("configs/workloads/models: cannot list model shapes: " + e.getMessage());
    }
    return names;
  }

  /** The folder itself when it holds measurements.json, else its subfolders that do. */
  private static List<Path> trainiumFolders(Path root) {
    if (TrainiumCalibration.isTrainiumFolder(root)) {
      return List.of(root);
    }
    List<Path> out = new ArrayList<>();
    try (var s = java.nio.file.Files.list(root)) {
      s.filter(TrainiumCalibration::isTrainiumFolder).sorted().forEach(out::add);
    } catch (java.io.IOException e) {
      throw new UserInputException("--calibration = '" + root + "': " + e.getMessage());
    }
    return out;
  }

  /** The CSV points of a chip folder, or of every chip subfolder (Trainium subfolders excluded). */
  private List<Calibration.Compared> csvPoints(Simulator sim, Path root, List<Path> trainium) {
    boolean chipFolder = java.nio.file.Files.isRegularFile(root.resolve("gemm.csv"))
        || java.nio.file.Files.isRegularFile(root.resolve("copy.csv"))
        || java.nio.file.Files.isRegularFile(root.resolve("elementwise.csv"))
        || java.nio.file.Files.isRegularFile(root.resolve("energy.csv"));
    List<Calibration.Point> points = chipFolder ? Calibration.loadChip(root) : Calibration.load(root, trainium);
    Map<String, HardwareSpec> hws = new HashMap<>();
    Map<String, Prediction> memo = new HashMap<>();
    List<Calibration.Compared> results = new ArrayList<>();
    for (Calibration.Point p : points) {
      HardwareSpec hw = hws.computeIfAbsent(p.chip(), c -> sim.hardware(c, List.of()));
      double predicted;
      String failure = null;
      if (p.workload() == null) {
        predicted = hw.chip().power() == null || hw.chip().power().energyTable() == null ? Double.NaN
            : trnsim.core.energy.EnergyModel.forHardware(hw, ctx.configs()).staticPowerW();
      } else {
        Prediction pr = memo.computeIfAbsent(p.chip() + "|" + p.workload(), k -> {
          try {
            return predict(sim, hw, p.workload());
          } catch (trnsim.isa.workload.WorkloadException | trnsim.isa.ProgramException e) {
            // The template cannot lower this point: listed, not counted, and said why.
            return new Prediction(Double.NaN, Double.NaN, Double.NaN, e.getMessage().replaceFirst("^.*?: ", ""));
          }
        });
        failure = pr.failure();
        predicted = switch (p.metric()) {
          case TFLOPS -> p.units() / pr.seconds() / 1e12;
          case GBPS -> p.units() / pr.seconds() / 1e9;
          case PJ_PER_FLOP, PJ_PER_BYTE -> pr.joules() / p.units() * 1e12;
          case CLOCK_MHZ -> pr.clockGhz() * 1e3;
          case WATTS -> pr.joules() / pr.seconds();
          case MS -> pr.seconds() * 1e3;
          case US -> pr.seconds() * 1e6;
          case SECONDS -> pr.seconds();
          case TOKENS_PER_S, SEQ_PER_S -> Double.NaN; // only Trainium records carry these (TrainiumValidation)
        };
      }
      results.add(new Calibration.Compared(p, predicted, failure));
    }
    return results;
  }

  /** Simulated time, energy and clock of one workload under the power limit. */
  record Prediction(double seconds, double joules, double clockGhz, String failure) {
    Prediction(double seconds, double joules, double clockGhz) {
      this(seconds, joules, clockGhz, null);
    }
  }

  private Prediction predict(Simulator sim, HardwareSpec hw, String workload) {
    RunOptions opts = new RunOptions(null, maxEvents);
    WorkloadSpec spec = WorkloadSpec.parse(workload, "calibration");
    if (spec.kind().equals("gemm") && spec.positive("k", null) > longK) {
      long k = spec.positive("k", null);
      String w1 = workload.replaceFirst("k=\\d+", "k=" + longK / 2);
      String w2 = workload.replaceFirst("k=\\d+", "k=" + longK);
      KernelRunResult l2 = sim.runKernel(hw, w2, opts);
      var r1 = sim.simulate(l2.hardware(), w1, opts);
      double e1 = sim.energy(l2.hardware(), r1).joules();
      double f = (k - longK) / (double) (longK / 2);
      double t = l2.result().timeSeconds() + (l2.result().timeSeconds() - r1.timeSeconds()) * f;
      double e = l2.energy().joules() + (l2.energy().joules() - e1) * f;
      return new Prediction(t, e, l2.operating().clockGhz());
    }
    KernelRunResult l = sim.runKernel(hw, workload, opts);
    return new Prediction(l.result().timeSeconds(), l.energy().joules(), l.operating().clockGhz());
  }

  private void print(List<Calibration.Compared> results, List<Calibration.Stats> stats, Path root) {
    PrintWriter out = ctx.out();
    switch (format) {
      case json -> {
        Map<String, Object> doc = new LinkedHashMap<>();
        List<Object> pts = new ArrayList<>();
        for (Calibration.Compared c : results) {
          pts.add(row(c));
        }
        doc.put("points", pts);
        doc.put("statistics", statsJson(stats));
        List<Calibration.Compared> predicted = predictedOnly(results);
        if (predicted.size() < results.size()) {
          doc.put("statistics_predicted_only", statsJson(Calibration.stats(predicted)));
        }
        doc.put("min_measured_ms", Calibration.MIN_MS);
        out.println(Json.pretty(ResultSchema.stamped(doc)));
      }
      case csv -> {
        List<List<Object>> rows = new ArrayList<>();
        for (Calibration.Compared c : results) {
          rows.add(new ArrayList<>(row(c).values()));
        }
        out.print(Tables.csv(KEYS, rows));
      }
      case table -> {
        out.printf(Locale.ROOT, "Predicted vs measured (%s); error = predicted / measured - 1%n%n", root.getFileName());
        List<List<Object>> rows = new ArrayList<>();
        for (Calibration.Compared c : results) {
          Calibration.Point p = c.point();
          rows.add(List.of(p.chip(), p.label(), p.metric().unit, Tables.fmt(p.measured()), Tables.fmt(c.predicted()),
              Double.isFinite(c.error()) ? String.format(Locale.ROOT, "%+.1f%%", 100 * c.error()) : "-",
              p.role().isEmpty() ? "-" : p.role(),
              c.failure() != null ? "not simulated: " + c.failure() : p.counted() ? p.note() : String.format(Locale.ROOT, "launch-bound (%.3f ms < %.2f ms): not counted", p.measuredMs(),
                  Calibration.MIN_MS)));
        }
        out.print(Tables.text(List.of("chip", "point", "unit", "measured", "predicted", "error", "role", "note"), rows));
        out.println();
        out.print(statsTable(stats));
        List<Calibration.Compared> predicted = predictedOnly(results);
        if (predicted.size() < results.size()) {
          out.printf(Locale.ROOT, "%nPredicted points only (records that set no model parameter; fitted ones are named in fitted.yaml):%n");
          out.print(statsTable(Calibration.stats(predicted)));
        }
      }
    }
    out.flush();
  }

  /** The points that set no model parameter (records without a role, e.g. the H100 CSVs, are kept). */
  private static List<Calibration.Compared> predictedOnly(List<Calibration.Compared> results) {
    List<Calibration.Compared> out = new ArrayList<>();
    for (Calibration.Compared c : results) {
      if (!c.point().role().equals("fitted")) {
        out.add(c);
      }
    }
    return out;
  }

  private static List<Object> statsJson(List<Calibration.Stats> stats) {
    List<Object> st = new ArrayList<>();
    for (Calibration.Stats s : stats) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("group", s.group());
      m.put("points", s.points());
      m.put("counted", s.counted());
      m.put("median_abs_error", s.medianAbsError());
      m.put("worst_abs_error", s.worstAbsError());
      m.put("worst_point", s.worstLabel());
      st.add(m);
    }
    return st;
  }

  private static String statsTable(List<Calibration.Stats> stats) {
    List<List<Object>> rows = new ArrayList<>();
    for (Calibration.Stats s : stats) {
      rows.add(List.of(s.group(), s.counted() + " of " + s.points(), pct(s.medianAbsError()), pct(s.worstAbsError()),
          s.worstLabel() == null ? "-" : s.worstLabel()));
    }
    return Tables.text(List.of("group", "counted", "median |error|", "worst |error|", "worst point"), rows);
  }

  private static String pct(double d) {
    return Double.isFinite(d) ? String.format(Locale.ROOT, "%.1f%%", 100 * d) : "-";
  }

  private static Map<String, Object> row(Calibration.Compared c) {
    Calibration.Point p = c.point();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("chip", p.chip());
    m.put("group", p.group());
    m.put("point", p.label());
    m.put("unit", p.metric().unit);
    m.put("measured", p.measured());
    m.put("predicted", c.predicted());
    m.put("error", c.error());
    m.put("counted", c.counted());
    m.put("measured_ms", p.measuredMs());
    m.put("failure", c.failure());
    m.put("note", p.note());
    m.put("role", p.role().isEmpty() ? null : p.role());
    m.put("fitted_parameters", p.fittedBy() == null || p.fittedBy().isEmpty() ? null : p.fittedBy());
    return m;
  }
}
