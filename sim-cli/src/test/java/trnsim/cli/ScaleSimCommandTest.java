package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScaleSimCommandTest {
  @TempDir
  Path tmp;

  private static String sample(String name) {
    return CliHarness.HOME.resolve("configs/scalesim").resolve(name).toString();
  }

  private List<String> report(String run, String file) throws Exception {
    return Files.readAllLines(tmp.resolve(run).resolve(file));
  }

  @Test
  void gemm4096WeightStationaryOn128x128() throws Exception {
    var r = CliHarness.run("scalesim", "-c", sample("array128_ws.cfg"), "-t", sample("gemm_4096.csv"), "-i", "gemm",
        "-p", tmp.toString());
    assertThat(r.code()).as(r.err()).isZero();
    List<String> compute = report("array128_ws", "COMPUTE_REPORT.csv");
    assertThat(compute.get(0)).isEqualTo("LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,");
    // K = N = 4096 fold 32 x 32 times onto 128 x 128; each fold is 2*128 + 128 + 4096 - 2 = 4478
    // cycles; SCALE-Sim reports the last cycle's index.
    long cycles = 1024L * 4478 - 1;
    assertThat(compute.get(1)).startsWith("0, " + cycles + ", 0, ");
    double util = 4096.0 * 4096 * 4096 * 100 / (cycles * 128.0 * 128);
    assertThat(Double.parseDouble(compute.get(1).split(", ")[3])).isEqualTo(util);
    assertThat(compute.get(1).split(", ")[4]).isEqualTo("100.0");
    assertThat(report("array128_ws", "BANDWIDTH_REPORT.csv").get(0)).startsWith("LayerID, Avg IFMAP SRAM BW,");
    String detail = report("array128_ws", "DETAILED_ACCESS_REPORT.csv").get(1);
    // The first ifmap read waits for the 128 weight-load cycles, stamped one cycle late (read hit).
    assertThat(detail).startsWith("0, 129.0, ");
  }

  @Test
  void convLayersFollowScaleSimsOutputSizeAndFolds() throws Exception {
    var r = CliHarness.run("scalesim", "-c", sample("tpu_v1_ws.cfg"), "-t", sample("alexnet_conv.csv"), "-p", tmp.toString());
    assertThat(r.code()).as(r.err()).isZero();
    List<String> compute = report("tpu_v1_ws", "COMPUTE_REPORT.csv");
    assertThat(compute).hasSize(6);
    // Conv1: (227 - 11 + 4) / 4 = 55, so M = 3025 output pixels, K = 11*11*3 = 363 (2 row folds on
    // 256 rows), N = 96 (1 column fold): 2 folds of 512 + 256 + 3025 - 2 = 3791 cycles.
    assertThat(compute.get(1)).startsWith("0, " + (2 * 3791 - 1) + ", 0, ");
    // Conv3: 13 x 13 = 169 pixels, K = 2304 (9 row folds), N = 384 (2 column folds).
    assertThat(compute.get(3)).startsWith("2, " + (18 * (512 + 256 + 169 - 2) - 1) + ", 0, ");
  }

  @Test
  void outputStationaryOnANonSquareArray() throws Exception {
    Path topo = tmp.resolve("g.csv");
    Files.writeString(topo, "Layer, M, N, K\nsmall, 100, 20, 7\n");
    var r = CliHarness.run("scalesim", "-c", sample("array32x16_os.cfg"), "-t", topo.toString(), "-i", "gemm",
        "-p", tmp.toString());
    assertThat(r.code()).as(r.err()).isZero();
    // M = 100 on 32 rows: 4 folds; N = 20 on 16 columns: 2 folds; each 32 + 16 + 7 - 2 = 53 cycles.
    assertThat(report("array32x16_os", "COMPUTE_REPORT.csv").get(1)).startsWith("0, " + (8 * 53 - 1) + ", 0, ");
  }

  @Test
  void badFilesAreOneLineExitTwoAndWriteNothing() throws Exception {
    Path cfg = tmp.resolve("a.cfg");
    Path topo = tmp.resolve("t.csv");
    Files.writeString(topo, "Layer, M, N, K,\ng, 8, 8, 8,\n");
    String good = Files.readString(Path.of(sample("array128_ws.cfg")));
    expectBad(cfg, good.replace("ArrayWidth:     128", "ArrayWidth:     wide"), topo, "gemm",
        "architecture_presets.ArrayWidth = 'wide'");
    expectBad(cfg, good.replace("Dataflow : ws", "Dataflow : rs"), topo, "gemm", "Dataflow = 'rs'");
    expectBad(cfg, good.replace("run_name = array128_ws", ""), topo, "gemm", "general.run_name");
    expectBad(cfg, good.replace("CALC", "USER"), topo, "gemm", "InterfaceBandwidth = 'USER'");
    expectBad(cfg, good.replace("run_name = array128_ws", "run_name = ../escape"), topo, "gemm", "run_name = '../escape'");
    Files.writeString(topo, "Layer, M, N, K,\ng, 8, -8, 8,\n");
    expectBad(cfg, good, topo, "gemm", "line 2, N = '-8'");
    Files.writeString(topo, "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
        + "c, 3, 3, 5, 1, 1, 1, 1,\n");
    expectBad(cfg, good, topo, "conv", "Filter Height = '5'");
    expectBad(cfg, good, topo, "matrix", "option -i = 'matrix'");
    expectBad(cfg, good, tmp.resolve("missing.csv"), "conv", "missing.csv");
  }

  private void expectBad(Path cfg, String cfgText, Path topo, String input, String fragment) throws Exception {
    Files.writeString(cfg, cfgText);
    Path out = tmp.resolve("out");
    var r = CliHarness.run("scalesim", "-c", cfg.toString(), "-t", topo.toString(), "-i", input, "-p", out.toString());
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(2);
    assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).contains(fragment);
    assertThat(Files.exists(out)).isFalse();
  }

  @Test
  void numbersPrintAsPythonPrintsThem() {
    assertThat(ScaleSimCommand.py(100.0)).isEqualTo("100.0");
    assertThat(ScaleSimCommand.py(129)).isEqualTo("129.0");
    assertThat(ScaleSimCommand.py(0.5)).isEqualTo("0.5");
    assertThat(ScaleSimCommand.py(1e-05)).isEqualTo("1e-05");
    assertThat(ScaleSimCommand.py(2.5e-07)).isEqualTo("2.5e-07");
    assertThat(ScaleSimCommand.py(91.46942593247236)).isEqualTo("91.46942593247236");
  }
}
