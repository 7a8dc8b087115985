package trnsim.cli;

import java.io.IOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import trnsim.core.scalesim.ScaleSimConfig;
import trnsim.core.scalesim.ScaleSimFiles;
import trnsim.core.scalesim.ScaleSimLayer;
import trnsim.core.scalesim.ScaleSimLayerStats;
import trnsim.core.scalesim.SystolicFolds.SramAccess;

/**
 * {@code trnsim scalesim}: SCALE-Sim's own inputs in, SCALE-Sim's reports out, computed in closed
 * form (SCALE-Sim v2's cycles in its stall-free CALC mode; see docs/model.md).
 */
@Command(name = "scalesim", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Run a SCALE-Sim architecture file and topology through SCALE-Sim v2's systolic-array model in",
        "closed form and write its COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv and DETAILED_ACCESS_REPORT.csv into",
        "OUTDIR/<run_name>/. Total Cycles equal SCALE-Sim v2's in CALC (stall-free) mode for ws, os and is;",
        "DRAM figures are trnsim's estimate (docs/model.md)."})
public final class ScaleSimCommand implements Callable<Integer> {
  private final CliContext ctx;

  @Option(names = "-c", required = true, paramLabel = "ARCH.cfg", description = "SCALE-Sim architecture config.")
  Path config;

  @Option(names = "-t", required = true, paramLabel = "TOPOLOGY.csv", description = "SCALE-Sim topology file.")
  Path topology;

  @Option(names = "-p", defaultValue = ".", paramLabel = "OUTDIR", description = "Where the run folder goes (default: ${DEFAULT-VALUE}).")
  Path outDir;

  @Option(names = "-i", defaultValue = "conv", paramLabel = "conv|gemm", description = "Topology rows: conv layers or gemm rows 'name, M, N, K' (default: ${DEFAULT-VALUE}).")
  String inputType;

  public ScaleSimCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    if (!inputType.equals("conv") && !inputType.equals("gemm")) {
      throw new UserInputException("option -i = '" + inputType + "': must be conv or gemm");
    }
    ScaleSimConfig cfg = ScaleSimFiles.readConfig(config);
    List<ScaleSimLayer> layers = ScaleSimFiles.readTopology(topology, inputType.equals("gemm"));
    List<ScaleSimLayerStats> stats = new ArrayList<>();
    for (ScaleSimLayer l : layers) {
      stats.add(ScaleSimLayerStats.of(cfg, l));
    }
    Path dir = outDir.resolve(cfg.runName());
    AtomicFiles.write(dir.resolve("COMPUTE_REPORT.csv"), w -> compute(w, stats));
    AtomicFiles.write(dir.resolve("BANDWIDTH_REPORT.csv"), w -> bandwidth(w, stats));
    AtomicFiles.write(dir.resolve("DETAILED_ACCESS_REPORT.csv"), w -> detail(w, stats));
    for (int i = 0; i < stats.size(); i++) {
      ScaleSimLayerStats s = stats.get(i);
      ctx.out().printf("layer %d %s: %d cycles, overall util %.2f%%, mapping efficiency %.2f%%%n", i,
          s.layer().name(), s.totalCycles(), s.overallUtilPercent(), s.mappingEfficiencyPercent());
    }
    ctx.out().println("wrote " + dir.resolve("COMPUTE_REPORT.csv") + " and its BANDWIDTH and DETAILED_ACCESS reports");
    ctx.out().flush();
    return ExitCodes.OK;
  }

  private static void compute(Writer w, List<ScaleSimLayerStats> stats) throws IOException {
    w.write("LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,\n");
    for (int i = 0; i < stats.size(); i++) {
      ScaleSimLayerStats s = stats.get(i);
      row(w, i, String.valueOf(s.totalCycles()), String.valueOf(s.stallCycles()), py(s.overallUtilPercent()),
          py(s.mappingEfficiencyPercent()), py(s.computeUtilPercent()));
    }
  }

  private static void bandwidth(Writer w, List<ScaleSimLayerStats> stats) throws IOException {
    w.write("LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, "
        + "Avg IFMAP DRAM BW, Avg FILTER DRAM BW, Avg OFMAP DRAM BW,\n");
    for (int i = 0; i < stats.size(); i++) {
      ScaleSimLayerStats s = stats.get(i);
      long cycles = Math.max(1, s.totalCycles());
      row(w, i, py(ScaleSimLayerStats.perCycle(s.folds().ifmapSram().words(), cycles)),
          py(ScaleSimLayerStats.perCycle(s.folds().filterSram().words(), cycles)),
          py(ScaleSimLayerStats.perCycle(s.folds().ofmapSram().words(), cycles)),
          py(ScaleSimLayerStats.overWindow(s.ifmapDram())), py(ScaleSimLayerStats.overWindow(s.filterDram())),
          py(ScaleSimLayerStats.overWindow(s.ofmapDram())));
    }
  }

  private static void detail(Writer w, List<ScaleSimLayerStats> stats) throws IOException {
    w.write("LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, "
        + "SRAM Filter Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, "
        + "SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, SRAM OFMAP Writes, "
        + "DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, "
        + "DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, "
        + "DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,\n");
    for (int i = 0; i < stats.size(); i++) {
      ScaleSimLayerStats s = stats.get(i);
      List<String> cells = new ArrayList<>();
      for (SramAccess a : List.of(s.folds().ifmapSram(), s.folds().filterSram(), s.folds().ofmapSram(),
          s.ifmapDram(), s.filterDram(), s.ofmapDram())) {
        // SCALE-Sim's trace cycles are floats; its access counts are integers.
        cells.add(py((double) a.startCycle()));
        cells.add(py((double) a.stopCycle()));
        cells.add(String.valueOf(a.words()));
      }
      row(w, i, cells.toArray(String[]::new));
    }
  }

  private static void row(Writer w, int layer, String... cells) throws IOException {
    w.write(layer + ", " + String.join(", ", cells) + ",\n");
  }

  /** A double as Python's str() prints it (SCALE-Sim writes its reports with str()). */
  static String py(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return Double.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
    }
    double abs = Math.abs(v);
    if (v == Math.rint(v) && abs < 1e16) {
      return new BigDecimal(v).toPlainString() + ".0";
    }
    BigDecimal d = new BigDecimal(Double.toString(v));
    if (abs >= 1e-4 && abs < 1e16) {
      return d.stripTrailingZeros().toPlainString();
    }
    String digits = d.unscaledValue().abs().toString();
    int exp = digits.length() - 1 - d.scale();
    String rest = digits.substring(1).replaceAll("0+$", "");
    String mant = rest.isEmpty() ? digits.substring(0, 1) : digits.charAt(0) + "." + rest;
    return (v < 0 ? "-" : "") + mant + "e" + (exp < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp));
  }
}
