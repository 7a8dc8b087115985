package trnsim.core.serve;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.SplittableRandom;
import trnsim.core.engine.Simulation;
import trnsim.core.trace.TraceSink;

/**
 * A deterministic discrete-event simulation of a serving loop: requests arrive, are dispatched to a
 * replica, and each replica runs iterations back to back while it has work, each formed by the
 * scheduler ({@link ServeConfig.Scheduler}) and timed by {@link IterationCosts}. Events at equal
 * times are handled arrivals first, then iteration ends by replica index. The KV cache is allocated
 * in {@link ServeConfig#BLOCK_TOKENS}-token blocks; when a decode step cannot get a block the most
 * recently admitted running request is preempted and later recomputed (its prompt and the tokens it
 * had generated are prefilled again), as vLLM does by default. Host-side scheduling time, detokenisation
 * and network are not charged; the runtime's per-request overhead is (in the first prefill).
 */
public final class ServeSimulator {
  /** Trace process of the serving iterations: one track per replica. */
  public static final int TRACE_PID = 3000;

  private final ServeConfig cfg;
  private final IterationCosts costs;
  private final TraceSink trace;
  private final SplittableRandom acceptRng;
  private final long capacityBlocks;
  private final ServeResult.Builder out;

  private ServeSimulator(ServeConfig cfg, IterationCosts costs, TraceSink trace, int requests) {
    this.cfg = cfg;
    this.costs = costs;
    this.trace = trace;
    this.acceptRng = new SplittableRandom(cfg.seed() ^ 0x5DEECE66DL);
    this.capacityBlocks = cfg.kvTokensPerReplica() / ServeConfig.BLOCK_TOKENS;
    this.out = new ServeResult.Builder(requests, cfg.replicas(), capacityBlocks * ServeConfig.BLOCK_TOKENS);
  }

  /** Serves {@code requests} (in arrival order); every request must fit in one replica's KV cache. */
  public static ServeResult run(List<Request> requests, ServeConfig cfg, IterationCosts costs, TraceSink trace) {
    return new ServeSimulator(cfg, costs, trace, requests.size()).serve(requests);
  }

  /** A request's progress on its replica. */
  private static final class Seq {
    final Request r;
    final int replica;
    long generated;
    long prefilled;
    /** tokens the current (re)computed prompt pass covers: the prompt and every token generated before it started */
    long target;
    long blocks;
    int preemptions;
    double firstTokenS = Double.NaN;
    /** tokens this Seq's current chunk or decode step adds to its KV cache */
    long pending;

    Seq(Request r, int replica) {
      this.r = r;
      this.replica = replica;
      this.target = r.promptTokens();
    }

    long prefillTarget() {
      return target;
    }

    boolean prefilling() {
      return prefilled < target;
    }

    /** Tokens in the KV cache. */
    long kvTokens() {
      return prefilling() ? prefilled : r.promptTokens() + generated - 1;
    }
  }

  private final class Replica {
    final int id;
    final Deque<Seq> waiting = new ArrayDeque<>();
    final List<Seq> running = new ArrayList<>();
    long usedBlocks;
    boolean busy;
    double busyUntilS;
    double startS;
    Iteration current;
    /** the current iteration's sequences (reused from one iteration to the next) */
    final List<Seq> decoding = new ArrayList<>();
    final List<Seq> chunked = new ArrayList<>();

    Replica(int id) {
      this.id = id;
      if (trace.enabled()) {
        trace.trackName(TRACE_PID, id, "replica " + id);
      }
    }

    int load() {
      return waiting.size() + running.size();
    }
  }

  private ServeResult serve(List<Request> requests) {
    if (trace.enabled()) {
      trace.processName(TRACE_PID, "serving iterations");
    }
    List<Replica> replicas = new ArrayList<>();
    for (int i = 0; i < cfg.replicas(); i++) {
      replicas.add(new Replica(i));
    }
    int next = 0;
    int finished = 0;
    while (finished < requests.size()) {
      Replica done = null;
      for (Replica r : replicas) {
        if (r.busy && (done == null || r.busyUntilS < done.busyUntilS)) {
          done = r;
        }
      }
      double arrival = next < requests.size() ? requests.get(next).arrivalS() : Double.POSITIVE_INFINITY;
      if (done == null && next >= requests.size()) {
        throw new IllegalStateException("serving stalled with " + (requests.size() - finished) + " requests unfinished");
      }
      if (done == null || arrival <= done.busyUntilS) {
        Request q = requests.get(next);
        Replica r = pick(replicas, next);
        next++;
        r.waiting.addLast(new Seq(q, r.id));
        if (!r.busy) {
          start(r, q.arrivalS());
        }
      } else {
        finished += finish(done);
        start(done, done.busyUntilS);
      }
    }
    return out.build();
  }

