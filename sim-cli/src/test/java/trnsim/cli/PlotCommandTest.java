package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotCommandTest {
  @TempDir
  Path tmp;

  @Test
  void rooflinePngWithTheKernelsPoint() throws Exception {
    Path png = tmp.resolve("r.png");
    var r = CliHarness.run("plot", "roofline", "-H", "trn2", "-w", "gemm:m=1024,k=1024,n=1024", "--out", png.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("FLOP/B", "ridge", "of roof", "chart: " + png);
    assertThat(Files.readAllBytes(png)).startsWith(new byte[] {(byte) 0x89, 'P', 'N', 'G'});
  }

  /** A suite with kernels that have no FLOPs (norms) reads "-" in their "of roof" column, never "NaN%". */
  @Test
  void kernelsWithoutFlopsHaveNoRoofFraction() {
    var r = CliHarness.run("plot", "roofline", "-H", "trn2", "-w", "kernels", "--out", tmp.resolve("k.svg").toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).doesNotContain("NaN").containsPattern("rmsnorm:\\S+\\s+0 .* -\\s+no FLOPs");
  }

  @Test
  void rooflineSvgAndJsonNumbers() throws Exception {
    Path svg = tmp.resolve("r.svg");
    var r = CliHarness.run("plot", "roofline", "-H", "trn3", "-w", "gemm:m=1024,k=1024,n=1024,dtype=mxfp8", "--out",
        svg.toString(), "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Files.readString(svg)).contains("<svg");
    JsonNode n = Json.MAPPER.readTree(r.out());
    for (String k : PlotCommand.RooflineCommand.KEYS) {
      assertThat(n.has(k)).as(k).isTrue();
    }
    assertThat(n.get("ridge_flop_per_byte").asDouble())
        .isCloseTo(n.get("peak_tflops").asDouble() * 1e3 / n.get("peak_hbm_gbps").asDouble(), org.assertj.core.api.Assertions.within(1e-6));
    assertThat(n.get("achieved_tflops").asDouble()).isLessThanOrEqualTo(n.get("roof_tflops").asDouble() * 1.0000001);
    var c = CliHarness.run("plot", "roofline", "-H", "trn3", "-w", "gemm:m=1024,k=1024,n=1024,dtype=mxfp8", "--out",
        svg.toString(), "--format", "csv");
    assertThat(c.out().lines().findFirst().orElseThrow()).isEqualTo(String.join(",", PlotCommand.RooflineCommand.KEYS));
  }

  @Test
  void badInput() {
    String o = tmp.resolve("r.png").toString();
    String[][] cases = {
        {"plot", "roofline", "-H", "trn2", "-w", "gemm:m=64,k=64,n=64", "--out", tmp.resolve("r.jpg").toString()},
        {"plot", "roofline", "-H", "trn2", "-w", "copy:bytes=1MiB", "--out", o},
        {"plot", "roofline", "-H", "trn9", "-w", "gemm:m=64,k=64,n=64", "--out", o},
        {"plot", "roofline", "-H", "trn2", "-w", "gemm:m=0,k=64,n=64", "--out", o},
        {"plot", "roofline", "-H", "trn2", "--out", o},
        {"plot", "roofline", "-H", "trn2", "-w", "gemm:m=64,k=64,n=64", "--out", o, "--format", "yaml"},
        {"plot", "roofline", "-H", "trn2", "-w", "gemm:m=64,k=64,n=64", "--set", "chip.cores=-1", "--out", o},
        {"plot", "bars"},
        {"plot"},
    };
    for (String[] c : cases) {
      var r = CliHarness.run(c);
      assertThat(r.code()).as(String.join(" ", c) + " -> " + r.err()).isEqualTo(ExitCodes.BAD_INPUT);
      assertThat(r.out()).isEmpty();
    }
    assertThat(Path.of(o)).doesNotExist();
  }

  @Test
  void aSuiteWithAWholeSystemEntryPlotsItsKernelsAndSaysWhatItLeftOut() throws Exception {
    Path svg = tmp.resolve("suite.svg");
    var r = CliHarness.run("plot", "roofline", "-H", "trn2", "-w", "launch", "--out", svg.toString(), "--format", "csv");
    assertThat(r.err()).contains("llm-train:model=llama3-70b left out");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Files.exists(svg)).isTrue();
    Path sys = tmp.resolve("sys.svg");
    var s = CliHarness.run("plot", "roofline", "-H", "trn2", "-w", "llm-train:model=llama3-8b", "--out", sys.toString());
    assertThat(s.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(s.err().strip()).startsWith("error: --workload").contains("single-chip roofline").doesNotContain("\n");
    assertThat(Files.exists(sys)).isFalse();
  }
}
