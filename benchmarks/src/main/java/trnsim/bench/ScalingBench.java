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
import trnsim.core.run.WorkloadResult;
import trnsim.core.run.WorkloadRunner;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.Step;

/**
 * Simulation time must grow with the number of distinct kernels, not with the layer count (issue
 * #8). A model of {@code layers} identical decoder layers is the one-layer lowering's kernels
 * repeated {@code layers} times in order; {@link WorkloadRunner} simulates each distinct kernel
 * once, so the score should stay flat from 1 to 80 layers.
 *
 * <p>The chip-count half of this benchmark (16, 64 and 144 chips; a Llama-3-70B training step on a
 * 144-chip Trn3 UltraServer) awaits the multi-chip system model, which is not on this branch.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class ScalingBench {
  @Param({"trn2"})
  String hardware;

  @Param({"layer:model=llama3-70b,phase=prefill,batch=1,seq=4096"})
  String layer;

  @Param({"1", "8", "80"})
  int layers;

  private HardwareSpec hw;
  private LoweredWorkload model;

  @Setup
  public void setUp() {
    hw = Bench.hardware(hardware);
    LoweredWorkload one = Bench.lower(hw, Bench.models(), layer);
    List<Step> steps = new ArrayList<>();
    for (int l = 0; l < layers; l++) {
      for (Step s : one.steps()) {
        steps.add(new Step("layer" + l + "." + s.label(), s.program(), s.repeat(), s.dtype()));
      }
    }
    model = new LoweredWorkload(one.name() + " x" + layers + " layers", steps, one.tokens());
  }

  @Benchmark
  public WorkloadResult layers() {
    return WorkloadRunner.run(hw, model, RunOptions.defaults());
  }
}
