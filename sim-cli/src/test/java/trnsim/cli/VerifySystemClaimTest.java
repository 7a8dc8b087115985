package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * verify judges a claim on system workloads (llm-infer / llm-train) per token on each whole system, as the cost
 * claims file does: cost_ratio is the target's USD per million tokens over the baseline's, both reported; the exit
 * code is 0 when the value is in the expected range and 1 when it is not.
 */
class VerifySystemClaimTest {
  static String claims(String range) {
    return """
        description: cost per token, system workloads
        claims:
          - name: decode-cost
            statement: "cheaper decode"
            baseline: trn2-48xl
            target: trn3-ultraserver
            workload: llm-infer:model=llama3.2-1b,phase=decode,batch=1,ctx=512
            metric: cost_ratio
            published: 0.5
            expected: %s
            source: test
        """.formatted(range);
  }

  @Test
  void costRatioIsThePerTokenCostRatioAndTheExitCodeFollowsTheRange(@TempDir Path dir) throws Exception {
    Path wide = dir.resolve("wide.yaml");
    Files.writeString(wide, claims("{min: 0.0, max: 100.0}"));
    var r = CliHarness.run("verify", wide.toString(), "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode row = Json.MAPPER.readTree(r.out()).get("claims").get(0);
    double b = row.get("baseline_usd_per_mtok").asDouble();
    double t = row.get("target_usd_per_mtok").asDouble();
    assertThat(b).isPositive();
    assertThat(t).isPositive();
    assertThat(row.get("simulated").asDouble()).isCloseTo(t / b, within(1e-12));
    Path narrow = dir.resolve("narrow.yaml");
    Files.writeString(narrow, claims("{min: 1000.0}"));
    var f = CliHarness.run("verify", narrow.toString());
    assertThat(f.code()).isEqualTo(1);
    assertThat(f.out()).contains("USD per million tokens");
  }
}
