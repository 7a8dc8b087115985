package trnsim.core.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A snapshot built from sorted names in one pass is the one the builder gives for the same values. */
class StatsSnapshotTest {
  @Test
  void ofSortedEqualsTheBuildersSnapshot() {
    List<String> names = new ArrayList<>();
    for (int c = 0; c < 12; c++) {
      for (String s : List.of("dma.q0.busy_ps", "dma.q1.busy_ps", "tensor.busy_ps", "tensor.instructions")) {
        names.add("chip0.nc" + c + "." + s);
      }
    }
    names.add("sim.end_ps");
    names.add("sim.events");
    StatsSnapshot.Builder b = StatsSnapshot.builder();
    for (int i = names.size() - 1; i >= 0; i--) { // the builder sorts whatever order it is given
      b.put(names.get(i), i * 1.5);
    }
    List<String> sorted = new ArrayList<>(names);
    sorted.sort(null);
    double[] values = new double[sorted.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = names.indexOf(sorted.get(i)) * 1.5;
    }
    StatsSnapshot fromSorted = StatsSnapshot.ofSorted(sorted, values);
    assertThat(fromSorted.values()).isEqualTo(b.build().values());
    assertThat(List.copyOf(fromSorted.values().keySet())).isEqualTo(sorted);
    assertThat(fromSorted.get("sim.events")).isEqualTo(names.indexOf("sim.events") * 1.5);
  }

  @Test
  void ofSortedRejectsMismatchedLengths() {
    assertThatThrownBy(() -> StatsSnapshot.ofSorted(List.of("a", "b"), new double[] {1}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 names for 1 values");
  }
}
