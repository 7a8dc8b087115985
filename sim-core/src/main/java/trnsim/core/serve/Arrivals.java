package trnsim.core.serve;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/** How requests arrive. */
public sealed interface Arrivals {
  /** A Poisson process of {@code ratePerS} requests per second (exponential gaps). */
  record Poisson(double ratePerS) implements Arrivals {}

  /** One request every {@code 1 / ratePerS} seconds, the first at t = 0. */
  record Fixed(double ratePerS) implements Arrivals {}

  /** Recorded requests (arrival time and lengths each). */
  record Trace(List<Request> requests) implements Arrivals {
    public Trace {
      requests = List.copyOf(requests);
    }
  }

  /**
   * The requests of a run: {@code n} arrivals with prompt and output lengths drawn from one
   * generator seeded with {@code seed} (gap, prompt, output per request, in that order), or a
   * trace's requests (its first {@code n}, sorted by arrival time), renumbered in arrival order.
   */
  static List<Request> generate(Arrivals a, LengthDist prompt, LengthDist output, int n, long seed) {
    List<Request> out = new ArrayList<>();
    if (a instanceof Trace t) {
      List<Request> sorted = new ArrayList<>(t.requests());
      sorted.sort(Comparator.comparingDouble(Request::arrivalS).thenComparingInt(Request::id));
      for (Request r : sorted.subList(0, Math.min(n, sorted.size()))) {
        out.add(new Request(out.size(), r.arrivalS(), r.promptTokens(), r.outputTokens()));
      }
      return out;
    }
    SplittableRandom rng = new SplittableRandom(seed);
    double t = 0;
    for (int i = 0; i < n; i++) {
      if (a instanceof Poisson p) {
        t += -Math.log(1.0 - rng.nextDouble()) / p.ratePerS();
      } else if (i > 0) {
        t = i / ((Fixed) a).ratePerS();
      }
      out.add(new Request(i, t, prompt.sample(rng), output.sample(rng)));
    }
    return out;
  }
}
