package trnsim.core.hw;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.core.engine.Simulation;
import trnsim.core.trace.TraceSink;

/** A flow of weight w on the shared bandwidth is w identical flows: hand-worked max-min shares. */
class SharedBandwidthWeightTest {
  /** 1 TB/s: one byte per picosecond tick. */
  static final double BYTES_PER_S = 1e12;

  record Run(List<Long> doneTicks, long bytes, int peak, long events) {}

  /** Flow sizes started at tick 0, each given with its weight; caps far above the capacity. */
  static Run run(long[] costBytes, int[] weights) {
    Simulation sim = new Simulation();
    SharedBandwidth hbm = new SharedBandwidth(sim, BYTES_PER_S, TraceSink.NONE, 0);
    List<Long> done = new ArrayList<>();
    for (int i = 0; i < costBytes.length; i++) {
      hbm.start(() -> done.add(sim.now()), costBytes[i], 10.0, costBytes[i], weights[i]);
    }
    sim.run();
    return new Run(done, hbm.bytesTransferred, hbm.peakFlows, sim.eventsProcessed());
  }

  @Test
  void weightedFlowTakesThatManySharesAndMovesThatManyTimesTheBytes() {
    // Three flows of 600 B (one of weight 3) and one of 300 B on 1 B/ps: each gets 1/4 B/ps, so the
    // 300 B flow ends at 1200 ps; the three then share 1 B/ps for their last 300 B each: 900 ps more, 2100.
    Run weighted = run(new long[] {600, 300}, new int[] {3, 1});
    assertThat(weighted.doneTicks()).containsExactly(1200L, 2100L);
    assertThat(weighted.bytes()).isEqualTo(3 * 600 + 300);
    assertThat(weighted.peak()).isEqualTo(4);
    Run separate = run(new long[] {600, 600, 600, 300}, new int[] {1, 1, 1, 1});
    assertThat(separate.doneTicks()).containsExactly(1200L, 2100L, 2100L, 2100L);
    assertThat(separate.bytes()).isEqualTo(weighted.bytes());
    assertThat(separate.peak()).isEqualTo(weighted.peak());
    // Each start re-divides the bandwidth and plans a check; started one by one, the superseded
    // checks count as events, and the weighted start counts them too.
    assertThat(weighted.events()).isEqualTo(separate.events());
  }
}
