package trnsim.core.hw;

import trnsim.core.engine.EventHandler;
import trnsim.core.engine.Simulation;
import trnsim.core.trace.TraceSink;

/**
 * A bandwidth shared by concurrent flows (HBM shared by every DMA of a chip), as a fluid model:
 * at every start or end of a flow, the capacity is re-divided by max-min fairness, each flow
 * capped by its own peak rate (its DMA queue's bandwidth). So one queue alone runs at queue speed,
 * and k cores streaming at once each get 1/k of the memory once it is the bottleneck. Exact for
 * piecewise-constant rates; costs O(active flows) per start or end.
 */
final class SharedBandwidth implements EventHandler {
  interface Client {
    void flowDone();
  }

  private static final class Flow {
    final Client client;
    double remaining;
    final double cap;
    double rate;

    Flow(Client client, double bytes, double cap) {
      this.client = client;
      this.remaining = bytes;
      this.cap = cap;
    }
  }

  private final Simulation sim;
  private final double capacityPerTick;
  /** Active flows in arrival order (the order of byte accounting and of completion callbacks). */
  private Flow[] flows = new Flow[16];
  /** The same flows sorted by cap, ties in arrival order: kept sorted on insert, no per-event sort. */
  private Flow[] byCap = new Flow[16];
  private int nFlows;
  /** Scratch for the clients finishing at one event; handle() is never re-entered. */
  private Client[] done = new Client[16];
  private final TraceSink trace;
  private final int tracePid;
  private long lastUpdate;
  private long generation;
  double bytesTransferred;
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

  void start(Client c, double bytes, double capPerTick) {
    advance();
    Flow f = new Flow(c, bytes, capPerTick);
    if (nFlows == flows.length) {
      flows = java.util.Arrays.copyOf(flows, nFlows * 2);
      byCap = java.util.Arrays.copyOf(byCap, nFlows * 2);
      done = java.util.Arrays.copyOf(done, nFlows * 2);
    }
    flows[nFlows] = f;
    // After every flow with cap <= this one's: the position a stable sort by cap would give it.
    int at = nFlows;
    while (at > 0 && byCap[at - 1].cap > capPerTick) {
      byCap[at] = byCap[at - 1];
      at--;
    }
    byCap[at] = f;
    nFlows++;
    peakFlows = Math.max(peakFlows, nFlows);
    reallocate();
  }

  private void advance() {
    long now = sim.now();
    long dt = now - lastUpdate;
    if (dt > 0 && nFlows > 0) {
      busyTicks += dt;
      for (int i = 0; i < nFlows; i++) {
        Flow f = flows[i];
        double moved = Math.min(f.remaining, f.rate * dt);
        f.remaining -= moved;
        bytesTransferred += moved;
      }
    }
    lastUpdate = now;
  }

  private void reallocate() {
    // Max-min fair water filling over the flows sorted by cap (ties in arrival order).
    double left = capacityPerTick;
    int n = nFlows;
    double total = 0;
    for (int i = 0; i < nFlows; i++) {
      Flow f = byCap[i];
      double share = left / n;
      f.rate = Math.min(f.cap, share);
      left -= f.rate;
      total += f.rate;
      n--;
    }
    if (trace.enabled()) {
      trace.counter(tracePid, "hbm_GBps", sim.now(), total * 1000.0);
    }
    generation++;
    if (nFlows == 0) {
      return;
    }
    // The earliest completion: max(1, ceil(min over flows of remaining / rate)), equal to the
    // minimum of the per-flow values because ceil, the long cast and max(1, .) are monotone. A flow
    // with the same rate as the current best and no less remaining cannot be earlier (IEEE division
    // is monotone in the dividend), so most flows need no division.
    Flow best = flows[0];
    double bestQ = best.remaining / best.rate;
    for (int i = 1; i < nFlows; i++) {
      Flow f = flows[i];
      if (f.rate == best.rate && f.remaining >= best.remaining) {
        continue;
      }
      double q = f.remaining / f.rate;
      if (q < bestQ) {
        bestQ = q;
        best = f;
      }
    }
    long next = Math.max(1, (long) Math.ceil(bestQ));
    sim.scheduleAt(sim.now() + next, 0, this, 0, generation);
  }

  @Override
  public void handle(int kind, long gen) {
    if (gen != generation) {
      return; // superseded by a later re-division
    }
    advance();
    int nDone = 0;
    int keep = 0;
    for (int i = 0; i < nFlows; i++) {
      Flow f = flows[i];
      if (f.remaining <= 1e-3) {
        bytesTransferred += f.remaining;
        done[nDone++] = f.client;
        f.remaining = -1; // marks it for removal from byCap below
      } else {
        flows[keep++] = f;
      }
    }
    if (nDone > 0) {
      int k = 0;
      for (int i = 0; i < nFlows; i++) {
        if (byCap[i].remaining != -1) {
          byCap[k++] = byCap[i];
        }
      }
      for (int i = keep; i < nFlows; i++) {
        flows[i] = null;
        byCap[i] = null;
      }
      nFlows = keep;
    }
    reallocate();
    Client[] finished = done; // start() (called back from flowDone) may grow the field
    for (int i = 0; i < nDone; i++) {
      Client c = finished[i];
      finished[i] = null;
      c.flowDone();
    }
  }
}
