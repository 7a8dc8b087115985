package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Time is monotone in the power limit: a higher limit never makes the same workload slower. A
 * subset of the documented long run (1 W steps over 100-700 W on trn2, trn3 and h100,
 * docs/robustness.md): 75 W steps plus six seeded random whole-watt limits per chip, the limiter's
 * clock at each limit, the kernel re-chosen at that clock. {@code -Dlimits.step=1} is the long run.
 * The h100 runs with {@code chip.power.idle=0W} (the energy table's 118 W static power, as
 * h100.yaml's measured idle) so that limits at or below 118 W run at the lowest clock instead of
 * being refused as below idle.
 */
class LimitSweepMonotonicityTest {
  static double time(String hw, String w, int watts, String... sets) throws Exception {
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(
        "run", "-H", hw, "-w", w, "--set", "chip.power.limit=" + watts + "W", "--format", "json"));
    for (String s : sets) {
      args.add("--set");
      args.add(s);
    }
    var r = CliHarness.run(args.toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isZero();
    return Json.MAPPER.readTree(r.out()).get("time_s").asDouble();
  }

  @Test
  void aHigherPowerLimitIsNeverSlower() throws Exception {
    int step = Integer.getInteger("limits.step", 75);
    Random rnd = new Random(16);
    String[][] cases = {{"trn2", "gemm:m=2048,k=2048,n=2048"}, {"trn3", "gemm:m=2048,k=2048,n=2048,dtype=mxfp8"},
        {"h100", "gemm:m=1024,k=1024,n=1024", "chip.power.idle=0W"}};
    for (String[] c : cases) {
      TreeSet<Integer> limits = new TreeSet<>();
      for (int watts = 100; watts <= 700; watts += step) {
        limits.add(watts);
      }
      for (int i = 0; i < 6; i++) {
        limits.add(100 + rnd.nextInt(601));
      }
      String[] sets = java.util.Arrays.copyOfRange(c, 2, c.length);
      double previous = Double.MAX_VALUE;
      for (int watts : limits) {
        double t = time(c[0], c[1], watts, sets);
        assertThat(t).as("%s %s at %d W", c[0], c[1], watts).isLessThanOrEqualTo(previous);
        previous = t;
      }
    }
  }
}
