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

  /** Tick of the rising edge of cycle {@code cycle}: floor(cycle * 10^12 / hertz), exact for any cycle >= 0. */
  public long tickOf(long cycle) {
    if (cycle < 0) {
      throw new IllegalArgumentException("negative cycle: " + cycle);
    }
    long q = cycle / den;
    long r = cycle % den;
    return Math.addExact(Math.multiplyExact(q, num), mulDiv(r, num, den));
  }

  /** The first cycle whose edge is at or after {@code tick} (tick >= 0). */
  public long cycleAtOrAfter(long tick) {
    if (tick < 0) {
      throw new IllegalArgumentException("negative tick: " + tick);
    }
    // floor(tick * den / num) has its edge at or before tick; the next edge is at least 1 ps later (period >= 1 ps).
    long q = tick / num;
    long r = tick % num;
    long c = Math.addExact(Math.multiplyExact(q, den), mulDiv(r, den, num));
    return tickOf(c) < tick ? c + 1 : c;
  }

  /** Ticks spanned by {@code cycles} cycles starting at cycle 0 (rounded down; exact when aligned). */
  public long ticksFor(long cycles) {
    return tickOf(cycles);
  }

  /** Start at the first edge at or after {@code tick}, run {@code cycles} cycles: the end tick. */
  public long endTick(long startTick, long cycles) {
    return tickOf(Math.addExact(cycleAtOrAfter(startTick), cycles));
  }

  /**
   * floor(a * b / c) for a, b >= 0 and c > 0 without overflow: the product is formed in 128 bits
   * (a plain long product wraps silently once it passes 2^63, which an awkward clock such as
   * 1,340,351,461 Hz reaches after a few million cycles). Throws if the quotient exceeds a long.
   */
  static long mulDiv(long a, long b, long c) {
    long hi = Math.multiplyHigh(a, b);
    long lo = a * b;
    if (hi == 0 && lo >= 0) {
      return lo / c;
    }
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
