package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

class VerifyCommandTest {
  @TempDir
  Path tmp;

  static final Path SHIPPED = CliHarness.HOME.resolve("configs/claims/trn3-vs-trn2.yaml");

  private static final String SMALL = """
      description: two quick claims
      claims:
        - name: copy-bandwidth
          baseline: trn2
          target: trn3
          workload: copy:bytes=64MiB
          metric: speedup
          published: 1.7
          expected: {min: 1.4, max: 1.9}
          source: test
        - name: trn3-copy-gbps
          target: trn3
          workload: copy:bytes=64MiB
          metric: achieved_hbm_gbps
          expected: {min: 1000}
      """;

  private Path write(String name, String text) throws Exception {
    Path p = tmp.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  private static Document xml(Path p) throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(p.toFile());
  }

  @Test
  void shippedLaunchClaimsHoldAndJunitListsEachClaim() throws Exception {
    Path junit = tmp.resolve("out/claims.xml");
    var r = CliHarness.run("verify", SHIPPED.toString(), "--junit", junit.toString(), "--format", "json");
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    JsonNode doc = Json.MAPPER.readTree(r.out());
    assertThat(doc.get("passed").asBoolean()).isTrue();
    assertThat(doc.get("claims").size()).isEqualTo(5);
    for (JsonNode c : doc.get("claims")) {
      for (String k : VerifyCommand.KEYS) {
        assertThat(c.has(k)).as(k).isTrue();
      }
      assertThat(c.get("simulated").asDouble()).isBetween(c.get("min").asDouble(), c.get("max").asDouble());
      // Every range contains the published value: ranges state the claim, not the simulation.
      assertThat(c.get("published").asDouble()).isBetween(c.get("min").asDouble(), c.get("max").asDouble());
    }
    Document x = xml(junit);
    Element suite = x.getDocumentElement();
    assertThat(suite.getTagName()).isEqualTo("testsuite");
    assertThat(suite.getAttribute("tests")).isEqualTo("5");
    assertThat(suite.getAttribute("failures")).isEqualTo("0");
    assertThat(x.getElementsByTagName("testcase").getLength()).isEqualTo(5);
  }

  @Test
  void aRangeThatExcludesTheSimulatedValueFailsWithExitOne() throws Exception {
    String text = Files.readString(SHIPPED);
    assertThat(text).contains("expected: {min: 1.8, max: 2.2}");
    Path changed = write("changed.yaml", text.replace("expected: {min: 1.8, max: 2.2}", "expected: {min: 2.5, max: 3.0}"));
    Path junit = tmp.resolve("j.xml");
    var r = CliHarness.run("verify", changed.toString(), "--junit", junit.toString());
    assertThat(r.code()).isEqualTo(ExitCodes.CLAIM_FAILED);
    assertThat(r.out()).contains("chip-fp8-2x").contains("FAIL").contains("[2.500, 3.000]").contains("5 claims: 4 hold, 1 fail");
    Document x = xml(junit);
    assertThat(x.getDocumentElement().getAttribute("failures")).isEqualTo("1");
    Element failure = (Element) x.getElementsByTagName("failure").item(0);
    assertThat(((Element) failure.getParentNode()).getAttribute("name")).isEqualTo("chip-fp8-2x");
    assertThat(failure.getAttribute("message")).contains("outside the expected range");
  }

