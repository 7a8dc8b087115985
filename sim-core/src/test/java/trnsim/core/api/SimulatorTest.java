package trnsim.core.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.RunOptions;

/** The simulation API on its own: power limit, operating point, absent values, and no shared state between calls. */
class SimulatorTest {
  static final Path CONFIGS = Path.of("..", "configs").toAbsolutePath().normalize();
  private final Simulator sim = new Simulator(CONFIGS);

  private static final String GEMM = "gemm:m=1024,k=2048,n=1024";

  @Test
  void aBindingPowerLimitLowersTheClockAndTheRunFitsIt() {
    HardwareSpec free = sim.hardware("trn2", List.of());
    HardwareSpec capped = sim.hardware("trn2", List.of("chip.power.limit=125W"));
    KernelRunResult full = sim.runKernel(free, GEMM, RunOptions.defaults());
    KernelRunResult low = sim.runKernel(capped, GEMM, RunOptions.defaults());
    assertThat(full.operating().powerLimited()).isFalse();
    assertThat(full.energy().watts()).isGreaterThan(125);
    assertThat(low.operating().powerLimited()).isTrue();
    assertThat(low.operating().clockGhz()).isLessThan(low.operating().maxClockGhz());
    assertThat(low.energy().watts()).isLessThanOrEqualTo(125 * 1.01);
    // the same FLOPs at a lower clock take longer; the work itself does not change
    assertThat(low.timeSeconds()).isGreaterThan(full.timeSeconds());
    assertThat(low.result().flops()).isEqualTo(full.result().flops());
    // the result's hardware is the one actually run: its tensor clock is the lowered one
    assertThat(trnsim.core.energy.ClockScaling.tensorClockGhz(low.hardware())).isEqualTo(low.operating().clockGhz());
  }

  @Test
  void runDispatchesOnTheWorkloadKind() {
    HardwareSpec hw = sim.hardware("trn2", List.of());
    assertThat(sim.run(hw, "copy:bytes=1MiB", RunOptions.defaults())).isInstanceOf(KernelRunResult.class);
    assertThat(Simulator.isSystemWorkload("llm-infer:model=llama3-8b")).isTrue();
    assertThat(Simulator.isSystemWorkload("gemm:m=1,k=1,n=1")).isFalse();
  }

  @Test
  void absentValuesAreNullInTheTreeAndEveryTreeIsStamped() {
    // trn2 alone has no price per chip-hour: cost is absent, not NaN
    Map<String, Object> m = ResultSchema.json(sim.run(sim.hardware("trn2", List.of()), GEMM, RunOptions.defaults()));
    assertThat(m).containsKey("cost_usd");
    assertThat(m.get("cost_usd")).isNull();
    assertThat(m.get("schema")).isEqualTo(ResultSchema.ID);
    assertThat(m.get("trnsim_version")).isEqualTo(Version.current());
    assertNoNonFinite(m);
  }

  private static void assertNoNonFinite(Object v) {
    if (v instanceof Double d) {
      assertThat(d).isFinite();
    } else if (v instanceof Map<?, ?> map) {
      map.values().forEach(SimulatorTest::assertNoNonFinite);
    } else if (v instanceof List<?> list) {
      list.forEach(SimulatorTest::assertNoNonFinite);
    }
  }

  @Test
  void concurrentCallsOnOneSimulatorGiveTheSameTreeAsOneAtATime() throws Exception {
    HardwareSpec hw = sim.hardware("trn2", List.of("chip.power.limit=125W"));
    Map<String, Object> alone = ResultSchema.json(sim.run(hw, GEMM, RunOptions.defaults()));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<Map<String, Object>>> fs = List.of(
          pool.submit(() -> ResultSchema.json(sim.run(hw, GEMM, RunOptions.defaults()))),
          pool.submit(() -> ResultSchema.json(sim.run(hw, GEMM, RunOptions.defaults()))));
      for (var f : fs) {
        assertThat(f.get()).isEqualTo(alone);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
