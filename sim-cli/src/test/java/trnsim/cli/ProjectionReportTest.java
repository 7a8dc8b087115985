package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trn4-projection configs carry {@code projection: true}, and every report that uses them says "projection":
 * the run and compare tables (first line) and JSON (a {@code projection} key), and verify's claim rows; reports of
 * sourced configs say nothing of the kind. The projected numbers are the announced ratios over Trn3.
 */
class ProjectionReportTest {
  static CliHarness.Result ok(String... args) {
    var r = CliHarness.run(args);
    assertThat(r.code()).as(r.err()).isZero();
    return r;
  }

  @Test
  void runSaysProjectionInTableAndJson() throws Exception {
    String table = ok("run", "-H", "trn4-projection", "-w", "copy:bytes=64MiB").out();
    assertThat(table.lines().findFirst().orElse("")).startsWith("PROJECTION: trn4-projection");
    JsonNode j = Json.MAPPER.readTree(ok("run", "-H", "trn4-projection", "-w", "copy:bytes=64MiB", "--format", "json").out());
    assertThat(j.get("projection").asBoolean()).isTrue();
    String sourced = ok("run", "-H", "trn3", "-w", "copy:bytes=64MiB").out();
    assertThat(sourced).doesNotContain("PROJECTION");
    JsonNode js = Json.MAPPER.readTree(ok("run", "-H", "trn3", "-w", "copy:bytes=64MiB", "--format", "json").out());
    assertThat(js.has("projection")).isFalse();
  }

  @Test
  void compareSaysProjectionAndTheBandwidthRatioIsTheAnnouncedOne() throws Exception {
    String table = ok("compare", "--baseline", "trn3", "--target", "trn4-projection", "-w", "copy:bytes=1GiB").out();
    assertThat(table).startsWith("PROJECTION: trn4-projection");
    JsonNode j = Json.MAPPER.readTree(ok("compare", "--baseline", "trn3", "--target", "trn4-projection", "-w", "copy:bytes=1GiB",
        "--format", "json").out());
    assertThat(j.get("projection").get(0).asText()).isEqualTo("trn4-projection");
    // "4x memory bandwidth": an HBM-bound copy is ~4x faster (both sides reach ~the same fraction of their HBM)
    assertThat(j.get("rows").get(0).get("speedup").asDouble()).isCloseTo(4.0, within(0.2));
  }

  @Test
  void systemRunAndVerifySayProjection(@TempDir Path dir) throws Exception {
    JsonNode j = Json.MAPPER.readTree(ok("run", "-H", "trn4-projection-ultraserver", "-w",
        "llm-infer:model=llama3.2-1b,phase=decode,batch=1,ctx=512", "--format", "json").out());
    assertThat(j.get("projection").asBoolean()).isTrue();
    Path claims = dir.resolve("c.yaml");
    Files.writeString(claims, """
        description: projection flag
        claims:
          - name: bw
            statement: "4x memory bandwidth"
            baseline: trn3
            target: trn4-projection
            workload: copy:bytes=1GiB
            metric: speedup
            published: 4.0
            expected: {min: 3.6, max: 4.4}
            source: test
        """);
    JsonNode v = Json.MAPPER.readTree(ok("verify", claims.toString(), "--format", "json").out());
    JsonNode row = v.get("claims").get(0);
    assertThat(row.get("projection").get(0).asText()).isEqualTo("trn4-projection");
    assertThat(row.get("message").asText()).contains("PROJECTION");
  }
}
