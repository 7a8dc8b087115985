package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ValidateCommandTest {
  @TempDir
  Path tmp;

  private static Calibration.Compared cmp(String group, double measured, double predicted, double ms) {
    return new Calibration.Compared(new Calibration.Point("x", group, group + " " + measured + "/" + predicted, "copy:bytes=1",
        Calibration.Metric.GBPS, measured, ms, 1), predicted);
  }

  @Test
  void statisticsAreMedianAndWorstAbsoluteErrorOverCountedPoints() {
    List<Calibration.Compared> cs = List.of(
        cmp("a", 100, 110, 1.0),   // +10%
        cmp("a", 100, 95, 1.0),    // -5%
        cmp("a", 100, 80, 1.0),    // -20%
        cmp("a", 100, 300, 0.01),  // launch-bound: listed, not counted
        cmp("b", 200, 202, 0.05),  // +1%, exactly at the threshold: counted
        cmp("b", 200, 196, 2.0));  // -2%
    var stats = Calibration.stats(cs);
    assertThat(stats).extracting(Calibration.Stats::group).containsExactly("a", "b", "all");
    var a = stats.get(0);
    assertThat(a.points()).isEqualTo(4);
    assertThat(a.counted()).isEqualTo(3);
    assertThat(a.medianAbsError()).isCloseTo(0.10, within(1e-12));
    assertThat(a.worstAbsError()).isCloseTo(0.20, within(1e-12));
    var b = stats.get(1);
    assertThat(b.counted()).isEqualTo(2);
    assertThat(b.medianAbsError()).isCloseTo(0.015, within(1e-12)); // even count: mean of the middle two
    var all = stats.get(2);
    assertThat(all.counted()).isEqualTo(5);
    assertThat(all.medianAbsError()).isCloseTo(0.05, within(1e-12)); // 0.01, 0.02, 0.05, 0.10, 0.20
    assertThat(all.worstAbsError()).isCloseTo(0.20, within(1e-12));
  }

  @Test
  void syntheticFolderIsParsedSimulatedAndSummarised() throws Exception {
    Path chip = Files.createDirectories(tmp.resolve("trn2"));
    // 64 MiB copy, measured at exactly 1000 GB/s (read + write counted); 1 MiB copy is launch-bound.
    double ms = 2.0 * 64 * 1048576 / 1000e9 * 1e3;
    Files.writeString(chip.resolve("copy.csv"), "bytes,ms,ms_run2,gbps\n1048576,0.01,0.01,1\n67108864," + ms + "," + ms + ",1000\n");
    var r = CliHarness.run("validate", "--calibration", tmp.toString(), "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode n = Json.MAPPER.readTree(r.out());
    assertThat(n.get("points")).hasSize(2);
    JsonNode big = n.get("points").get(1);
    assertThat(big.get("measured").asDouble()).isCloseTo(1000.0, within(1e-6));
    assertThat(big.get("counted").asBoolean()).isTrue();
    assertThat(n.get("points").get(0).get("counted").asBoolean()).isFalse();
    double err = big.get("predicted").asDouble() / 1000.0 - 1;
    assertThat(big.get("error").asDouble()).isCloseTo(err, within(1e-12));
    JsonNode copy = n.get("statistics").get(0);
    assertThat(copy.get("group").asText()).isEqualTo("copy");
    assertThat(copy.get("counted").asInt()).isEqualTo(1);
    assertThat(copy.get("median_abs_error").asDouble()).isCloseTo(Math.abs(err), within(1e-12));
    var table = CliHarness.run("validate", "--calibration", tmp.toString());
    assertThat(table.out()).contains("launch-bound").contains("median |error|");
  }

  @Test
  void missingFolderOrMalformedCsvIsOneLineExitTwo() throws Exception {
    var missing = CliHarness.run("validate", "--calibration", tmp.resolve("nope").toString());
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err().strip().lines()).hasSize(1);
    assertThat(missing.err()).contains("no such folder");

    Path chip = Files.createDirectories(tmp.resolve("bad").resolve("h100"));
    Files.writeString(chip.resolve("gemm.csv"), "dtype,M,K,N,ms\nbf16,128,128,128,fast\n");
    var bad = CliHarness.run("validate", "--calibration", tmp.resolve("bad").toString());
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err().strip().lines()).hasSize(1);
    assertThat(bad.err()).contains("gemm.csv line 2").contains("ms");

    Files.writeString(chip.resolve("gemm.csv"), "dtype,M,K\nbf16,128,128\n");
    var cols = CliHarness.run("validate", "--calibration", tmp.resolve("bad").toString());
    assertThat(cols.code()).isEqualTo(2);
    assertThat(cols.err().strip().lines()).hasSize(1);
    assertThat(cols.err()).contains("no column 'N'");
  }
}
