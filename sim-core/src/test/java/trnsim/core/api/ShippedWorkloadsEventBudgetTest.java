package trnsim.core.api;

import static org.assertj.core.api.Assertions.assertThatCode;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import trnsim.core.config.ModelLoader;
import trnsim.core.run.RunOptions;

/**
 * The simulator's cost guard is its event budget ({@code --max-events}, default
 * {@link RunOptions#DEFAULT_MAX_EVENTS}), no longer an instruction count. No shipped workload comes
 * near it: every workload of the shipped suites runs on the chips and systems the suites are
 * compared on within a tenth of the default budget (a kernel over it stops with the budget error).
 */
class ShippedWorkloadsEventBudgetTest {
  static final Path CONFIGS = Path.of("..", "configs").toAbsolutePath().normalize();
  static final long TENTH = RunOptions.DEFAULT_MAX_EVENTS / 10;

  @ParameterizedTest
  @CsvSource({
      "kernels, trn2",
      "kernels, trn3",
      "systems, trn2-ultraserver",
      "systems, trn3-ultraserver",
  })
  void everyShippedWorkloadRunsWithinATenthOfTheEventBudget(String suite, String hardware) {
    Simulator sim = new Simulator(CONFIGS);
    RunOptions opts = new RunOptions(null, TENTH);
    List<ModelLoader.SuiteEntry> entries = new ModelLoader(CONFIGS).suite(suite);
    for (ModelLoader.SuiteEntry e : entries) {
      String hw = e.target() != null ? e.target() : hardware;
      assertThatCode(() -> sim.run(sim.hardware(hw, List.of()), e.workload(), opts)).as(e.workload() + " on " + hw)
          .doesNotThrowAnyException();
      if (e.baseline() != null) {
        assertThatCode(() -> sim.run(sim.hardware(e.baseline(), List.of()), e.workload(), opts))
            .as(e.workload() + " on " + e.baseline()).doesNotThrowAnyException();
      }
    }
  }
}
