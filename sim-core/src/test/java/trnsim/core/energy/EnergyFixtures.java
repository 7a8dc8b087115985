package trnsim.core.energy;

import java.nio.file.Path;
import java.util.List;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.KernelSimulator;
import trnsim.core.run.RunOptions;
import trnsim.core.run.RunResult;
import trnsim.core.run.Targets;
import trnsim.isa.DType;
import trnsim.isa.Instruction;
import trnsim.isa.Program;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.TensorRef;
import trnsim.isa.lower.GemmLowering;
import trnsim.isa.lower.GemmSpec;
import trnsim.isa.lower.StreamLowering;

/** Shared workloads for the energy tests: shipped configs, compute-bound and memory-bound programs. */
final class EnergyFixtures {
  static final Path CONFIGS = Path.of("..", "configs").toAbsolutePath().normalize();
  static final HardwareLoader LOADER = new HardwareLoader(CONFIGS);

  private EnergyFixtures() {}

  static HardwareSpec hw(String name, String... sets) {
    return LOADER.load(name, List.of(sets)).spec();
  }

  /** Every core runs a chain of {@code n} accumulating matmuls of one full PE-array tile: no memory traffic. */
  static Program matmulChains(HardwareSpec hw, DType d, int n) {
    var t = hw.chip().core().tensor();
    int k = (int) Math.round(t.rows() * Math.max(1.0, t.dtypeRates().get(d.rateKey())));
    int nFree = t.maxMovingFree();
    ProgramBuilder b = new ProgramBuilder("chains", hw.chip().core().dma().queues());
    for (int c = 0; c < hw.chip().cores(); c++) {
      for (int i = 0; i < n; i++) {
        b.core(c).add(new Instruction.MatMul(TensorRef.sbuf(k, t.cols(), d), TensorRef.sbuf(k, nFree, d),
            TensorRef.psum(t.cols(), nFree, DType.FP32), i > 0));
      }
    }
    return b.build();
  }

  static Program gemm(HardwareSpec hw, long n, DType d) {
    return GemmLowering.lower(Targets.of(hw), new GemmSpec(n, n, n, d, false, false), hw.chip().cores());
  }

  static Program copy(HardwareSpec hw, long bytes) {
    return StreamLowering.copy(Targets.of(hw), bytes, hw.chip().cores());
  }

  static RunResult run(HardwareSpec hw, Program p, DType d) {
    return KernelSimulator.run(hw, p, d, RunOptions.defaults());
  }

  /** A {@link PowerLimiter.Simulator} that runs {@code p} (lowered once, for the unscaled spec). */
  static PowerLimiter.Simulator simulator(Program p, DType d) {
    return h -> {
      RunResult r = run(h, p, d);
      return new PowerLimiter.Sample(r.timeSeconds(), r.stats());
    };
  }
}
