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
import trnsim.isa.DType;
import trnsim.isa.Program;
import trnsim.isa.lower.LoweredWorkload;

/**
 * One GEMM kernel simulated on one core or one whole chip (all cores) of a hardware config, after
 * lowering (lowering is outside the timed region; {@link #lower()} times it alone). Score: ms per
 * simulation; the {@code ·instructions} secondary result is simulated instructions per second.
 * Issue #8 target: trn2, 4096x4096x4096 bf16 on 8 cores at most 50 ms per simulation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class GemmBench {
  @Param({"trn2"})
  String hardware;

  /** M=K=N. */
  @Param({"1024", "2048", "4096"})
  int size;

  /** 1 = one core; 0 = every core of the chip. */
  @Param({"1", "0"})
  int cores;

  private HardwareSpec hw;
  private String workload;
  private Program program;
  private long instructionCount;
  private final RunOptions opts = RunOptions.defaults();

  @Setup
  public void setUp() {
    hw = Bench.hardware(hardware);
    int c = cores == 0 ? hw.chip().cores() : cores;
    workload = "gemm:m=" + size + ",k=" + size + ",n=" + size + ",dtype=bf16,cores=" + c;
    program = Bench.lower(hw, null, workload).steps().get(0).program();
    instructionCount = program.instructionCount();
  }

  /** Milliseconds per simulation. */
  @Benchmark
  public RunResult simulate() {
    return KernelSimulator.run(hw, program, DType.BF16, opts);
  }

  /**
   * The same simulation as a rate: simulations per second, with simulated instructions and engine
   * events per second as the {@code :instructions} and {@code :events} secondary results.
   */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public RunResult rate(SimCounters counters) {
    RunResult r = KernelSimulator.run(hw, program, DType.BF16, opts);
    counters.instructions += instructionCount;
    counters.events += (long) r.stats().get("sim.events");
    return r;
  }

  @Benchmark
  public LoweredWorkload lower() {
    return Bench.lower(hw, null, workload);
  }
}
