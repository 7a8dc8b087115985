package trnsim.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import trnsim.core.api.Simulator;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.RunOptions;
import trnsim.core.run.WorkloadResult;

/** {@code trnsim plot}: charts. */
@Command(name = "plot", mixinStandardHelpOptions = true, description = "Charts (PNG or SVG): roofline.",
    subcommands = {PlotCommand.RooflineCommand.class})
public final class PlotCommand implements Runnable {
  public PlotCommand(CliContext ctx) {
    // no state of its own
  }

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    // The command line built by the launcher, not a new one (whose default factory cannot build subcommands).
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing chart: roofline");
  }

  /** {@code trnsim plot roofline}: the chip's roofline with the workload's point(s). */
  @Command(name = "roofline", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"The chip's roofline (tensor-engine peak at the workload's dtype, sustained HBM bandwidth) with each",
          "kernel's simulated point (arithmetic intensity = FLOPs / HBM byte, achieved TFLOP/s)."})
  public static final class RooflineCommand implements Callable<Integer> {
    private final CliContext ctx;

    @picocli.CommandLine.Mixin
    HardwareOptions hardwareOptions = new HardwareOptions();


    @Option(names = {"--workload", "-w"}, required = true, description = "Inline workload spec or workload name.")
    String workload;


    @Option(names = "--out", defaultValue = "roofline.png", paramLabel = "FILE.png|FILE.svg",
        description = "Chart file (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--format", defaultValue = "table", description = "Numbers on stdout: table, json or csv (default: ${DEFAULT-VALUE}).")
    OutputFormat format;

    public RooflineCommand(CliContext ctx) {
      this.ctx = ctx;
    }

    static final List<String> KEYS = List.of("hardware", "workload", "flops", "hbm_bytes", "intensity_flop_per_byte",
        "achieved_tflops", "peak_tflops", "peak_hbm_gbps", "ridge_flop_per_byte", "roof_tflops", "fraction_of_roof", "region");

    @Override
    public Integer call() {
      Charts.format(out, "--out");
      new OutputPaths(ctx).hardwareInput("--hardware", hardwareOptions.name).output("--out", out).check();
      Simulator sim = ctx.simulator();
      HardwareSpec hw = hardwareOptions.load(sim);
      List<Map<String, Object>> points = new ArrayList<>();
      double peak = 0;
      double bw = 0;
      for (String spec : kernelsOf(sim, sim.expand(workload))) {
        WorkloadResult r = sim.simulate(hw, spec, RunOptions.defaults());
        peak = Math.max(peak, r.peakFlopsPerSecond());
        bw = Math.max(bw, r.hbmBytesPerSecondPeak());
        points.add(point(r));
      }
      chart(hw.name(), peak, bw, points);
      print(points);
      return ExitCodes.OK;
    }

    /**
     * A roofline is one chip's: a suite's whole-system entries (llm-*) are left out with a note on
     * stderr; a system workload asked for on its own is an error.
     */
    private List<String> kernelsOf(Simulator sim, List<String> specs) {
      List<String> kernels = new ArrayList<>();
      for (String s : specs) {
        if (!Simulator.isSystemWorkload(s)) {
          kernels.add(s);
        } else if (specs.size() > 1) {
          ctx.err().println("note: " + s + " left out: a whole-system step has no single-chip roofline");
        }
      }
      if (kernels.isEmpty()) {
        throw new UserInputException("--workload = '" + workload + "': a whole-system workload (llm-*) has no single-chip roofline;"
            + " plot a kernel or a layer: workload");
      }
      return kernels;
    }

    static Map<String, Object> point(WorkloadResult r) {
      Map<String, Object> m = new LinkedHashMap<>();
      double ai = r.hbmBytes() > 0 ? r.flops() / r.hbmBytes() : Double.NaN;
      double ridge = r.peakFlopsPerSecond() / r.hbmBytesPerSecondPeak();
      double roof = Double.isFinite(ai) ? Math.min(r.peakFlopsPerSecond(), ai * r.hbmBytesPerSecondPeak()) : r.peakFlopsPerSecond();
      m.put("hardware", r.hardware());
      m.put("workload", r.workload());
      m.put("flops", r.flops());
      m.put("hbm_bytes", r.hbmBytes());
      m.put("intensity_flop_per_byte", ai);
      m.put("achieved_tflops", r.achievedFlopsPerSecond() / 1e12);
      m.put("peak_tflops", r.peakFlopsPerSecond() / 1e12);
      m.put("peak_hbm_gbps", r.hbmBytesPerSecondPeak() / 1e9);
      m.put("ridge_flop_per_byte", ridge);
      m.put("roof_tflops", roof / 1e12);
      m.put("fraction_of_roof", roof > 0 ? r.achievedFlopsPerSecond() / roof : Double.NaN);
      m.put("region", !Double.isFinite(ai) ? "no HBM traffic" : r.flops() == 0 ? "no FLOPs" : ai >= ridge ? "compute" : "memory");
      return m;
    }

    private void chart(String name, double peak, double bw, List<Map<String, Object>> points) {
      double ridge = peak / bw;
      double lo = ridge / 1000;
      double hi = ridge * 100;
      for (var p : points) {
        double ai = (Double) p.get("intensity_flop_per_byte");
        if (Double.isFinite(ai) && ai > 0) {
          lo = Math.min(lo, ai / 4);
          hi = Math.max(hi, ai * 4);
        }
      }
      // One roof per distinct tensor-engine peak (a suite can mix dtypes), all under the same HBM slope.
      java.util.TreeSet<Double> peaks = new java.util.TreeSet<>(java.util.Comparator.reverseOrder());
      for (var p : points) {
        peaks.add((Double) p.get("peak_tflops") * 1e12);
      }
      List<Figure.Series> series = new ArrayList<>();
      for (double pk : peaks) {
        // The roof is two straight lines on log-log axes: the HBM slope up to the ridge, then flat.
        double r = pk / bw;
        List<Double> xs = new ArrayList<>(List.of(lo));
        List<Double> ys = new ArrayList<>(List.of(lo * bw / 1e12));
        if (r > lo && r < hi) {
          xs.add(r);
          ys.add(pk / 1e12);
        }
        xs.add(hi);
        ys.add(Math.min(pk, hi * bw) / 1e12);
        series.add(new Figure.Series(String.format(Locale.ROOT, "roofline, peak %.0f TFLOP/s", pk / 1e12), xs, ys, true, false));
      }
      int plotted = 0;
      for (var p : points) {
        double ai = (Double) p.get("intensity_flop_per_byte");
        double t = (Double) p.get("achieved_tflops");
        if (Double.isFinite(ai) && ai > 0 && t > 0) {
          String label = String.valueOf(p.get("workload"));
          series.add(new Figure.Series(label.length() > 60 ? label.substring(0, 57) + "..." : label, List.of(ai), List.of(t), false, true));
          plotted++;
        }
      }
      if (plotted == 0) {
        throw new UserInputException("--workload = '" + workload + "': no FLOPs or no HBM traffic, so no point on a roofline");
      }
      Figure.Xy fig = new Figure.Xy(String.format(Locale.ROOT, "Roofline: %s (peak %.0f TFLOP/s, HBM %.0f GB/s, ridge %.0f FLOP/B)",
          name, peak / 1e12, bw / 1e9, ridge),
          Figure.Axis.of("arithmetic intensity (FLOP per HBM byte)", Figure.Scale.LOG10, Figure.Format.NUMBER),
          List.of(new Figure.Panel(Figure.Axis.of("achieved throughput (TFLOP/s)", Figure.Scale.LOG10, Figure.Format.NUMBER), series)),
          List.of());
      Charts.save(fig, out, "--out");
    }

    /** A fraction as a percentage; "-" when there is none (a kernel with no FLOPs has no roof to reach). */
    static String percent(Double fraction) {
      return fraction == null || !Double.isFinite(fraction) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * fraction);
    }

    private void print(List<Map<String, Object>> points) {
      PrintWriter o = ctx.out();
      switch (format) {
        case json -> o.println(Json.pretty(points.size() == 1 ? trnsim.core.api.ResultSchema.stamped(points.get(0))
            : points.stream().map(trnsim.core.api.ResultSchema::stamped).toList()));
        case csv -> {
          List<List<Object>> rows = new ArrayList<>();
          for (var p : points) {
            rows.add(new ArrayList<>(p.values()));
          }
          o.print(Tables.csv(KEYS, rows));
        }
        case table -> {
          List<List<Object>> rows = new ArrayList<>();
          for (var p : points) {
            rows.add(List.of(p.get("workload"), p.get("intensity_flop_per_byte"), p.get("ridge_flop_per_byte"),
                p.get("achieved_tflops"), p.get("roof_tflops"), percent((Double) p.get("fraction_of_roof")), p.get("region")));
          }
          o.print(Tables.text(List.of("workload", "FLOP/B", "ridge", "TFLOP/s", "roof", "of roof", "region"), rows));
          o.println("chart: " + out);
        }
      }
      o.flush();
    }
  }
}
