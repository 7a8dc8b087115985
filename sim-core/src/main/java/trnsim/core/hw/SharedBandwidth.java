package trnsim.core.hw;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.TreeMap;
import trnsim.core.engine.EventHandler;
import trnsim.core.engine.Simulation;
import trnsim.core.trace.TraceSink;

/**
 * A bandwidth shared by concurrent flows (HBM shared by every DMA of a chip), as a fluid model:
 * at every start or end of a flow, the capacity is re-divided by max-min fairness, each flow
 * capped by its own peak rate (its DMA queue's bandwidth). So one queue alone runs at queue speed,
 * and k cores streaming at once each get 1/k of the memory once it is the bottleneck. Exact for
 * piecewise-constant rates.
 *
 * <p>Flows with the same cap always get the same rate, so they are kept in classes (one per
 * distinct cap, in practice one or two): each class tracks the bytes served to each of its flows
 * so far ("virtual time") and a priority queue of its flows by the virtual time at which they
 * finish. A start or end then costs O(classes + log flows) instead of O(flows), which matters with
 * thousands of DMA queues in flight (132 cores x 16 queues).
 */
final class SharedBandwidth implements EventHandler {
  interface Client {
    void flowDone();
  }

  private static final class Flow {
    final Client client;
    final double finishTag;
    final long seq;
    final long bytes;
    final int weight;

    Flow(Client client, double finishTag, long seq, long bytes, int weight) {
      this.client = client;
      this.finishTag = finishTag;
      this.seq = seq;
      this.bytes = bytes;
      this.weight = weight;
    }
  }

  /** All flows with one cap: they share one rate and one served-bytes counter. */
  private static final class CapClass {
    final double cap;
    final PriorityQueue<Flow> flows = new PriorityQueue<>((a, b) -> {
      int c = Double.compare(a.finishTag, b.finishTag);
      return c != 0 ? c : Long.compare(a.seq, b.seq);
    });
    double served;
    double rate;
    /** Flows in the class, each counted by its weight. */
    int count;

    CapClass(double cap) {
      this.cap = cap;
    }
  }

  private final Simulation sim;
  private final double capacityPerTick;
  private final TreeMap<Double, CapClass> classes = new TreeMap<>();
  private final TraceSink trace;
  private final int tracePid;
  private long lastUpdate;
  private long generation;
  /** Ticks of the queued completion checks, latest first: each is queued only before all others. */
  private long[] queuedTicks = new long[16];
  private int queuedTop;
  /** The held check of the current division (its tick and reserved queue position), or order -1. */
  private long pendingTick;
  /** Clock share of the handler that decided the held completion. */
  private long pendingShare;
  private long pendingOrder = -1;
  private long seq;
  private int active;
  long bytesTransferred;
  long busyTicks;
  int peakFlows;

  SharedBandwidth(Simulation sim, double bytesPerSecond, TraceSink trace, int tracePid) {
    this.sim = sim;
    this.capacityPerTick = bytesPerSecond / Simulation.TICKS_PER_SECOND;
    this.trace = trace;
    this.tracePid = tracePid;
  }

  double capacityBytesPerTick() {
    return capacityPerTick;
  }

  /**
   * Starts a flow that costs {@code costBytes} of the shared bandwidth (fractional when part of it
   * is served elsewhere, e.g. by an L2) and moves {@code bytes} bytes for the statistics.
   */
  void start(Client c, double costBytes, double capPerTick, long bytes) {
    start(c, costBytes, capPerTick, bytes, 1);
  }

  /**
   * As above, for {@code weight} identical flows started at this tick by the identical cores of a
   * class (ChipModel): they take {@code weight} equal shares and move {@code weight} times the bytes.
   * Started one by one, each start would re-divide the bandwidth and queue a check that the next
   * start supersedes; those {@code weight - 1} checks are counted as events without being run.
   */
  void start(Client c, double costBytes, double capPerTick, long bytes, int weight) {
    advance();
    CapClass k = classes.computeIfAbsent(capPerTick, CapClass::new);
    k.flows.add(new Flow(c, k.served + costBytes, seq++, bytes, weight));
    k.count += weight;
    active += weight;
    peakFlows = Math.max(peakFlows, active);
    if (weight > 1) {
      sim.countReplicated(weight - 1);
    }
    reallocate();
  }

