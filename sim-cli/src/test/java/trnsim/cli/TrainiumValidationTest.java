package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The model against the published Trainium measurements (calibration/trainium), with the thresholds
 * of issue 18: every record expressible and simulated, and per group a median |error| of at most 10%
 * and no point worse than 30%. This is the regression gate for every model change.
 */
class TrainiumValidationTest {
  @Test
  void everyGroupMeetsItsThresholds() throws Exception {
    var r = CliHarness.run("validate", "--calibration", TrainiumCalibrationTest.SET.toString(), "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode doc = Json.MAPPER.readTree(r.out());
    for (JsonNode p : doc.get("points")) {
      assertThat(p.get("failure").isNull()).as("%s: %s", p.get("point").asText(), p.get("failure").asText()).isTrue();
    }
    Map<String, JsonNode> groups = new HashMap<>();
    for (JsonNode s : doc.get("statistics")) {
      groups.put(s.get("group").asText(), s);
    }
    assertThat(groups.keySet()).contains("kernels", "collectives", "inference TTFT", "inference TPOT", "training");
    for (var e : groups.entrySet()) {
      JsonNode s = e.getValue();
      assertThat(s.get("counted").asInt()).as(e.getKey() + " counted").isEqualTo(s.get("points").asInt());
      assertThat(s.get("median_abs_error").asDouble()).as(e.getKey() + " median |error|").isLessThanOrEqualTo(0.10);
      assertThat(s.get("worst_abs_error").asDouble()).as(e.getKey() + " worst |error| (" + s.get("worst_point").asText() + ")")
          .isLessThanOrEqualTo(0.30);
    }
  }
}
