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
import trnsim.core.energy.EnergyModel;
import trnsim.core.run.RunOptions;
import trnsim.core.system.LlmResult;
import trnsim.core.system.LlmSystem;
import trnsim.isa.workload.WorkloadSpec;

/**
 * The llm-train plan search (issue 12) on open degrees: the bound-pruned search (the default), the
 * exhaustive one (every fitting plan simulated) and the default chooser's single plan, each a whole
 * step with lowering, kernel simulation and composition. The pruned search should cost about what
 * simulating its winner costs; the exhaustive one one layer simulation per tensor-parallel degree.
 * Heap: 2 GiB, since the 70B search simulates a tp=2 layer whose lowering alone needs more than 512 MiB
 * (the 405B step's 512 MiB target is checked whole-process: docs/performance.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class PlanSearchBench {
  /** hardware|workload. */
  @Param({"trn3-ultraserver|llm-train:model=llama3-405b", "trn2-ultraserver|llm-train:model=llama3-70b"})
  String system;

  /** plan= value. */
  @Param({"search", "exhaustive", "first"})
  String plan;

  private String workload;
  private HardwareSpec hw;
  private ModelLoader models;
  private EnergyModel energy;

  @Setup
  public void setUp() {
    String[] parts = system.split("\\|");
    hw = Bench.hardware(parts[0]);
    workload = parts[1] + ",plan=" + plan;
    models = Bench.models();
    energy = EnergyModel.forHardware(hw, Bench.configs());
  }

  @Benchmark
  public LlmResult step() {
    return LlmSystem.run(hw, WorkloadSpec.parse(workload, "bench"), models::model, energy, RunOptions.defaults());
  }
}
