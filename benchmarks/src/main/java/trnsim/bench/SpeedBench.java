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
import trnsim.core.energy.EnergyModel;
import trnsim.core.energy.PowerLimiter;
import trnsim.core.run.GemmSteadyState;
import trnsim.core.run.KernelSimulator;
import trnsim.core.run.RunOptions;
import trnsim.core.run.RunResult;
import trnsim.core.scalesim.ScaleSimConfig;
import trnsim.core.scalesim.ScaleSimLayer;
import trnsim.core.scalesim.ScaleSimLayerStats;
import trnsim.core.scalesim.SystolicDataflow;
import trnsim.isa.DType;
import trnsim.isa.Program;
import trnsim.isa.lower.GemmSpec;

/**
 * Issue 14 (speed at any scale): the closed-form SCALE-Sim layer, a GEMM by steady-state
 * extrapolation against the same GEMM simulated block by block, and the power limiter's search.
 * Single-shot: each of these is one user-visible operation (seconds for the GEMMs).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class SpeedBench {
  /** M x K x N on trn2: large enough that the steady state is extrapolated (32 M blocks per core). */
  @Param({"32768x4096x32768"})
  String shape;

  private HardwareSpec trn2;
  private GemmSpec gemm;
  private Program full;
  private final RunOptions opts = RunOptions.defaults();

  @Setup
  public void setUp() {
    trn2 = Bench.hardware("trn2");
    String[] d = shape.split("x");
    gemm = new GemmSpec(Long.parseLong(d[0]), Long.parseLong(d[1]), Long.parseLong(d[2]), DType.BF16, false, false);
    full = Bench.lower(trn2, null, "gemm:m=" + d[0] + ",k=" + d[1] + ",n=" + d[2]).steps().get(0).program();
  }

  /** SCALE-Sim's 4096^3 ws layer on a 128 x 128 array, closed form (SCALE-Sim v2: over an hour). */
  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  @Warmup(iterations = 2, time = 1)
  @Measurement(iterations = 3, time = 1)
  public long scaleSimLayer() {
    ScaleSimConfig cfg = new ScaleSimConfig("bench", 128, 128, 1024, 1024, 512, SystolicDataflow.WEIGHT_STATIONARY);
    ScaleSimLayerStats s = ScaleSimLayerStats.of(cfg, ScaleSimLayer.gemm("g", 4096, 4096, 4096));
    return s.totalCycles() + s.folds().ifmapSram().stopCycle() + s.ifmapDram().words();
  }

  /** The GEMM from three reduced kernels (lowering included: that is what the accelerator does). */
  @Benchmark
  public RunResult gemmSteadyState() {
    return GemmSteadyState.run(trn2, gemm, trn2.chip().cores(), opts);
  }

  /** The same GEMM simulated block by block (already lowered). */
  @Benchmark
  public RunResult gemmFull() {
    return KernelSimulator.run(trn2, full, DType.BF16, opts);
  }

  /**
   * A ragged grid extrapolated: M = 257 tiles over 2 cores (129 and 128), 32 whole M blocks on the
   * busiest core, each core keeping its remainder (trn2 32896 x 4096 x 32768).
   */
  @Benchmark
  public RunResult gemmRaggedSteadyState() {
    GemmSpec ragged = new GemmSpec(32768 + 128, 4096, 32768, DType.BF16, false, false);
    return GemmSteadyState.run(trn2, ragged, trn2.chip().cores(), opts);
  }

  /**
   * An h100 16384^3 GEMM's split piece (16384 x 16384 x 256 over 132 SMs, 128 used) extrapolated
   * along its 256 K blocks from 4, 7 and 10.
   */
  @Benchmark
  public RunResult h100PieceSteadyState() {
    HardwareSpec h100 = Bench.hardware("h100");
    return GemmSteadyState.run(h100, new GemmSpec(16384, 16384, 256, DType.BF16, false, false), h100.chip().cores(), opts);
  }

  /**
   * The whole user-visible run {@code trnsim run -H h100 -w gemm:m=16384,k=16384,n=16384}: the power
   * limiter's runs (3; 5 before it re-timed them), each by steady state of the split piece, sharing one split and one lowering.
   */
  @Benchmark
  public trnsim.core.api.SimulationResult h100GemmUnderPowerLimit() {
    trnsim.core.api.Simulator sim = new trnsim.core.api.Simulator(Bench.configs());
    return sim.run(Bench.hardware("h100"), "gemm:m=16384,k=16384,n=16384", opts);
  }

  /** As {@link #h100GemmUnderPowerLimit} with the limiter's exact search (--exact-power-limit): one more run. */
  @Benchmark
  public trnsim.core.api.SimulationResult h100GemmUnderPowerLimitExact() {
    trnsim.core.api.Simulator sim = new trnsim.core.api.Simulator(Bench.configs());
    return sim.run(Bench.hardware("h100"), "gemm:m=16384,k=16384,n=16384", opts.withExactPowerSearch(true));
  }

  /** The power limiter on a mixed (DMA + tensor) GEMM at 150 W: at most three simulations. */
  @Benchmark
  public PowerLimiter.Result powerLimit() {
    Program p = Bench.lower(trn2, null, "gemm:m=1024,k=1024,n=1024").steps().get(0).program();
    PowerLimiter limiter = new PowerLimiter(EnergyModel.forHardware(trn2, Bench.configs()), 150);
    return limiter.run(trn2, hw -> {
      RunResult r = KernelSimulator.run(hw, p, DType.BF16, opts);
      return new PowerLimiter.Sample(r.timeSeconds(), r.stats());
    });
  }
}