  private Replica pick(List<Replica> replicas, int index) {
    if (cfg.dispatch() == ServeConfig.Dispatch.ROUND_ROBIN) {
      return replicas.get(index % replicas.size());
    }
    Replica best = replicas.get(0);
    for (Replica r : replicas) {
      if (r.load() < best.load()) {
        best = r;
      }
    }
    return best;
  }

  /** Forms and starts the replica's next iteration at {@code nowS}, or leaves it idle when it has no work. */
  private void start(Replica r, double nowS) {
    r.decoding.clear();
    r.chunked.clear();
    if (cfg.scheduler() == ServeConfig.Scheduler.VLLM) {
      if (!admitWhole(r)) {
        scheduleDecodes(r, Long.MAX_VALUE);
      }
    } else {
      int k = cfg.speculative() == null ? 0 : cfg.speculative().k();
      long budget = cfg.tokenBudget() - scheduleDecodes(r, cfg.tokenBudget() / (k + 1));
      scheduleChunks(r, budget);
    }
    if (r.decoding.isEmpty() && r.chunked.isEmpty()) {
      r.busy = false;
      return;
    }
    int k = cfg.speculative() == null ? 0 : cfg.speculative().k();
    long ctx = 0;
    for (Seq s : r.decoding) {
      ctx = Math.max(ctx, s.kvTokens() + s.pending);
    }
    List<Iteration.Chunk> chunks = new ArrayList<>();
    for (Seq s : r.chunked) {
      chunks.add(new Iteration.Chunk(s.prefilled, s.pending, s.prefilled == 0 && s.generated == 0 && s.preemptions == 0));
    }
    r.current = new Iteration(r.decoding.size(), ctx, r.decoding.isEmpty() ? 0 : k, chunks);
    IterationCosts.Cost c = costs.cost(r.current);
    r.busy = true;
    r.startS = nowS;
    r.busyUntilS = nowS + c.seconds();
    out.iteration(r.id, r.current, nowS, c, r.usedBlocks * ServeConfig.BLOCK_TOKENS, r.running.size());
    if (trace.enabled()) {
      trace.slice(TRACE_PID, r.id, label(r.current), ticks(nowS), ticks(r.busyUntilS));
      trace.counter(TRACE_PID, "kv tokens replica " + r.id, ticks(nowS), r.usedBlocks * ServeConfig.BLOCK_TOKENS);
    }
  }

  /** vLLM: whole prompts from the head of the queue while batch, token budget and KV blocks allow; true if any. */
  private boolean admitWhole(Replica r) {
    long tokens = 0;
    while (!r.waiting.isEmpty() && r.running.size() < cfg.maxBatch()) {
      Seq s = r.waiting.peekFirst();
      long t = s.prefillTarget();
      long need = blocks(t);
      if (tokens + t > cfg.tokenBudget() && tokens > 0 || r.usedBlocks + need > capacityBlocks) {
        break;
      }
      r.waiting.pollFirst();
      tokens += t;
      reserve(r, s, t, need);
      r.running.add(s);
      r.chunked.add(s);
    }
    return !r.chunked.isEmpty();
  }

  /** Sarathi: continue partly prefilled prompts, then start waiting ones, chunked to the remaining budget. */
  private void scheduleChunks(Replica r, long budget) {
    for (Seq s : r.running) {
      if (budget <= 0) {
        return;
      }
      if (s.prefilling() && !r.chunked.contains(s)) {
        long t = Math.min(budget, s.prefillTarget() - s.prefilled);
        long need = blocks(s.prefilled + t) - s.blocks;
        if (r.usedBlocks + need > capacityBlocks) {
          return;
        }
        reserve(r, s, t, need);
        r.chunked.add(s);
        budget -= t;
      }
    }
    while (budget > 0 && !r.waiting.isEmpty() && r.running.size() < cfg.maxBatch()) {
      Seq s = r.waiting.peekFirst();
      long t = Math.min(budget, s.prefillTarget());
      long need = blocks(t);
      if (r.usedBlocks + need > capacityBlocks) {
        return;
      }
      r.waiting.pollFirst();
      reserve(r, s, t, need);
      r.running.add(s);
      r.chunked.add(s);
      budget -= t;
    }
  }

