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
import trnsim.core.api.SimulationResult;
import trnsim.core.api.Simulator;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.RunOptions;

/**
 * Issue 14 targets in process: {@code trnsim run -H trn2 -w gemm:m=S,k=S,n=S} (lowering, the
 * steady state where it applies, the power check), in a JVM capped at 512 MB of heap. Single
 * shot: the first measurement after one warm-up is what a second command would cost without the
 * JVM's start-up (the whole-process numbers are in docs/performance.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx512m")
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class StreamRunBench {
  @Param({"4096", "32768"})
  int size;

  private HardwareSpec trn2;

  @Setup
  public void setUp() {
    trn2 = Bench.hardware("trn2");
  }

  @Benchmark
  public SimulationResult run() {
    return new Simulator(Bench.configs()).run(trn2, "gemm:m=" + size + ",k=" + size + ",n=" + size, RunOptions.defaults());
  }
}
