package trnsim.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import trnsim.core.engine.EventHandler;
import trnsim.core.engine.Simulation;

/**
 * Engine throughput on one thread: events per second through {@link Simulation} (schedule, pop,
 * dispatch). {@code pending} handlers each re-schedule themselves with a pseudo-random delay, so the
 * heap holds {@code pending} events, as a chip model with that many busy engines and DMA queues
 * does (8 cores x ~21 queues ~ 170). The score is events per second (one operation = one event).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class EventQueueBench {
  static final int EVENTS = 1 << 20;

  @Param({"16", "256"})
  int pending;

  /** Re-schedules itself until the run has processed its events; delays from a xorshift. */
  static final class Ticker implements EventHandler {
    final Simulation sim;
    long state;
    int left;

    Ticker(Simulation sim, long seed, int events) {
      this.sim = sim;
      this.state = seed | 1;
      this.left = events;
    }

    @Override
    public void handle(int kind, long arg) {
      if (--left > 0) {
        state ^= state << 13;
        state ^= state >>> 7;
        state ^= state << 17;
        sim.schedule(1 + (state & 1023), this, kind, arg);
      }
    }
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long events() {
    Simulation sim = new Simulation();
    int per = EVENTS / pending;
    for (int i = 0; i < pending; i++) {
      Ticker t = new Ticker(sim, 0x9E3779B97F4A7C15L * (i + 1), per);
      sim.schedule(i, t, 0, 0);
    }
    sim.run();
    return sim.eventsProcessed();
  }
}
