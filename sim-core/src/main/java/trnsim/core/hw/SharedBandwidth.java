package trnsim.core.hw;

import java.util.ArrayList;
import java.util.List;
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
  private final List<Flow> flows = new ArrayList<>();
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
    flows.add(new Flow(c, bytes, capPerTick));
    peakFlows = Math.max(peakFlows, flows.size());
    reallocate();
  }

  private void advance() {
    long now = sim.now();
    long dt = now - lastUpdate;
    if (dt > 0 && !flows.isEmpty()) {
      busyTicks += dt;
      for (Flow f : flows) {
        double moved = Math.min(f.remaining, f.rate * dt);
        f.remaining -= moved;
        bytesTransferred += moved;
      }
    }
    lastUpdate = now;
  }

  private void reallocate() {
    // Max-min fair water filling; flows sorted by cap (stable, so ties keep arrival order).
    List<Flow> byCap = new ArrayList<>(flows);
    byCap.sort((a, b) -> Double.compare(a.cap, b.cap));
    double left = capacityPerTick;
    int n = byCap.size();
    double total = 0;
    for (Flow f : byCap) {
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
    if (flows.isEmpty()) {
      return;
    }
    long next = Long.MAX_VALUE;
    for (Flow f : flows) {
      long t = (long) Math.ceil(f.remaining / f.rate);
      next = Math.min(next, Math.max(1, t));
    }
    sim.scheduleAt(sim.now() + next, 0, this, 0, generation);
  }

  @Override
  public void handle(int kind, long gen) {
    if (gen != generation) {
      return; // superseded by a later re-division
    }
    advance();
    List<Client> done = new ArrayList<>();
    for (int i = 0; i < flows.size(); ) {
      Flow f = flows.get(i);
      if (f.remaining <= 1e-3) {
        bytesTransferred += f.remaining;
        flows.remove(i);
        done.add(f.client);
      } else {
        i++;
      }
    }
    reallocate();
    for (Client c : done) {
      c.flowDone();
    }
  }
}
