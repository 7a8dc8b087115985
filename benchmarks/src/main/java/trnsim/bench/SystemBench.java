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
 * A whole Llama-3 training step on a multi-chip system, including lowering, kernel simulation of one
 * chip of a tensor-parallel group, collectives and composition (issue #8 targets: at most 5 s for a
 * 70B step on the 144-chip Trn3 UltraServer, within 1 GiB of heap). The chip-count parameter shows
 * that simulation time follows the number of distinct kernels, not the number of chips: 16 chips
 * (trn2-48xl, too small to train 70B, so it runs the 8B model), 64 and 144 chips.
 *
 * <p>Heap: run with {@code -jvmArgs -Xmx1g} to check the memory target.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx1g")
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class SystemBench {
  /** hardware|workload. */
  @Param({"trn2-48xl|llm-train:model=llama3-8b", "trn3-ultraserver-gen1|llm-train:model=llama3-70b",
      "trn3-ultraserver|llm-train:model=llama3-70b", "trn2-ultraserver|llm-train:model=llama3-70b"})
  String system;

  private String workload;

  private HardwareSpec hw;
  private ModelLoader models;
  private EnergyModel energy;

  @Setup
  public void setUp() {
    String[] parts = system.split("\\|");
    hw = Bench.hardware(parts[0]);
    workload = parts[1];
    models = Bench.models();
    energy = EnergyModel.forHardware(hw, Bench.configs());
  }

  @Benchmark
  public LlmResult step() {
    return LlmSystem.run(hw, WorkloadSpec.parse(workload, "bench"), models::model, energy, RunOptions.defaults());
  }
}
