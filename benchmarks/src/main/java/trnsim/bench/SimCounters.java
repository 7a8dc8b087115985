package trnsim.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Secondary results: simulated instructions and discrete events per second of wall time, reported
 * by JMH next to the primary score as {@code ·instructions} and {@code ·events} (rates, ops/s).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class SimCounters {
  /** Simulated instructions. */
  public long instructions;
  /** Discrete events processed by the engine. */
  public long events;

  @Setup(Level.Iteration)
  public void reset() {
    instructions = 0;
    events = 0;
  }
}
