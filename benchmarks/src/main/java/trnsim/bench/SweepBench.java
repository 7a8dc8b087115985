package trnsim.bench;

import java.util.ArrayList;
import java.util.List;
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
import trnsim.core.run.RunOptions;
import trnsim.core.run.WorkloadRunner;

/**
 * A design-space sweep: {@code points} different GEMM shapes (M, K, N multiples of 128 in
 * [128, 4096], from a fixed-seed generator, so every run sweeps the same shapes), each lowered and
 * simulated on the whole chip. Score: ms per sweep. {@link #sequential} uses one thread;
 * {@link #parallel} a parallel stream (the common pool: on this 2-core machine, 2 threads).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
public class SweepBench {
  @Param({"trn2"})
  String hardware;

  @Param({"100"})
  int points;

  private HardwareSpec hw;
  private List<String> shapes;
  private final RunOptions opts = RunOptions.defaults();

  @Setup
  public void setUp() {
    hw = Bench.hardware(hardware);
    shapes = shapes(points);
  }

  /** {@code n} GEMM workload strings from a fixed-seed xorshift. */
  static List<String> shapes(int n) {
    List<String> out = new ArrayList<>(n);
    long s = 0x2545F4914F6CDD1DL;
    for (int i = 0; i < n; i++) {
      long[] mkn = new long[3];
      for (int j = 0; j < 3; j++) {
        s ^= s << 13;
        s ^= s >>> 7;
        s ^= s << 17;
        mkn[j] = 128 * (1 + Math.floorMod(s, 32));
      }
      out.add("gemm:m=" + mkn[0] + ",k=" + mkn[1] + ",n=" + mkn[2]);
    }
    return out;
  }

  private double point(String w) {
    return WorkloadRunner.run(hw, Bench.lower(hw, null, w), opts).timeSeconds();
  }

  @Benchmark
  public double sequential() {
    double total = 0;
    for (String w : shapes) {
      total += point(w);
    }
    return total;
  }

  @Benchmark
  public double parallel() {
    return shapes.parallelStream().mapToDouble(this::point).sum();
  }
}
