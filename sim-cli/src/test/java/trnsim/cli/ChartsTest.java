package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/** Charts: text stays text in SVG, PNGs decode, axes name quantities and units, failures write nothing. */
class ChartsTest {
  @TempDir
  Path tmp;

  static Document svg(Path p) throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(p.toFile());
  }

  static String texts(Document d) {
    StringBuilder sb = new StringBuilder();
    var n = d.getElementsByTagName("text");
    for (int i = 0; i < n.getLength(); i++) {
      sb.append(n.item(i).getTextContent()).append('\n');
    }
    return sb.toString();
  }

  @Test
  void compareChartDrawsEachRowsFactorsWithTextAsText() throws Exception {
    Path out = tmp.resolve("cmp.svg");
    String[] args = {"compare", "--baseline", "trn2-ultraserver", "--target", "trn3-ultraserver", "--baseline-workload",
        "gemm:m=2048,k=2048,n=2048,dtype=fp8", "--target-workload", "gemm:m=2048,k=2048,n=2048,dtype=mxfp8", "--chart", out.toString(),
        "--format", "json"};
    var r = CliHarness.run(args);
    assertThat(r.code()).as(r.err()).isZero();
    Document d = svg(out);
    String t = texts(d);
    assertThat(t).contains("speedup factor (trn3-ultraserver over trn2-ultraserver, log scale)")
        .contains("chips").contains("per-chip peak").contains("1x").contains("2x");
    JsonNode rows = Json.MAPPER.readTree(r.out()).get("rows");
    for (JsonNode row : rows) {
      assertThat(t).contains(String.format(java.util.Locale.ROOT, "%.2fx %s", row.get("speedup").asDouble(), row.get("speedup_basis").asText()));
    }
    assertThat(d.getElementsByTagName("path").getLength()).isZero(); // no glyph outlines
    assertThat(Files.size(out)).isLessThan(30_000);
    byte[] first = Files.readAllBytes(out);
    CliHarness.run(args);
    assertThat(Files.readAllBytes(out)).isEqualTo(first);
    Path png = tmp.resolve("cmp.png");
    args[args.length - 3] = png.toString();
    assertThat(CliHarness.run(args).code()).isZero();
    BufferedImage img = ImageIO.read(png.toFile());
    assertThat(img.getWidth()).isEqualTo(900);
    assertThat(img.getHeight()).isGreaterThan(100);
  }

  @Test
  void runChartOfAStepShowsWhereTheTimeGoes() throws Exception {
    String w = "llm-train:model=llama3-8b,seq=512,global_batch=64";
    Path out = tmp.resolve("step.svg");
    var r = CliHarness.run("run", "-H", "trn2-ultraserver", "-w", w, "--chart", out.toString(), "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(r.out());
    String t = texts(svg(out));
    assertThat(t).contains("time per training step (").contains("compute").contains("tensor-parallel communication")
        .contains(Reports.seconds(j.get("time_s").asDouble()));
    assertThat(t).doesNotContain("tp_comm").doesNotContain("time_s");
    Path png = tmp.resolve("step.png");
    assertThat(CliHarness.run("run", "-H", "trn2-ultraserver", "-w", w, "--chart", png.toString()).code()).isZero();
    assertThat(ImageIO.read(png.toFile())).isNotNull();
  }

  @Test
  void collectiveSweepChartMarksEachAlgorithmSwitch() throws Exception {
    String[] base = {"collective", "-H", "trn2-ultraserver", "--sweep", "1KiB:256MiB", "--step-factor", "4"};
    JsonNode rows = Json.MAPPER.readTree(CliHarness.run(concat(base, "--format", "json")).out());
    int switches = 0;
    StringBuilder algos = new StringBuilder();
    for (int i = 1; i < rows.size(); i++) {
      if (!rows.get(i).get("algo").asText().equals(rows.get(i - 1).get("algo").asText())) {
        switches++;
        algos.append("-> ").append(rows.get(i).get("algo").asText()).append('\n');
      }
    }
    assertThat(switches).isPositive();
    Path out = tmp.resolve("coll.svg");
    var r = CliHarness.run(concat(base, "--chart", out.toString()));
    assertThat(r.code()).as(r.err()).isZero();
    Document d = svg(out);
    assertThat(texts(d)).contains("message size").contains("time (us)").contains("bus bandwidth (GB/s)").contains("1 KiB")
        .contains(algos.toString().lines().findFirst().orElseThrow());
    int dashed = 0;
    var lines = d.getElementsByTagName("line");
    for (int i = 0; i < lines.getLength(); i++) {
      dashed += ((org.w3c.dom.Element) lines.item(i)).hasAttribute("stroke-dasharray") ? 1 : 0;
    }
    assertThat(dashed).isEqualTo(2 * switches); // one per switch in each of the two panels
  }

  @Test
  void rooflineSvgIsSmallAndKeepsItsText() throws Exception {
    Path out = tmp.resolve("roof.svg");
    var r = CliHarness.run("plot", "roofline", "-H", "trn2", "-w", "gemm:m=16,k=8192,n=8192", "--out", out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Files.size(out)).isLessThan(20_000);
    assertThat(texts(svg(out))).contains("arithmetic intensity (FLOP per HBM byte)").contains("achieved throughput (TFLOP/s)")
        .contains("gemm:m=16,k=8192,n=8192");
  }

  @Test
  void aFailingRunWritesNoChart() {
    Path png = tmp.resolve("x.png");
    var fit = CliHarness.run("run", "-H", "trn2", "-w", "llm-train:model=llama3-70b", "--chart", png.toString());
    assertThat(fit.code()).isEqualTo(ExitCodes.BAD_INPUT);
    var kernel = CliHarness.run("run", "-H", "trn2", "-w", "copy:bytes=1MiB", "--chart", png.toString());
    assertThat(kernel.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(kernel.err()).contains("--chart");
    var single = CliHarness.run("collective", "-H", "trn2-ultraserver", "--chart", png.toString());
    assertThat(single.code()).isEqualTo(ExitCodes.BAD_INPUT);
    var all = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", "gemm:m=64,k=64,n=64,strategy=nosuch",
        "--chart", png.toString());
    assertThat(all.code()).isEqualTo(ExitCodes.BAD_INPUT);
    var ext = CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", "copy:bytes=1MiB", "--chart",
        tmp.resolve("x.jpg").toString());
    assertThat(ext.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(ext.out()).isEmpty();
    assertThat(png).doesNotExist();
    assertThat(tmp.resolve("x.jpg")).doesNotExist();
    try (var s = Files.list(tmp)) {
      assertThat(s).isEmpty(); // no temporary files left either
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
