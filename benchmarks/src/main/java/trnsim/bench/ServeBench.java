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
import trnsim.core.serve.ServeOutcome;
import trnsim.core.serve.ServeWorkload;
import trnsim.isa.workload.WorkloadSpec;

/**
 * A serving run (issue 13's target: 10,000 requests of Llama-3 70B on trn2.48xlarge in under 10 s),
 * planning and every graph shape's kernel simulation included (each measurement plans afresh, so the
 * memo starts empty): fixed 512/128-token requests (5 shapes) and log-normal prompts (median 512,
 * sigma 0.6: about 44 shapes, most of the time). {@code requests} = 1000 times the kernel simulations
 * with a tenth of the serving loop.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class ServeBench {
  @Param({"512", "lognormal:median=512;sigma=0.6"})
  String prompt;

  @Param({"10000"})
  int requests;

  private HardwareSpec hw;
  private ModelLoader models;
  private EnergyModel energy;
  private ServeWorkload workload;

  @Setup
  public void setUp() {
    hw = Bench.hardware("trn2-48xl");
    models = Bench.models();
    energy = EnergyModel.forHardware(hw, Bench.configs());
    workload = ServeWorkload.parse(WorkloadSpec.parse("serve:model=llama3-70b,rate=4,prompt=" + prompt + ",output=128,requests=" + requests,
        "bench"));
  }

  @Benchmark
  public ServeOutcome serve() {
    return workload.run(hw, models::model, energy);
  }
}
