package trnsim.core.engine;

/**
 * Converts between cycles of one clock and picosecond ticks exactly. The period is kept as the
 * reduced fraction {@code 10^12 / hertz} (2.4 GHz: 1250/3 ps), and the tick of cycle {@code n} is
 * computed from {@code n} directly, so long runs do not accumulate rounding drift.
 */
public final class ClockDomain {
  private final long hertz;
  private final long num;
  private final long den;

  public ClockDomain(long hertz) {
    if (hertz <= 0 || hertz > Simulation.TICKS_PER_SECOND) {
      throw new IllegalArgumentException("clock must be between 1 Hz and 1 THz: " + hertz);
    }
    this.hertz = hertz;
    long g = gcd(Simulation.TICKS_PER_SECOND, hertz);
    this.num = Simulation.TICKS_PER_SECOND / g;
    this.den = hertz / g;
  }

  public long hertz() {
    return hertz;
  }

  /** Tick of the rising edge of cycle {@code cycle}: floor(cycle * 10^12 / hertz). */
  public long tickOf(long cycle) {
    long q = cycle / den;
    long r = cycle % den;
    return Math.addExact(Math.multiplyExact(q, num), Math.multiplyHigh(r, num) == 0 ? r * num / den : exactMulDiv(r, num, den));
  }

  /** The first cycle whose edge is at or after {@code tick}. */
  public long cycleAtOrAfter(long tick) {
    long q = tick / num;
    long r = tick % num;
    long c = Math.addExact(Math.multiplyExact(q, den), r * den / num);
    while (tickOf(c) < tick) {
      c++;
    }
    return c;
  }

  /** Ticks spanned by {@code cycles} cycles starting at cycle 0 (rounded down; exact when aligned). */
  public long ticksFor(long cycles) {
    return tickOf(cycles);
  }

  /** Start at the first edge at or after {@code tick}, run {@code cycles} cycles: the end tick. */
  public long endTick(long startTick, long cycles) {
    return tickOf(Math.addExact(cycleAtOrAfter(startTick), cycles));
  }

  private static long exactMulDiv(long a, long b, long c) {
    return java.math.BigInteger.valueOf(a).multiply(java.math.BigInteger.valueOf(b))
        .divide(java.math.BigInteger.valueOf(c)).longValueExact();
  }

  private static long gcd(long a, long b) {
    while (b != 0) {
      long t = a % b;
      a = b;
      b = t;
    }
    return a;
  }
}
