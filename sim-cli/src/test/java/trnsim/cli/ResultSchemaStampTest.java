package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import trnsim.core.api.ResultSchema;
import trnsim.core.api.Version;

/** Every command's JSON names its schema and trnsim version, and writes an absent value as null, never "NaN". */
class ResultSchemaStampTest {
  @TempDir
  Path tmp;

  /** The top-level object(s): an object, or each element of an array. */
  private static List<JsonNode> tops(String json) throws Exception {
    JsonNode n = Json.MAPPER.readTree(json);
    List<JsonNode> out = new ArrayList<>();
    if (n.isArray()) {
      n.forEach(out::add);
    } else {
      out.add(n);
    }
    return out;
  }

  private static void assertStamped(CliHarness.Result r) throws Exception {
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).doesNotContain("NaN").doesNotContain("Infinity");
    for (JsonNode n : tops(r.out())) {
      assertThat(n.path("schema").asText()).isEqualTo(ResultSchema.ID);
      assertThat(n.path("trnsim_version").asText()).isEqualTo(Version.current()).isNotEqualTo("unknown");
    }
  }

  @Test
  void runCompareCollectiveServe() throws Exception {
    assertStamped(CliHarness.run("run", "-H", "trn2", "-w", "copy:bytes=1MiB", "--format", "json"));
    // two workloads: an array of exactly the one-workload objects
    var two = CliHarness.run("run", "-H", "trn2", "-w", "kernels", "--format", "json");
    assertStamped(two);
    JsonNode first = tops(two.out()).get(0);
    var one = CliHarness.run("run", "-H", "trn2", "-w", first.get("workload").asText(), "--format", "json");
    assertThat(Json.MAPPER.readTree(one.out())).isEqualTo(first);
    assertStamped(CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", "copy:bytes=1MiB", "--format", "json"));
    assertStamped(CliHarness.run("plot", "roofline", "-H", "trn2", "-w", "gemm:m=512,k=512,n=512", "--out",
        java.nio.file.Files.createTempDirectory("plot").resolve("r.svg").toString(), "--format", "json"));
    assertStamped(CliHarness.run("collective", "--hardware", "trn2-48xl", "--op", "all-reduce", "--bytes", "1MiB", "--format",
        "json"));
    assertStamped(CliHarness.run("serve", "-H", "trn2", "--model", "llama3.2-1b", "--tp", "4", "--arrival", "fixed", "--rate", "0.1",
        "--prompt", "128", "--output", "16", "--requests", "2", "--format", "json"));
  }

  @Test
  void verifyValidateSweep() throws Exception {
    Path claims = tmp.resolve("claims.yaml");
    Files.writeString(claims, """
        description: one quick claim
        claims:
          - name: trn3-copy-gbps
            target: trn3
            workload: copy:bytes=64MiB
            metric: achieved_hbm_gbps
            published: 1000
            expected: {min: 1000}
            source: test
        """);
    assertStamped(CliHarness.run("verify", claims.toString(), "--format", "json"));
    Path chip = Files.createDirectories(tmp.resolve("cal").resolve("trn2"));
    Files.writeString(chip.resolve("copy.csv"), "bytes,ms,ms_run2,gbps\n67108864,0.134,0.134,1000\n");
    assertStamped(CliHarness.run("validate", "--calibration", tmp.resolve("cal").toString(), "--format", "json"));
    assertStamped(CliHarness.run("sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB,2MiB", "--out",
        tmp.resolve("s.jsonl").toString(), "--no-progress", "--format", "json"));
  }
}
