package trnsim.core.serve;

import java.util.Locale;
import java.util.SplittableRandom;

/** A distribution of token counts (prompt or output lengths), sampled with a caller's seeded generator. */
public sealed interface LengthDist {
  /** One sample, at least 1. */
  long sample(SplittableRandom rng);

  /** The largest value it can return. */
  long max();

  /** Every request has {@code tokens}. */
  record Fixed(long tokens) implements LengthDist {
    @Override
    public long sample(SplittableRandom rng) {
      return tokens;
    }

    @Override
    public long max() {
      return tokens;
    }
  }

  /** Uniform over the integers {@code lo..hi}. */
  record Uniform(long lo, long hi) implements LengthDist {
    @Override
    public long sample(SplittableRandom rng) {
      return lo + rng.nextLong(hi - lo + 1);
    }

    @Override
    public long max() {
      return hi;
    }
  }

  /**
   * Log-normal with the given median and sigma (of the log), rounded to an integer and clamped to
   * {@code 1..cap}: the shape of measured chat prompt and output lengths (a long right tail).
   */
  record LogNormal(double median, double sigma, long cap) implements LengthDist {
    @Override
    public long sample(SplittableRandom rng) {
      double v = median * Math.exp(sigma * gaussian(rng));
      return Math.max(1, Math.min(cap, Math.round(v)));
    }

    @Override
    public long max() {
      return cap;
    }
  }

  /** A standard normal by Box-Muller from two uniforms of {@code rng} (SplittableRandom has no nextGaussian on Java 17). */
  static double gaussian(SplittableRandom rng) {
    double u = 1.0 - rng.nextDouble();
    double v = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * {@code N} or {@code fixed:N}, {@code uniform:LO:HI}, {@code lognormal:median=M,sigma=S[,max=X]}
   * (max defaults to 16 x the median). Throws IllegalArgumentException naming what is wrong.
   */
  static LengthDist parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.matches("\\d+")) {
      return new Fixed(positive(t, "tokens"));
    }
    String[] p = t.split(":", 2);
    String body = p.length > 1 ? p[1] : "";
    switch (p[0]) {
      case "fixed" -> {
        return new Fixed(positive(body, "tokens"));
      }
      case "uniform" -> {
        String[] b = body.split(":");
        if (b.length != 2) {
          throw new IllegalArgumentException("expected uniform:LO:HI, e.g. uniform:128:1024");
        }
        long lo = positive(b[0], "LO");
        long hi = positive(b[1], "HI");
        if (hi < lo) {
          throw new IllegalArgumentException("uniform: HI " + hi + " is below LO " + lo);
        }
        return new Uniform(lo, hi);
      }
      case "lognormal" -> {
        Double median = null;
        Double sigma = null;
        Long cap = null;
        for (String kv : body.split(",")) {
          String[] e = kv.split("=", 2);
          if (e.length != 2) {
            throw new IllegalArgumentException("expected lognormal:median=M,sigma=S[,max=X], e.g. lognormal:median=512,sigma=0.8");
          }
          switch (e[0].trim()) {
            case "median" -> median = (double) positive(e[1], "median");
            case "sigma" -> sigma = number(e[1], "sigma");
            case "max" -> cap = positive(e[1], "max");
            default -> throw new IllegalArgumentException("lognormal: unknown parameter '" + e[0].trim() + "'; known: median, sigma, max");
          }
        }
        if (median == null || sigma == null) {
          throw new IllegalArgumentException("lognormal needs median= and sigma=, e.g. lognormal:median=512,sigma=0.8");
        }
        long c = cap != null ? cap : (long) Math.ceil(16 * median);
        return new LogNormal(median, sigma, c);
      }
      default -> throw new IllegalArgumentException("unknown distribution '" + p[0] + "'; known: N, fixed:N, uniform:LO:HI, lognormal:median=M,sigma=S[,max=X]");
    }
  }

  private static long positive(String s, String what) {
    try {
      long v = Long.parseLong(s.trim());
      if (v >= 1 && v <= 1L << 24) {
        return v;
      }
    } catch (NumberFormatException e) {
      // fall through to the message
    }
    throw new IllegalArgumentException(what + " '" + s.trim() + "' must be a whole number of tokens from 1 to " + (1L << 24));
  }

  private static double number(String s, String what) {
    try {
      double v = Double.parseDouble(s.trim());
      if (v >= 0 && v <= 10) {
        return v;
      }
    } catch (NumberFormatException e) {
      // fall through to the message
    }
    throw new IllegalArgumentException(what + " '" + s.trim() + "' must be a number from 0 to 10");
  }
}
