package trnsim.core.serve;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import trnsim.core.system.InferenceCosts;

/**
 * Iteration costs from the simulated {@code llm-infer} graph executions, memoised by shape so that a
 * run of many thousands of iterations simulates a few dozen kernels.
 *
 * <p>Decode: the token-generation graph is compiled for a batch size and a KV span, and the runtime
 * pads to them, so a decode of {@code b} sequences costs one execution at batch {@code 2^ceil(log2 b)}
 * and span {@code llm-infer}'s power-of-two bucket of the longest context in the batch. That
 * bucketing is the deployment's (padding), not an approximation; each (batch, span) pair is
 * simulated once.
 *
 * <p>Prefill: a chunk of {@code T} prompt tokens after {@code o} already cached costs one
 * context-encoding execution of a {@code T}-token prompt plus, for each layer, the extra attention
 * over the earlier {@code o} tokens, {@code L(o+T) - L(o) - L(T)} with {@code L(n)} the simulated
 * layer time of an n-token prompt (the layer's GEMMs are linear in tokens, so the difference keeps
 * only the attention over the prefix). A whole prompt ({@code o = 0}) is {@code llm-infer}'s prefill.
 * Prompt lengths vary per request, so passes are simulated at a few lengths: on Trainium-shaped
 * targets the pass time is periodic in the length with period {@code P}
 * ({@link InferenceCosts#prefillPeriodTokens}: a step just past each multiple of 512, the kernels'
 * new partial tile, then the same shape), so up to {@code 2P} a fine grid of
 * {@value #POINTS_PER_OCTAVE} points per octave plus the first length of each period (linear in
 * between), and beyond it {@code n = qP + r} is the layer at {@code qP}, the first period's shape over
 * {@code r} tokens and {@code r/P} of the growth of a period's increment (the longer prefix's
 * attention), with lengths that are multiples of {@code P} and the rest of the pass taken from a
 * coarse grid of powers of two (quadratic through three). Measured against direct simulation at
 * every multiple of 64 up to 4,096 tokens (Llama-3 70B, tp=8, trn2): -0.8% .. +1.3% with 14
 * simulated passes (the previous 4-per-octave linear grid: -8.6% .. +0.5%, 22 passes). Other
 * targets keep that grid. Grid points are exact.
 *
 * <p>Mixed iterations (Sarathi): one fused pass, see {@link #mixed}; the chunks after the first run
 * as their own context-encoding passes.
 *
 * <p>Speculative decoding: the draft model's decode graph runs {@code k} times, then the target
 * verifies {@code k + 1} tokens per sequence in one pass, costed as the target's decode graph at
 * {@code k + 1} times the batch (weights read once; the KV read is charged per verified token, an
 * overestimate of the tree-less verification's attention).
 */
public final class SimulatedIterationCosts implements IterationCosts {
  static final int POINTS_PER_OCTAVE = 4;

  private final InferenceCosts target;
  private final InferenceCosts draft;
  /** The prompt-length period of the target's context-encoding time ({@link InferenceCosts#prefillPeriodTokens}), 0: none. */
  private final long period;
  private final Map<Long, InferenceCosts.Exec> decodes = new HashMap<>();
  private final Map<Long, InferenceCosts.Exec> draftDecodes = new HashMap<>();
  private final Map<Long, InferenceCosts.Exec> prefills = new HashMap<>();

  /** @param draft the speculative draft model on the same replica, or null */
  public SimulatedIterationCosts(InferenceCosts target, InferenceCosts draft) {
    this.target = target;
    this.draft = draft;
    this.period = target.prefillPeriodTokens();
  }

  @Override
  public double idlePowerW() {
    return target.staticPowerWPerReplica();
  }

  /** Distinct graph executions simulated so far. */
  public int simulatedShapes() {
    return decodes.size() + draftDecodes.size() + prefills.size();
  }

  @Override
  public Cost cost(Iteration it) {
    if (it.decodes() > 0 && !it.chunks().isEmpty() && it.draftTokens() == 0) {
      return mixed(it);
    }
    Cost c = Cost.ZERO;
    if (it.decodes() > 0) {
      int k = it.draftTokens();
      long span = target.span(it.decodeCtx());
      c = c.plus(of(decode(target, decodes, pow2(it.decodes() * (long) (k + 1)), span)));
      if (k > 0) {
        Cost d = of(decode(draft, draftDecodes, pow2(it.decodes()), draft.span(it.decodeCtx())));
        c = c.plus(new Cost(k * d.seconds(), k * d.joules()));
      }
    }
    for (Iteration.Chunk ch : it.chunks()) {
      c = c.plus(chunk(ch));
    }
    return c;
  }

