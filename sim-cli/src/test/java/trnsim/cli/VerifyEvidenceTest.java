package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/** verify's evidence labels (arithmetic, simulated, circular), their check, and the factors of each claim. */
class VerifyEvidenceTest {
  @TempDir
  Path tmp;

  static final String DECODE = "llm-infer:model=llama3-8b,phase=decode,batch=8,ctx=2048";

  /**
   * A copy is HBM-bound on both chips: its speedup is the bandwidth ratio (arithmetic). A single-chip
   * decode step is a simulation result (its utilisation differs between the chips). The perf/W claim
   * rests on a power figure taken from the claim (circular).
   */
  static String mixed(String copyLabel, String decodeLabel) {
    return """
        description: the three evidence labels
        claims:
          - name: copy-bandwidth
            baseline: trn2
            target: trn3
            workload: copy:bytes=64MiB
            metric: speedup
            expected: {min: 1.4, max: 1.9}
            evidence: %s
          - name: decode-step
            baseline: trn2
            target: trn3
            workload: %s
            metric: speedup
            expected: {min: 1.1, max: 2.0}
            evidence: %s
          - name: efficiency
            baseline: trn2
            target: trn3
            workload: gemm:m=2048,k=2048,n=2048,dtype=fp8
            metric: perf_per_watt_ratio
            expected: {min: 1.0, max: 2.0}
            evidence: circular
            derived_from: "trn3 chip.power.limit"
        """.formatted(copyLabel, DECODE, decodeLabel);
  }

  private Path write(String text) throws Exception {
    Path p = tmp.resolve("claims.yaml");
    Files.writeString(p, text);
    return p;
  }

  private static Map<String, JsonNode> byName(CliHarness.Result r) throws Exception {
    Map<String, JsonNode> m = new HashMap<>();
    for (JsonNode c : Json.MAPPER.readTree(r.out()).get("claims")) {
      m.put(c.get("name").asText(), c);
    }
    return m;
  }

  @Test
  void aFileMixingTheThreeLabelsReportsEachAndJunitCarriesThem() throws Exception {
    Path f = write(mixed("arithmetic", "simulated"));
    Path junit = tmp.resolve("claims.xml");
    var r = CliHarness.run("verify", f.toString(), "--junit", junit.toString(), "--format", "json");
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    Map<String, JsonNode> c = byName(r);
    assertThat(c.get("copy-bandwidth").get("evidence").asText()).isEqualTo("arithmetic");
    assertThat(c.get("decode-step").get("evidence").asText()).isEqualTo("simulated");
    assertThat(c.get("efficiency").get("evidence").asText()).isEqualTo("circular");
    assertThat(c.get("efficiency").get("derived_from").asText()).isEqualTo("trn3 chip.power.limit");
    for (JsonNode claim : c.values()) {
      assertThat(claim.get("evidence_check").asText()).isEqualTo("ok");
    }
    // The decode claim is a system workload: its value is the system row compare prints, factors included.
    var cmp = Json.MAPPER.readTree(CliHarness.run("compare", "--baseline", "trn2", "--target", "trn3", "-w", DECODE,
        "--format", "json").out()).get("rows").get(0);
    assertThat(c.get("decode-step").get("simulated").asDouble()).isEqualTo(cmp.get("speedup").asDouble());
    double p = 1;
    for (JsonNode x : c.get("decode-step").get("explain").get("factors")) {
      p *= x.get("value").asDouble();
    }
    assertThat(p).isCloseTo(c.get("decode-step").get("simulated").asDouble(), within(1e-9));
    // perf/W = speedup x power ratio, exactly (same work on both sides).
    assertThat(c.get("efficiency").get("explain").get("metric_text").asText()).contains("perf/W =").contains("x speedup x");
    Document x = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(junit.toFile());
    var cases = x.getElementsByTagName("testcase");
    assertThat(cases.getLength()).isEqualTo(3);
    Map<String, String> labels = new HashMap<>();
    for (int i = 0; i < cases.getLength(); i++) {
      Element tc = (Element) cases.item(i);
      Element prop = (Element) tc.getElementsByTagName("property").item(0);
      assertThat(prop.getAttribute("name")).isEqualTo("evidence");
      labels.put(tc.getAttribute("name"), prop.getAttribute("value"));
      assertThat(tc.getElementsByTagName("system-out").item(0).getTextContent()).startsWith("[" + prop.getAttribute("value") + "]");
    }
    assertThat(labels).containsEntry("copy-bandwidth", "arithmetic").containsEntry("decode-step", "simulated")
        .containsEntry("efficiency", "circular");
    var table = CliHarness.run("verify", f.toString());
    assertThat(table.out()).contains("arithmetic").contains("simulated").contains("circular")
        .contains("efficiency: trn3 chip.power.limit");
  }

  @Test
  void aLabelThatDoesNotFitTheDecompositionFailsTheClaim() throws Exception {
    // Swapped labels: the copy compares peak bandwidths only; the decode step's utilisation differs by > 10%.
    var r = CliHarness.run("verify", write(mixed("simulated", "arithmetic")).toString(), "--format", "json");
    assertThat(r.code()).isEqualTo(ExitCodes.CLAIM_FAILED);
    Map<String, JsonNode> c = byName(r);
    assertThat(c.get("copy-bandwidth").get("pass").asBoolean()).isFalse();
    assertThat(c.get("copy-bandwidth").get("message").asText()).contains("declared simulated").contains("label it arithmetic");
    assertThat(c.get("decode-step").get("pass").asBoolean()).isFalse();
    assertThat(c.get("decode-step").get("message").asText()).contains("declared arithmetic").contains("label it simulated");
    assertThat(c.get("efficiency").get("pass").asBoolean()).isTrue();
  }

  @Test
  void malformedLabelsAreBadInput() throws Exception {
    var bad = CliHarness.run("verify", write(mixed("guessed", "simulated")).toString());
    assertThat(bad.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(bad.err()).contains("claims[0].evidence = 'guessed'").contains("arithmetic, simulated, circular");
    assertThat(bad.out()).isEmpty();
    var noSource = CliHarness.run("verify", write(mixed("arithmetic", "simulated").replace("    derived_from: \"trn3 chip.power.limit\"\n", ""))
        .toString());
    assertThat(noSource.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(noSource.err()).contains("claims[2].derived_from");
    var stray = CliHarness.run("verify", write(mixed("arithmetic", "simulated").replace("evidence: circular", "evidence: simulated"))
        .toString());
    assertThat(stray.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(stray.err()).contains("claims[2].derived_from").contains("only circular claims");
  }

  @Test
  void theShippedClaimsAreLabelledAndTheirLabelsPassTheCheck() throws Exception {
    var r = CliHarness.run("verify", CliHarness.HOME.resolve("configs/claims/trn3-vs-trn2.yaml").toString(), "--format", "json");
    assertThat(r.code()).as(r.out()).isZero();
    Map<String, JsonNode> c = byName(r);
    assertThat(c.get("chip-energy-efficiency-40pct").get("evidence").asText()).isEqualTo("circular");
    for (String n : new String[] {"ultraserver-compute-4.4x", "chip-fp8-2x", "chip-memory-bandwidth-1.7x", "ultraserver-memory-bandwidth-3.8x"}) {
      assertThat(c.get(n).get("evidence").asText()).as(n).isEqualTo("arithmetic");
      assertThat(c.get(n).get("evidence_check").asText()).as(n).isEqualTo("ok");
    }
  }
}
