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
import trnsim.core.config.ModelLoader;
import trnsim.core.run.RunOptions;
import trnsim.core.run.WorkloadResult;
import trnsim.core.run.WorkloadRunner;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.Step;

/**
 * One Llama-3-70B decoder layer (prefill, 4096 tokens) on one chip: ten kernels, two of them
 * repeated (rmsnorm, residual add) and simulated once thanks to {@link WorkloadRunner}'s memo.
 * {@link #simulate} times the simulation of the already-lowered layer; {@link #lowerAndSimulate}
 * what {@code trnsim run} does after loading configs. Model shapes come from
 * {@code configs/workloads/models} through {@link ModelLoader}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class LayerBench {
  @Param({"trn2"})
  String hardware;

  @Param({"layer:model=llama3-70b,phase=prefill,batch=1,seq=4096"})
  String workload;

  private HardwareSpec hw;
  private ModelLoader models;
  private LoweredWorkload lowered;
  private long instructionCount;
  private final RunOptions opts = RunOptions.defaults();

  @Setup
  public void setUp() {
    hw = Bench.hardware(hardware);
    models = Bench.models();
    lowered = Bench.lower(hw, models, workload);
    instructionCount = instructions(lowered);
  }

  /** Simulated instructions of the workload, counting each step's repeats (as the model sees them). */
  static long instructions(LoweredWorkload w) {
    long n = 0;
    for (Step s : w.steps()) {
      n += s.program().instructionCount() * s.repeat();
    }
    return n;
  }

  @Benchmark
  public WorkloadResult simulate() {
    return WorkloadRunner.run(hw, lowered, opts);
  }

  @Benchmark
  public WorkloadResult lowerAndSimulate() {
    return WorkloadRunner.run(hw, Bench.lower(hw, models, workload), opts);
  }

  /**
   * {@link #simulate} as a rate, with the layer's simulated instructions per second (each step's
   * instructions times its repeat count, as the model accounts them) as a secondary result.
   */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public WorkloadResult rate(SimCounters counters) {
    WorkloadResult r = WorkloadRunner.run(hw, lowered, opts);
    counters.instructions += instructionCount;
    return r;
  }
}