  /**
   * A Sarathi iteration as one fused pass: the decoding sequences' tokens ride in the first chunk's
   * linear layers (its GEMMs take T + b rows, the weights read once), and their attention over their
   * KV is what a decode step at their span costs beyond one at the smallest span (128).
   */
  private Cost mixed(Iteration it) {
    long batch = pow2(it.decodes());
    Cost atSpan = of(decode(target, decodes, batch, target.span(it.decodeCtx())));
    Cost atMin = of(decode(target, decodes, batch, target.span(1)));
    Cost c = new Cost(Math.max(0, atSpan.seconds() - atMin.seconds()), Math.max(0, atSpan.joules() - atMin.joules()));
    List<Iteration.Chunk> chunks = it.chunks();
    Iteration.Chunk first = chunks.get(0);
    c = c.plus(chunk(new Iteration.Chunk(first.offset(), first.tokens() + it.decodes(), first.firstOfRequest())));
    for (Iteration.Chunk ch : chunks.subList(1, chunks.size())) {
      c = c.plus(chunk(ch));
    }
    return c;
  }

  private Cost chunk(Iteration.Chunk ch) {
    double[] whole = prefill(ch.tokens());
    double extra = ch.offset() == 0 ? 0
        : target.layers() * Math.max(0, prefill(ch.offset() + ch.tokens())[2] - prefill(ch.offset())[2] - whole[2]);
    double s = whole[0] + extra;
    double overhead = ch.firstOfRequest() ? target.requestOverheadSeconds() : 0;
    double j = whole[1] * s / whole[0] + overhead * idlePowerW();
    return new Cost(s + overhead, j);
  }

  /** {seconds, joules, layer seconds} of a context-encoding pass of {@code n} tokens (see the class comment). */
  private double[] prefill(long n) {
    long p = period;
    if (p == 0 || n <= 2 * p) {
      return fine(n);
    }
    // n = q periods + r (0 < r <= p): the layer at the last whole period, the first period's shape over
    // r tokens, and r/p of the growth of a period's increment since the first (the prefix attention)
    long q = (n - 1) / p;
    long r = n - q * p;
    double[] at = coarse(q * p);
    double[] next = coarse((q + 1) * p);
    double[] p1 = fine(p);
    double[] p2 = fine(2 * p);
    double[] shape = fine(p + r);
    double layer = at[2] + (shape[2] - p1[2]) + (double) r / p * ((next[2] - at[2]) - (p2[2] - p1[2]));
    // the rest of the pass (LM head, sampling, launch, all-reduces) is smooth in n
    double[] c = coarse(n);
    double s = c[0] - target.layers() * c[2] + target.layers() * layer;
    return new double[] {s, c[1] / c[0] * s, layer};
  }

  /**
   * A pass on the fine grid: {@value #POINTS_PER_OCTAVE} points per octave (every length up to 16),
   * plus the first length of each period (the step), linear in between.
   */
  private double[] fine(long n) {
    if (n <= 16) {
      return values(prefillAt(n));
    }
    long step = Long.highestOneBit(n) / POINTS_PER_OCTAVE;
    long lo = n / step * step;
    if (lo == n) {
      return values(prefillAt(n));
    }
    long hi = lo + step;
    if (period > 0 && lo % period == 0) {
      lo++; // the pass just past a period boundary already pays the new partial tile
      if (lo == n) {
        return values(prefillAt(n));
      }
    }
    return lerp(values(prefillAt(lo)), values(prefillAt(hi)), (double) (n - lo) / (hi - lo));
  }

  /** A pass on the coarse grid of powers of two: exact there, quadratic through the three powers of two ending at the next one up. */
  private double[] coarse(long n) {
    long hi = Long.highestOneBit(n) == n ? n : Long.highestOneBit(n) << 1;
    if (hi == n) {
      return values(prefillAt(n));
    }
    long[] x = {hi / 4, hi / 2, hi};
    double[][] y = {values(prefillAt(x[0])), values(prefillAt(x[1])), values(prefillAt(x[2]))};
    double[] out = new double[3];
    for (int i = 0; i < 3; i++) {
      double w = 1;
      for (int j = 0; j < 3; j++) {
        if (i != j) {
          w *= (double) (n - x[j]) / (x[i] - x[j]);
        }
      }
      for (int k = 0; k < 3; k++) {
        out[k] += w * y[i][k];
      }
    }
    return out;
  }

  private static double[] lerp(double[] a, double[] b, double f) {
    return new double[] {a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])};
  }

  private InferenceCosts.Exec prefillAt(long n) {
    return prefills.computeIfAbsent(n, target::prefill);
  }

  private static double[] values(InferenceCosts.Exec x) {
    return new double[] {x.seconds(), x.joules(), x.layerSeconds()};
  }

  private static InferenceCosts.Exec decode(InferenceCosts c, Map<Long, InferenceCosts.Exec> memo, long batch, long span) {
    return memo.computeIfAbsent(batch * (1L << 32) + span, key -> c.decode(batch, span));
  }

  private static Cost of(InferenceCosts.Exec x) {
    return new Cost(x.seconds(), x.joules());
  }

  static long pow2(long n) {
    return n <= 1 ? 1 : Long.highestOneBit(n - 1) << 1;
  }
}
