package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** The power limit and cost as {@code run} and {@code compare} report them. */
class PowerCostReportTest {
  private static JsonNode run(String... extra) throws Exception {
    String[] base = {"run", "--format", "json"};
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    var r = CliHarness.run(args);
    assertThat(r.code()).as(r.err()).isZero();
    return Json.MAPPER.readTree(r.out());
  }

  @Test
  void halvingThePowerLimitNeverRaisesThroughput() throws Exception {
    String w = "gemm:m=1024,k=2048,n=1024";
    JsonNode full = run("-H", "trn2", "-w", w, "--set", "chip.power.limit=250W");
    JsonNode half = run("-H", "trn2", "-w", w, "--set", "chip.power.limit=125W");
    assertThat(half.get("achieved_tflops").asDouble()).isLessThanOrEqualTo(full.get("achieved_tflops").asDouble());
    assertThat(half.get("power_limited").asBoolean()).isTrue();
    assertThat(half.get("clock_fraction").asDouble()).isLessThan(1.0);
    assertThat(half.get("clock_ghz").asDouble()).isCloseTo(2.4 * half.get("clock_fraction").asDouble(), within(1e-6));
    // The reported run is the throttled one and fits the limit.
    assertThat(half.get("avg_power_w").asDouble()).isLessThanOrEqualTo(125.0 + 1e-9);
    assertThat(half.get("perf_per_watt").asDouble())
        .isCloseTo(half.get("flops").asDouble() / half.get("energy_j").asDouble(), within(1.0));
  }

  @Test
  void memoryBoundWorkloadUnderTheLimitIsNotThrottled() throws Exception {
    JsonNode n = run("-H", "h100", "-w", "copy:bytes=64MiB");
    assertThat(n.get("avg_power_w").asDouble()).isLessThan(700.0);
    assertThat(n.get("power_limited").asBoolean()).isFalse();
    assertThat(n.get("clock_fraction").asDouble()).isEqualTo(1.0);
    assertThat(n.get("clock_ghz").asDouble()).isEqualTo(1.98);
  }

  @Test
  void costScalesWithTimeTimesPrice() throws Exception {
    JsonNode a = run("-H", "trn2-48xl", "-w", "copy:bytes=16MiB");
    JsonNode b = run("-H", "trn2-48xl", "-w", "copy:bytes=64MiB");
    JsonNode c = run("-H", "trn2-48xl", "-w", "copy:bytes=16MiB", "--set", "system.price_per_node_hour_usd=71.52");
    double price = 35.76 / 16;
    assertThat(a.get("price_per_chip_hour_usd").asDouble()).isCloseTo(price, within(1e-12));
    for (JsonNode n : new JsonNode[] {a, b}) {
      assertThat(n.get("cost_usd").asDouble()).isCloseTo(n.get("time_s").asDouble() * price / 3600, within(1e-15));
    }
    assertThat(b.get("cost_usd").asDouble() / a.get("cost_usd").asDouble())
        .isCloseTo(b.get("time_s").asDouble() / a.get("time_s").asDouble(), within(1e-9));
    assertThat(c.get("cost_usd").asDouble()).isCloseTo(2 * a.get("cost_usd").asDouble(), within(1e-15));
    // Single-chip configs carry no price: cost is reported as not available.
    assertThat(run("-H", "trn2", "-w", "copy:bytes=16MiB").get("cost_usd").isNull()).isTrue(); // no price: null, not "NaN"
  }

  @Test
  void compareReportsClocksAndCosts() throws Exception {
    var r = CliHarness.run("compare", "--baseline", "trn2", "--target", "h100", "-w", "copy:bytes=16MiB", "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode row = Json.MAPPER.readTree(r.out()).get("rows").get(0);
    assertThat(row.get("target_clock_ghz").asDouble()).isEqualTo(1.98);
    assertThat(row.get("target_power_limited").asBoolean()).isFalse();
    assertThat(row.has("baseline_cost_usd")).isTrue();
  }
}
