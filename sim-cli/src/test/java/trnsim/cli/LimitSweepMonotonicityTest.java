package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Time is monotone in the power limit: a higher limit never makes the same workload slower. A
 * coarse subset of the documented long run (1 W steps over 100-700 W on trn2, trn3 and h100,
 * docs/robustness.md): the limiter's clock at each limit, the kernel re-chosen at that clock.
 */
class LimitSweepMonotonicityTest {
  static double time(String hw, String w, int watts) throws Exception {
    var r = CliHarness.run("run", "-H", hw, "-w", w, "--set", "chip.power.limit=" + watts + "W", "--format", "json");
    assertThat(r.code()).as(r.err()).isZero();
    return Json.MAPPER.readTree(r.out()).get("time_s").asDouble();
  }

  @Test
  void aHigherPowerLimitIsNeverSlower() throws Exception {
    int step = Integer.getInteger("limits.step", 75);
    for (String[] c : new String[][] {{"trn2", "gemm:m=2048,k=2048,n=2048"}, {"trn3", "gemm:m=2048,k=2048,n=2048,dtype=mxfp8"}}) {
      double previous = Double.MAX_VALUE;
      for (int watts = 100; watts <= 700; watts += step) {
        double t = time(c[0], c[1], watts);
        assertThat(t).as("%s %s at %d W", c[0], c[1], watts).isLessThanOrEqualTo(previous);
        previous = t;
      }
    }
  }
}
