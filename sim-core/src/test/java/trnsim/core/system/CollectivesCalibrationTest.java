package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.system.Collectives.Algo;
import trnsim.core.system.Collectives.Op;
import trnsim.isa.DType;

/**
 * The nccom-test records of calibration/trainium/measurements.json (kinds collective_all_reduce and
 * collective_all_gather) reproduced by the standalone collective model: median |error| <= 10%, none
 * worse than 30% (the calibration target), the 2-rank floor and plateau within 10%.
 */
class CollectivesCalibrationTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final HardwareLoader LOADER = new HardwareLoader(ROOT.resolve("configs"));

  record Point(String id, double measuredUs, double predictedUs) {
    double error() {
      return (predictedUs - measuredUs) / measuredUs;
    }
  }

  static List<Point> points() throws IOException {
    JsonNode all = new ObjectMapper().readTree(ROOT.resolve("calibration/trainium/measurements.json").toFile());
    JsonNode recs = all.isArray() ? all : all.get("records");
    HardwareSpec hw = LOADER.load("trn1-32xl", List.of()).spec();
    List<Point> out = new ArrayList<>();
    for (JsonNode r : recs) {
      String kind = r.get("kind").asText();
      if (!kind.equals("collective_all_reduce") && !kind.equals("collective_all_gather")) {
        continue;
      }
      JsonNode p = r.get("params");
      Op op = Op.parse(p.get("op").asText().replace('_', '-'));
      int ranks = p.get("ranks").asInt();
      int nodes = p.get("nodes").asInt();
      DType dtype = Collectives.elementType(p.get("dtype").asText());
      var res = Collectives.onSystem(hw, nodes, RankLayout.of(hw.chip(), null), op, ranks, p.get("size_bytes").asDouble(),
          dtype, Algo.AUTO);
      out.add(new Point(r.get("id").asText(), r.get("value").asDouble(), res.seconds() * 1e6));
    }
    return out;
  }

  static double median(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    s.sort(null);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  @Test
  void nccomTestCurvesAreReproduced() throws IOException {
    List<Point> pts = points();
    assertThat(pts).hasSize(16);
    List<Double> errs = new ArrayList<>();
    StringBuilder table = new StringBuilder();
    for (Point p : pts) {
      errs.add(Math.abs(p.error()));
      table.append(String.format(Locale.ROOT, "%-40s %9.1f %9.1f %+6.1f%%%n", p.id(), p.measuredUs(), p.predictedUs(),
          100 * p.error()));
    }
    System.out.print(table);
    assertThat(median(errs)).as(table.toString()).isLessThanOrEqualTo(0.10);
    assertThat(errs.stream().mapToDouble(Double::doubleValue).max().orElseThrow()).as(table.toString())
        .isLessThanOrEqualTo(0.30);
    // The curve's two ends: the launch-bound floor and the bandwidth plateau, each within 5%.
    for (Point p : pts) {
      if (p.id().matches("trn1-nccom-allr-2r-fp32-(1024|4096|16384)B|trn1-nccom-allr-2r-fp32-(268435456|1073741824)B")) {
        assertThat(Math.abs(p.error())).as(p.id()).isLessThanOrEqualTo(0.05);
      }
      if (p.id().startsWith("trn1-nccom-allg-32r")) { // 31 ring steps over NeuronLink
        assertThat(Math.abs(p.error())).as(p.id()).isLessThanOrEqualTo(0.10);
      }
    }
  }

  @Test
  void efaPointToPointLatencyIsTheRawWrite() throws IOException {
    JsonNode all = new ObjectMapper().readTree(ROOT.resolve("calibration/trainium/measurements.json").toFile());
    JsonNode recs = all.isArray() ? all : all.get("records");
    HardwareSpec hw = LOADER.load("trn2-48xl", List.of()).spec();
    Fabric two = Fabric.of(hw, 2, RankLayout.of(hw.chip(), null));
    int found = 0;
    for (JsonNode r : recs) {
      if (r.get("kind").asText().equals("network_p2p_latency")) {
        // ib_write_lat: a minimal packet from an HBM of one server to an HBM of the other; rank 0 of each.
        double us = Collectives.rawTransfer(two, 0, two.size() / 2, 8).seconds() * 1e6;
        assertThat(us).isCloseTo(r.get("value").asDouble(), within(r.get("value").asDouble() * 0.10));
        found++;
      }
    }
    assertThat(found).isEqualTo(1);
  }
}