  private void advance() {
    long now = sim.now();
    long dt = now - lastUpdate;
    if (dt > 0 && active > 0) {
      busyTicks += dt;
      for (CapClass k : classes.values()) {
        if (!k.flows.isEmpty()) {
          k.served += k.rate * dt;
        }
      }
    }
    lastUpdate = now;
  }

  private void reallocate() {
    // Max-min fair water filling over the classes in increasing cap order.
    double left = capacityPerTick;
    int n = active;
    double total = 0;
    for (CapClass k : classes.values()) {
      int size = k.count;
      if (size == 0) {
        continue;
      }
      double share = left / n;
      k.rate = Math.min(k.cap, share);
      left -= k.rate * size;
      total += k.rate * size;
      n -= size;
    }
    if (trace.enabled()) {
      trace.counter(tracePid, "hbm_GBps", sim.now(), total * 1000.0);
    }
    generation++;
    if (pendingOrder >= 0) {
      sim.countSuperseded(pendingTick, pendingShare); // the held completion is superseded: it never needs queueing
      pendingOrder = -1;
    }
    if (active == 0) {
      return;
    }
    long next = Long.MAX_VALUE;
    for (CapClass k : classes.values()) {
      Flow f = k.flows.peek();
      if (f != null) {
        long t = (long) Math.ceil((f.finishTag - k.served) / k.rate);
        next = Math.min(next, Math.max(1, t));
      }
    }
    schedule(sim.after(next));
  }

  /**
   * Schedules the completion check of the current division. Every re-division supersedes the
   * previous check, and with thousands of flows most checks are superseded before they are due;
   * queued, they fill the event heap (each pop costs its depth). So a check due no earlier than one
   * already queued is held here instead, with its queue position reserved, and queued only when the
   * earlier one has run; if superseded first, it is counted as run ({@link Simulation#countSuperseded}).
   * Same events in the same order, same counts, same end time as queueing every check.
   */
  private void schedule(long tick) {
    long order = sim.reserve(0);
    if (queuedTop == 0 || tick < queuedTicks[queuedTop - 1]) {
      queue(tick, order, generation, sim.clockShare());
    } else {
      pendingTick = tick;
      pendingOrder = order;
      pendingShare = sim.clockShare();
    }
  }

  private void queue(long tick, long order, long gen, long share) {
    if (queuedTop == queuedTicks.length) {
      queuedTicks = java.util.Arrays.copyOf(queuedTicks, 2 * queuedTop);
    }
    queuedTicks[queuedTop++] = tick;
    sim.scheduleReserved(tick, order, this, 0, gen, share);
  }

  @Override
  public void handle(int kind, long gen) {
    // Checks are queued only earlier than every queued one, so they run in reverse order of queueing.
    queuedTop--;
    if (pendingOrder >= 0 && (queuedTop == 0 || queuedTicks[queuedTop - 1] > pendingTick)) {
      long order = pendingOrder;
      pendingOrder = -1;
      queue(pendingTick, order, generation, pendingShare);
    }
    if (gen != generation) {
      return; // superseded by a later re-division
    }
    advance();
    List<Flow> done = new ArrayList<>();
    for (CapClass k : classes.values()) {
      while (!k.flows.isEmpty() && k.flows.peek().finishTag - k.served <= 1e-3) {
        Flow f = k.flows.poll();
        // Counted exactly, per finished transfer, so bytes are conserved to the byte.
        bytesTransferred += f.bytes * f.weight;
        k.count -= f.weight;
        active -= f.weight;
        done.add(f);
      }
    }
    reallocate();
    // Completion callbacks in arrival order, as when all flows shared one list.
    done.sort((a, b) -> Long.compare(a.seq, b.seq));
    for (Flow f : done) {
      f.client.flowDone();
    }
  }
}
