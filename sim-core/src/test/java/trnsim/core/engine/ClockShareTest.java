package trnsim.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The clock share an event inherits from the handler that scheduled it: the clock-scaled delays on
 * its causal chain, and nothing for every other delay. Checked against chains summed by hand.
 */
class ClockShareTest {
  /** Two engines' work (30 + 50 clocked ticks) around a 100-tick transfer: share 80 of the end at 180. */
  @Test
  void aChainSumsItsClockedDelaysOnly() {
    Simulation sim = new Simulation();
    long[] seen = new long[3];
    EventHandler end = (k, a) -> seen[2] = sim.clockShare();
    EventHandler transferDone = (k, a) -> {
      seen[1] = sim.clockShare();
      sim.scheduleClockedAt(sim.now() + 50, 0, end, 0, 0);
    };
    EventHandler computeDone = (k, a) -> {
      seen[0] = sim.clockShare();
      sim.scheduleAt(sim.now() + 100, 0, transferDone, 0, 0);
    };
    sim.scheduleClockedAt(30, 0, computeDone, 0, 0);
    sim.run();
    assertThat(sim.now()).isEqualTo(180);
    assertThat(seen).containsExactly(30, 30, 80);
    assertThat(sim.endClockShare()).isEqualTo(80);
  }

  /**
   * Two chains end at the same last tick, one all clocked (share 60), one a transfer after 10 clocked
   * ticks (share 10): either is as long as the run, and the end share is the smaller, whose line
   * (60 - 10 (1 - u)) is the tighter lower bound at higher clocks.
   */
  @Test
  void theEndShareIsTheSmallestAmongTheChainsEndingLast() {
    Simulation sim = new Simulation();
    EventHandler nothing = (k, a) -> {};
    sim.scheduleClockedAt(60, 0, nothing, 0, 0);
    sim.scheduleClockedAt(10, 0, (k, a) -> sim.scheduleAt(60, 0, nothing, 0, 0), 0, 0);
    sim.scheduleClockedAt(40, 0, nothing, 0, 0); // ends earlier: not a chain as long as the run
    sim.run();
    assertThat(sim.now()).isEqualTo(60);
    assertThat(sim.endClockShare()).isEqualTo(10);
  }

  /** An event decided in one handler and queued in a later one keeps the deciding handler's share. */
  @Test
  void aHeldEventKeepsTheShareOfTheHandlerThatDecidedIt() {
    Simulation sim = new Simulation();
    long[] got = new long[1];
    long[] decided = new long[2];
    EventHandler held = (k, a) -> got[0] = sim.clockShare();
    sim.scheduleClockedAt(25, 0, (k, a) -> {
      decided[0] = sim.reserve(0);
      decided[1] = sim.clockShare();
    }, 0, 0);
    sim.scheduleAt(30, 0, (k, a) -> sim.scheduleReserved(70, decided[0], held, 0, 0, decided[1]), 0, 0);
    sim.run();
    assertThat(got[0]).isEqualTo(25);
    // A superseded event that would have ended the run brings its share with it.
    Simulation s2 = new Simulation();
    s2.scheduleClockedAt(5, 0, (k, a) -> s2.countSuperseded(90, s2.clockShare() + 7), 0, 0);
    s2.run();
    assertThat(s2.now()).isEqualTo(90);
    assertThat(s2.endClockShare()).isEqualTo(12);
  }
}
