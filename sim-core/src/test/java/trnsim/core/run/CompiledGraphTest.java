package trnsim.core.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.isa.AluOp;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.Op;
import trnsim.isa.Program;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.ProgramChain;
import trnsim.isa.TensorRef;

/** Kernels chained into one compiled graph, and the DMA rate of transfers with an on-chip end. */
class CompiledGraphTest {
  static final HardwareLoader LOADER = new HardwareLoader(Path.of("..", "configs").toAbsolutePath().normalize());

  static HardwareSpec hw(String name, String... sets) {
    return LOADER.load(name, List.of(sets)).spec();
  }

  static double time(HardwareSpec h, Program p) {
    return KernelSimulator.run(h, p, DType.BF16, RunOptions.defaults()).timeSeconds();
  }

  /** A kernel: load a weight tile (independent if asked), load an activation tile, multiply them, store. */
  static ProgramChain.Link kernel(String name, boolean weightIndependent) {
    ProgramBuilder pb = new ProgramBuilder(name, 16);
    var c = pb.core(0);
    c.alloc(MemSpace.SBUF, "tiles", 128, 3 * 16384);
    Op w = c.dma(0, new Instruction.DmaCopy(TensorRef.hbm(128, 16384, DType.INT8), TensorRef.sbuf(128, 16384, DType.INT8)));
    Op x = c.dma(1, new Instruction.DmaCopy(TensorRef.hbm(128, 2048, DType.INT8), TensorRef.sbuf(128, 2048, DType.INT8)));
    TensorRef t = TensorRef.sbuf(128, 1024, DType.BF16);
    Op m = c.add(new Instruction.TensorTensor(EngineKind.VECTOR, t, t, t, AluOp.MULTIPLY), w, x);
    c.dma(2, new Instruction.DmaCopy(TensorRef.sbuf(128, 2048, DType.INT8), TensorRef.hbm(128, 2048, DType.INT8)), m);
    var ind = new ProgramChain.Independent();
    if (weightIndependent) {
      ind.add(0, w);
    }
    return new ProgramChain.Link(pb.build(), ind.sets());
  }

  @Test
  void aChainWithoutIndependentLoadsRunsItsKernelsBackToBack() {
    HardwareSpec h = hw("trn1");
    ProgramChain.Link a = kernel("a", false);
    ProgramChain.Link b = kernel("b", false);
    Program chain = ProgramChain.chain("a+b", List.of(a, b), 196608);
    assertThat(chain.instructionCount()).isEqualTo(a.program().instructionCount() + b.program().instructionCount());
    double ta = time(h, a.program());
    double tb = time(h, b.program());
    // b's instructions wait for a's last instruction on every queue: the sum, up to clock-edge alignment
    assertThat(time(h, chain)).isCloseTo(ta + tb, within((ta + tb) * 0.01));
  }

  @Test
  void independentWeightLoadsOfTheNextKernelOverlapTheCurrentOne() {
    HardwareSpec h = hw("trn1");
    ProgramChain.Link a = kernel("a", true);
    ProgramChain.Link b = kernel("b", true);
    double ta = time(h, a.program());
    double tb = time(h, b.program());
    double chained = time(h, ProgramChain.chain("a+b", List.of(a, b), 196608));
    assertThat(chained).isLessThan(ta + tb * 0.9);
    assertThat(chained).isGreaterThanOrEqualTo(Math.max(ta, tb));
    // when the two kernels' buffers do not fit SBUF together, the boundary is a full synchronisation
    double tight = time(h, ProgramChain.chain("a+b", List.of(a, b), 3 * 16384 + 1));
    assertThat(tight).isCloseTo(ta + tb, within((ta + tb) * 0.01));
  }

  @Test
  void transfersWithAnOnChipEndRunAtTheSbufRateAndHbmToHbmAtTheQueueRate() {
    // no shipped config sets it: absent, it is the queue rate
    assertThat(hw("trn1").chip().core().dma().sbufBandwidth()).isEqualTo(hw("trn1").chip().core().dma().queueBandwidth());
    HardwareSpec h = hw("trn1", "chip.core.dma.sbuf_bandwidth=27.2GB/s");
    var dma = h.chip().core().dma();
    assertThat(dma.sbufBandwidth().bytesPerSecond()).isGreaterThan(dma.queueBandwidth().bytesPerSecond());
    long bytes = 4L << 20;
    double fixed = dma.descriptorCost().seconds() + dma.latency().seconds();
    for (boolean onChip : new boolean[] {true, false}) {
      ProgramBuilder pb = new ProgramBuilder("one transfer", 16);
      var c = pb.core(0);
      c.alloc(MemSpace.SBUF, "dst", 128, bytes / 128);
      c.dma(0, new Instruction.DmaCopy(TensorRef.hbm(128, bytes / 128, DType.INT8),
          onChip ? TensorRef.sbuf(128, bytes / 128, DType.INT8) : TensorRef.hbm(128, bytes / 128, DType.INT8)));
      double rate = onChip ? dma.sbufBandwidth().bytesPerSecond() : dma.queueBandwidth().bytesPerSecond();
      assertThat(time(h, pb.build())).as("on chip: %s", onChip).isCloseTo(fixed + bytes / rate, within((fixed + bytes / rate) * 0.01));
    }
  }
}