  /**
   * Schedules a decode step for every running request past its prompt, preempting the most recently
   * admitted running requests while the KV cache cannot take the step's tokens; returns the tokens
   * scheduled (at most {@code maxSeqs} requests are decoded).
   */
  private long scheduleDecodes(Replica r, long maxSeqs) {
    int k = cfg.speculative() == null ? 0 : cfg.speculative().k();
    while (true) {
      long need = 0;
      int n = 0;
      for (Seq s : r.running) {
        if (!s.prefilling() && n < maxSeqs) {
          need += blocks(s.kvTokens() + k + 1) - s.blocks;
          n++;
        }
      }
      if (r.usedBlocks + need <= capacityBlocks || r.running.isEmpty()) {
        break;
      }
      preempt(r, r.running.get(r.running.size() - 1));
    }
    long tokens = 0;
    for (Seq s : r.running) {
      if (!s.prefilling() && r.decoding.size() < maxSeqs) {
        long add = k + 1;
        reserve(r, s, add, blocks(s.kvTokens() + add) - s.blocks);
        r.decoding.add(s);
        tokens += add;
      }
    }
    return tokens;
  }

  private void preempt(Replica r, Seq s) {
    r.running.remove(s);
    r.usedBlocks -= s.blocks;
    s.blocks = 0;
    s.prefilled = 0;
    s.target = s.r.promptTokens() + s.generated;
    s.preemptions++;
    r.waiting.addFirst(s);
    out.preemption();
  }

  private void reserve(Replica r, Seq s, long tokens, long blocks) {
    s.pending = tokens;
    s.blocks += blocks;
    r.usedBlocks += blocks;
  }

  /** Applies the finished iteration's tokens; returns the number of requests it completed. */
  private int finish(Replica r) {
    double end = r.busyUntilS;
    r.busy = false;
    for (Seq s : r.chunked) {
      s.prefilled += s.pending;
      if (!s.prefilling()) {
        s.generated++;
        if (Double.isNaN(s.firstTokenS)) {
          s.firstTokenS = end;
        }
      }
    }
    for (Seq s : r.decoding) {
      s.generated += accepted();
    }
    return retire(r, r.chunked, end) + retire(r, r.decoding, end);
  }

  /** Completes the requests of {@code seqs} that have all their tokens; returns how many. */
  private int retire(Replica r, List<Seq> seqs, double end) {
    int done = 0;
    for (Seq s : seqs) {
      s.pending = 0;
      if (s.generated >= s.r.outputTokens()) {
        s.generated = s.r.outputTokens();
        r.running.remove(s);
        r.usedBlocks -= s.blocks;
        s.blocks = 0;
        out.request(new ServeResult.RequestOutcome(s.r, s.replica, s.firstTokenS, end, s.preemptions));
        done++;
      } else {
        // release blocks reserved for rejected draft tokens
        long keep = blocks(s.kvTokens());
        r.usedBlocks -= s.blocks - keep;
        s.blocks = keep;
      }
    }
    return done;
  }

  /** Tokens one decoding sequence gains in a step: 1, or with speculation the accepted draft tokens + 1. */
  private long accepted() {
    ServeConfig.Speculative sp = cfg.speculative();
    if (sp == null) {
      return 1;
    }
    int a = 0;
    while (a < sp.k() && acceptRng.nextDouble() < sp.accept()) {
      a++;
    }
    return a + 1L;
  }

  private static long blocks(long tokens) {
    return (tokens + ServeConfig.BLOCK_TOKENS - 1) / ServeConfig.BLOCK_TOKENS;
  }

  private static long ticks(double s) {
    return Math.round(s * Simulation.TICKS_PER_SECOND);
  }

  private static String label(Iteration it) {
    StringBuilder b = new StringBuilder();
    if (it.decodes() > 0) {
      b.append("decode ").append(it.decodes());
    }
    if (!it.chunks().isEmpty()) {
      long t = 0;
      for (Iteration.Chunk c : it.chunks()) {
        t += c.tokens();
      }
      b.append(b.length() > 0 ? " + " : "").append("prefill ").append(it.chunks().size()).append(" (").append(t).append(" tok)");
    }
    return b.toString();
  }
}
