package trnsim.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.KernelSimulator;
import trnsim.core.run.RunOptions;
import trnsim.core.run.RunResult;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.Step;

/**
 * Causal flash attention forward (Llama-3-70B-like heads: 32 x 128, 4096 tokens) simulated on one
 * chip; lowering timed separately. Score: ms per simulation; {@code ·instructions}: simulated
 * instructions per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class AttentionBench {
  @Param({"trn2"})
  String hardware;

  @Param({"attention:b=1,h=32,s=4096,d=128,causal=true"})
  String workload;

  private HardwareSpec hw;
  private Step step;
  private long instructionCount;
  private final RunOptions opts = RunOptions.defaults();

  @Setup
  public void setUp() {
    hw = Bench.hardware(hardware);
    step = Bench.lower(hw, null, workload).steps().get(0);
    instructionCount = step.program().instructionCount();
  }

  /** Milliseconds per simulation. */
  @Benchmark
  public RunResult simulate() {
    return KernelSimulator.run(hw, step.program(), step.dtype(), opts);
  }

  /**
   * The same simulation as a rate: simulations per second, with simulated instructions and engine
   * events per second as the {@code :instructions} and {@code :events} secondary results.
   */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public RunResult rate(SimCounters counters) {
    RunResult r = KernelSimulator.run(hw, step.program(), step.dtype(), opts);
    counters.instructions += instructionCount;
    counters.events += (long) r.stats().get("sim.events");
    return r;
  }

  @Benchmark
  public LoweredWorkload lower() {
    return Bench.lower(hw, null, workload);
  }
}
