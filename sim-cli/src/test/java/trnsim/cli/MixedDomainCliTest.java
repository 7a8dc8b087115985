package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * The NVLink Fusion domain (trn4-nvlink-fusion-gb300) from the command line: a disaggregated request
 * reports each group with its own chips, price and PROJECTION label, the KV transfer and the
 * bottleneck; a bad placement is one line and exit 2.
 */
class MixedDomainCliTest {
  static final String HW = "trn4-nvlink-fusion-gb300";

  @Test
  void aDisaggregatedRequestReportsEachGroupAndSaysProjection() throws Exception {
    String w = "llm-infer:model=llama3.2-1b,prompt=128,output=8,batch=1,prefill=trn,decode=gpu";
    var r = CliHarness.run("run", "-H", HW, "-w", w, "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(r.out());
    assertThat(j.get("projection").asBoolean()).isTrue();
    JsonNode groups = j.get("groups");
    assertThat(groups).hasSize(2);
    assertThat(groups.get(0).get("name").asText()).isEqualTo("trn");
    assertThat(groups.get(0).get("projection").asBoolean()).isTrue();
    assertThat(groups.get(1).get("hardware").asText()).isEqualTo("gb300-nvl72");
    assertThat(groups.get(1).get("projection").asBoolean()).isFalse();
    // each group costs its own chips at its own price: the total is their sum
    double sum = groups.get(0).get("cost_usd").asDouble() + groups.get(1).get("cost_usd").asDouble();
    assertThat(j.get("cost_usd").asDouble()).isEqualTo(sum);
    // llama3.2-1b: 16 layers x 2 x 8 kv heads x 64 x 128 positions x 2 B = 4 MiB per request
    double perRequest = 16.0 * 2 * 8 * 64 * 128 * 2;
    double requests = j.get("transfers").get(0).get("bytes").asDouble() / perRequest;
    assertThat(requests).isEqualTo(Math.rint(requests)).isPositive();
    assertThat(j.get("bottleneck").asText()).isNotBlank();
  }

  @Test
  void aBadPlacementIsOneLineAndExitTwo() {
    for (String w : new String[] {"llm-train:model=llama3-70b,stages=trn:50+gpu:40", "llm-train:model=llama3-70b,stages=trn:40+tpu:40",
        "llm-infer:model=llama3-70b,prompt=128,output=8,prefill=trn,decode=trn"}) {
      var r = CliHarness.run("run", "-H", HW, "-w", w);
      assertThat(r.code()).as(w).isEqualTo(2);
      assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
      assertThat(r.err()).doesNotContain("Exception").contains("llm-");
      assertThat(r.out()).isEmpty();
    }
  }
}
