package trnsim.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Exact cycle/tick conversion at any clock, checked against arbitrary-precision arithmetic. */
class ClockDomainTest {
  private static final BigInteger PS = BigInteger.valueOf(Simulation.TICKS_PER_SECOND);

  private static long refTick(long hz, long cycle) {
    return BigInteger.valueOf(cycle).multiply(PS).divide(BigInteger.valueOf(hz)).longValueExact();
  }

  @Test
  void awkwardClockFromThePowerLimiterDoesNotOverflow() {
    // 1,340,351,461 Hz is coprime with 10^12 pieces: the period fraction keeps a 10^12 numerator, so
    // r x num passes 2^63 within the first clock-denominator of cycles (the bug: a tick of -6.8e9 at cycle 9.3e6).
    ClockDomain c = new ClockDomain(1_340_351_461L);
    long cycle = 9_300_000L;
    assertThat(c.tickOf(cycle)).isEqualTo(refTick(1_340_351_461L, cycle)).isPositive();
    long tick = c.tickOf(cycle);
    assertThat(c.cycleAtOrAfter(tick)).isEqualTo(cycle);
    assertThat(c.cycleAtOrAfter(tick + 1)).isEqualTo(cycle + 1);
  }

  @Test
  void ticksAreExactAndMonotoneAtRandomClocksAndCycles() {
    SplittableRandom rnd = new SplittableRandom(20261201L);
    for (int i = 0; i < 2000; i++) {
      long hz = 1 + rnd.nextLong(Simulation.TICKS_PER_SECOND);
      ClockDomain c = new ClockDomain(hz);
      // Cycles up to what fits the tick range (about 106 days of picoseconds).
      long maxCycle = BigInteger.valueOf(Long.MAX_VALUE / 2).multiply(BigInteger.valueOf(hz)).divide(PS).longValue();
      long cycle = rnd.nextLong(Math.max(1, maxCycle));
      long t = c.tickOf(cycle);
      assertThat(t).as("hz %d cycle %d", hz, cycle).isEqualTo(refTick(hz, cycle));
      assertThat(c.tickOf(cycle + 1)).isGreaterThan(t);
      assertThat(c.cycleAtOrAfter(t)).isEqualTo(cycle);
      assertThat(c.endTick(t, 7)).isEqualTo(refTick(hz, cycle + 7));
    }
  }

  @Test
  void mulDivMatchesBigIntegerAcrossTheSignBoundary() {
    // a x b just above 2^63: the high word is 0 but the low word is negative as a signed long.
    long a = 3_000_000_000L;
    long b = 3_100_000_000L;
    assertThat(ClockDomain.mulDiv(a, b, 7)).isEqualTo(BigInteger.valueOf(a).multiply(BigInteger.valueOf(b))
        .divide(BigInteger.valueOf(7)).longValueExact());
  }

  @Test
  void clocksAtTheTickLimitAndAwkwardGigahertzAreExactOverLongRuns() {
    // 1 THz (period = one tick), 999,999,999,989 Hz (prime, period just above a tick) and a power
    // limiter clock, each over a run of about a day of simulated time.
    for (long hz : new long[] {1_000_000_000_000L, 999_999_999_989L, 1_340_351_461L, 1_008_001_337L}) {
      ClockDomain c = new ClockDomain(hz);
      long cycle = BigInteger.valueOf(86_400L).multiply(BigInteger.valueOf(hz)).longValueExact() + 12_345;
      assertThat(c.tickOf(cycle)).as("%d Hz", hz).isEqualTo(refTick(hz, cycle));
      assertThat(c.cycleAtOrAfter(c.tickOf(cycle))).isEqualTo(cycle);
    }
    assertThat(new ClockDomain(1_000_000_000_000L).tickOf(77)).isEqualTo(77);
  }

  @Test
  void aClockAboveOneTerahertzIsRejectedWhereItIsWritten() {
    // Above 1 THz the period is below one 1 ps tick: rejected as a unit error (exit 2), not as an
    // internal error deep in the engine.
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> trnsim.core.config.unit.Frequency.parse("1001 GHz"))
        .isInstanceOf(trnsim.core.config.unit.UnitException.class).hasMessageContaining("1 ps tick");
    assertThat(trnsim.core.config.unit.Frequency.parse("1000 GHz").hertz()).isEqualTo(1_000_000_000_000L);
  }
}
