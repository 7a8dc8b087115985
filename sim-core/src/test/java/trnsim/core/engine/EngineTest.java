package trnsim.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EngineTest {
  record Ev(long tick, int prio, long seq) {}

  @Test
  void queuePopsInTotalOrderAgainstSortedReference() {
    SplittableRandom rnd = new SplittableRandom(42);
    for (int trial = 0; trial < 20; trial++) {
      EventQueue q = new EventQueue();
      List<Ev> ref = new ArrayList<>();
      List<Ev> got = new ArrayList<>();
      int n = 1 + rnd.nextInt(2000);
      for (int i = 0; i < n; i++) {
        long t = rnd.nextInt(50);
        int p = rnd.nextInt(5) - 2;
        Ev e = new Ev(t, p, i);
        ref.add(e);
        q.push(t, p, (k, a) -> {}, 0, i);
      }
      while (!q.isEmpty()) {
        q.pop();
        got.add(ref.get((int) q.poppedArg));
      }
      ref.sort(Comparator.comparingLong(Ev::tick).thenComparingInt(Ev::prio).thenComparingLong(Ev::seq));
      assertThat(got).isEqualTo(ref);
    }
  }

  /**
   * A held event (its queue position reserved, queued later) runs exactly where it would have run had
   * it been queued at the reservation, and a superseded event counted instead of queued changes
   * neither the count nor the end time: the same run, queued the plain way, is the reference.
   */
  @Test
  void reservedAndSupersededEventsMatchQueueingEverything() {
    List<Long> plain = new ArrayList<>();
    Simulation a = new Simulation();
    a.scheduleAt(10, 0, (k, x) -> plain.add(x), 0, 1);
    a.scheduleAt(20, 0, (k, x) -> plain.add(x), 0, 2); // the held one
    a.scheduleAt(20, 0, (k, x) -> plain.add(x), 0, 3); // same tick, queued after the reservation
    a.scheduleAt(90, 0, (k, x) -> {}, 0, 4); // superseded: does nothing, is the last event
    a.run();

    List<Long> held = new ArrayList<>();
    Simulation b = new Simulation();
    long order = b.reserve(0);
    b.scheduleAt(20, 0, (k, x) -> held.add(x), 0, 3);
    b.countSuperseded(90, 0);
    b.scheduleAt(10, 0, (k, x) -> {
      held.add(x);
      b.scheduleReserved(20, order, (k2, x2) -> held.add(x2), 0, 2);
    }, 0, 1);
    b.run();
    assertThat(held).containsExactly(1L, 2L, 3L).isEqualTo(plain);
    assertThat(b.eventsProcessed()).isEqualTo(a.eventsProcessed()).isEqualTo(4);
    assertThat(b.now()).isEqualTo(a.now()).isEqualTo(90);
  }

  @Test
  void simulationRunsInTimeOrderAndCountsEvents() {
    Simulation sim = new Simulation();
    List<Long> seen = new ArrayList<>();
    EventHandler h = (k, a) -> seen.add(a);
    sim.scheduleAt(30, 0, h, 0, 3);
    sim.scheduleAt(10, 0, h, 0, 1);
    sim.scheduleAt(10, -1, h, 0, 0);
    sim.scheduleAt(20, 0, (k, a) -> {
      seen.add(a);
      sim.schedule(5, h, 0, 25);
    }, 0, 2);
    sim.run();
    assertThat(seen).containsExactly(0L, 1L, 2L, 25L, 3L);
    assertThat(sim.now()).isEqualTo(30);
    assertThat(sim.eventsProcessed()).isEqualTo(5);
  }

  @Test
  void cannotScheduleInThePast() {
    Simulation sim = new Simulation();
    sim.scheduleAt(10, 0, (k, a) -> sim.scheduleAt(5, 0, (x, y) -> {}, 0, 0), 0, 0);
    assertThatThrownBy(sim::run).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void eventBudgetStopsRunawayModels() {
    Simulation sim = new Simulation(1000);
    EventHandler[] self = new EventHandler[1];
    self[0] = (k, a) -> sim.schedule(1, self[0], 0, 0);
    sim.schedule(0, self[0], 0, 0);
    assertThatThrownBy(sim::run).isInstanceOf(SimulationLimitException.class).hasMessageContaining("event budget of 1000");
  }

  @Test
  void clockDomainHasNoDrift() {
    ClockDomain c = new ClockDomain(2_400_000_000L);
    // 2.4e9 cycles are exactly one second.
    assertThat(c.tickOf(2_400_000_000L)).isEqualTo(Simulation.TICKS_PER_SECOND);
    assertThat(c.tickOf(3)).isEqualTo(1250); // 3 cycles of 416.67 ps
    assertThat(c.tickOf(1)).isEqualTo(416);
    ClockDomain v = new ClockDomain(960_000_000L);
    assertThat(v.tickOf(960_000_000L * 3600)).isEqualTo(3600 * Simulation.TICKS_PER_SECOND);
    ClockDomain odd = new ClockDomain(1_980_000_000L);
    assertThat(odd.tickOf(99)).isEqualTo(50_000);
    // Large cycle counts do not overflow.
    assertThat(odd.tickOf(1_980_000_000L * 100_000)).isEqualTo(100_000 * Simulation.TICKS_PER_SECOND);
  }

  @Test
  void cycleAtOrAfterIsTheFirstEdgeNotBefore() {
    ClockDomain c = new ClockDomain(2_400_000_000L);
    SplittableRandom rnd = new SplittableRandom(7);
    for (int i = 0; i < 10_000; i++) {
      long t = rnd.nextLong(1L << 50);
      long cyc = c.cycleAtOrAfter(t);
      assertThat(c.tickOf(cyc)).isGreaterThanOrEqualTo(t);
      if (cyc > 0) {
        assertThat(c.tickOf(cyc - 1)).isLessThan(t);
      }
    }
    assertThat(c.endTick(0, 512)).isEqualTo(c.tickOf(512));
  }
}