  @Test
  void everyFormat() throws Exception {
    Path f = write("small.yaml", SMALL);
    var t = CliHarness.run("verify", f.toString());
    assertThat(t.code()).as(t.err()).isZero();
    assertThat(t.out()).contains("claim", "published", "expected", "simulated", "PASS", "[1000, +inf]", "2 claims: 2 hold, 0 fail");
    var c = CliHarness.run("verify", f.toString(), "--format", "csv");
    assertThat(c.out().lines().findFirst().orElseThrow()).isEqualTo(String.join(",", VerifyCommand.KEYS));
    assertThat(c.out().lines().count()).isEqualTo(3);
    var j = CliHarness.run("verify", f.toString(), "--format", "json");
    assertThat(Json.MAPPER.readTree(j.out()).get("claims").get(1).get("baseline").isNull()).isTrue();
    assertThat(CliHarness.run("verify", f.toString(), "--format", "json").out()).isEqualTo(j.out());
    var bad = CliHarness.run("verify", f.toString(), "--format", "xml");
    assertThat(bad.code()).isEqualTo(ExitCodes.BAD_INPUT);
    // A JUnit path that cannot be written (its parent is a file) is bad input, not a crash.
    var junit = CliHarness.run("verify", f.toString(), "--junit", f.resolve("x.xml").toString());
    assertThat(junit.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(junit.err().strip()).isEqualTo("error: --junit = '" + f.resolve("x.xml") + "': cannot be created: '" + f
        + "' is a file, not a folder");
    assertThat(CliHarness.run("verify", f.toString(), "--junit").code()).isEqualTo(ExitCodes.BAD_INPUT);
  }

  @Test
  void systemScopeScalesByChipCount() throws Exception {
    Path f = write("sys.yaml", """
        claims:
          - name: chip
            baseline: trn2-ultraserver
            target: trn3-ultraserver
            workload: copy:bytes=64MiB
            metric: speedup
            expected: {min: 0}
          - name: system
            baseline: trn2-ultraserver
            target: trn3-ultraserver
            workload: copy:bytes=64MiB
            metric: speedup
            scope: system
            expected: {min: 0}
        """);
    var r = CliHarness.run("verify", f.toString(), "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode c = Json.MAPPER.readTree(r.out()).get("claims");
    assertThat(c.get(1).get("simulated").asDouble() / c.get(0).get("simulated").asDouble())
        .isCloseTo(144.0 / 64.0, org.assertj.core.api.Assertions.within(1e-9));
  }

  @Test
  void malformedClaimsFilesAreOneLineExitTwo() throws Exception {
    String ok = "claims:\n  - name: a\n    target: trn3\n    workload: copy:bytes=1MiB\n    metric: time_s\n    expected: {min: 0, max: 1}\n";
    String[][] cases = {
        {ok + "    bogus: 3\n", "claims[0].bogus = '3': unknown key"},
        {ok.replace("metric: time_s", "metric: speed"), "claims[0].metric = 'speed'"},
        {ok.replace("{min: 0, max: 1}", "{min: 2, max: 1}"), "claims[0].expected.min = '2.0': greater than max"},
        {ok.replace("{min: 0, max: 1}", "{min: 0, max: x}"), "claims[0].expected.max = 'x'"},
        {ok.replace("{min: 0, max: 1}", "{}"), "claims[0].expected"},
        {ok.replace("    workload: copy:bytes=1MiB\n", ""), "claims[0].workload"},
        {ok.replace("target: trn3", "target: trn9"), "claims[0].target = 'trn9'"},
        {ok.replace("    target: trn3\n", "    target: trn3\n    baseline: trn2\n"), "claims[0].baseline = 'trn2'"},
        {ok.replace("metric: time_s", "metric: speedup"), "claims[0].baseline"},
        {ok.replace("copy:bytes=1MiB", "copy:bytes=1MiB,,=x"), "claims[0].workload"},
        {ok.replace("    workload: copy:bytes=1MiB\n", "    workload: copy:bytes=1MiB\n    target_workload: copy:bytes=2MiB\n"),
            "not both"},
        {ok + ok.substring("claims:\n".length()), "claims[1].name = 'a': claim name used twice"},
        {ok.replace("scope", "x") + "    scope: galaxy\n", "claims[0].scope = 'galaxy'"},
        {"claims: []\n", "no claims"},
        {"claims: [\n", "malformed YAML"},
        {"- a\n- b\n", "top level must be a mapping"},
    };
    for (String[] c : cases) {
      Path f = write("bad.yaml", c[0]);
      var r = CliHarness.run("verify", f.toString());
      assertThat(r.code()).as(c[0] + " -> " + r.err() + r.out()).isEqualTo(ExitCodes.BAD_INPUT);
      assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
      assertThat(r.err()).as(c[0]).startsWith("error: " + f).contains(c[1]);
      assertThat(r.out()).isEmpty();
    }
    var missing = CliHarness.run("verify", tmp.resolve("nope.yaml").toString());
    assertThat(missing.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(missing.err()).contains("file not found");
    assertThat(CliHarness.run("verify").code()).isEqualTo(ExitCodes.BAD_INPUT);
  }

  @Test
  void anUnsupportedWorkloadIsAFailedClaimNotACrash() throws Exception {
    Path f = write("u.yaml", """
        claims:
          - name: mx-on-trn2
            baseline: trn3
            target: trn2
            workload: gemm:m=256,k=256,n=256,dtype=mxfp8
            metric: speedup
            expected: {min: 0}
        """);
    var r = CliHarness.run("verify", f.toString());
    assertThat(r.code()).isEqualTo(ExitCodes.CLAIM_FAILED);
    assertThat(r.out()).contains("cannot simulate").contains("mxfp8");
  }
}
