package trnsim.core.hw;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareSpec;
import trnsim.core.engine.ClockDomain;
import trnsim.core.stats.StatsSnapshot;
import trnsim.isa.AluOp;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.Instruction;
import trnsim.isa.Op;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.ProgramException;
import trnsim.isa.TensorRef;

/**
 * The N-ISA-OLD vector-engine rules on the NC-v2 config (VectorE 1.12 GHz, MIN_II 64, latency 100):
 * tensor_tensor 2N from SBUF and N with one PSUM operand, tensor_tensor_scan 2N, free-size limits,
 * and the static overhead of an instruction that reads the previous one's output.
 */
class VectorCostRulesTest {
  static final ClockDomain VEC = new ClockDomain(1_120_000_000L);

  static HardwareSpec trn1(String... sets) {
    return ChipModelTest.hw("trn1", sets);
  }

  static long vectorBusyCycles(HardwareSpec hw, Instruction... ins) {
    ProgramBuilder b = new ProgramBuilder("rules", 16);
    for (Instruction i : ins) {
      b.core(0).add(i);
    }
    StatsSnapshot s = ChipModelTest.stats(hw, b.build());
    return (long) s.get("chip0.nc0.vector.busy_cycles");
  }

  static TensorRef sb(long f) {
    return TensorRef.sbuf(128, f, DType.FP32);
  }

  static TensorRef ps(long f) {
    return TensorRef.psum(128, f, DType.FP32);
  }

  @Test
  void tensorTensorIsTwoNFromSbufAndNWithOnePsumOperand() {
    HardwareSpec hw = trn1();
    assertThat(vectorBusyCycles(hw, new Instruction.TensorTensor(EngineKind.VECTOR, sb(512), sb(512), sb(512), AluOp.MULTIPLY)))
        .isEqualTo(1024);
    assertThat(vectorBusyCycles(hw, new Instruction.TensorTensor(EngineKind.VECTOR, sb(512), ps(512), sb(512), AluOp.MULTIPLY)))
        .isEqualTo(512);
    assertThat(vectorBusyCycles(hw, new Instruction.TensorTensor(EngineKind.VECTOR, ps(512), sb(512), sb(512), AluOp.ADD)))
        .isEqualTo(512);
    // Both in PSUM: no separate ports, the two-input rate.
    assertThat(vectorBusyCycles(hw, new Instruction.TensorTensor(EngineKind.VECTOR, ps(512), ps(512), sb(512), AluOp.ADD)))
        .isEqualTo(1024);
    // Tiny: the minimum initiation interval.
    assertThat(vectorBusyCycles(hw, new Instruction.TensorTensor(EngineKind.VECTOR, sb(8), ps(8), sb(8), AluOp.ADD)))
        .isEqualTo(64);
  }

  @Test
  void scanIsTwoNForEveryDtypeWithOrWithoutAnInitialValue() {
    HardwareSpec hw = trn1();
    Instruction f32 = new Instruction.TensorTensorScan(EngineKind.VECTOR, sb(512), sb(512), null, sb(512), AluOp.MULTIPLY, AluOp.ADD);
    TensorRef b16 = TensorRef.sbuf(128, 2048, DType.BF16);
    Instruction bf16 = new Instruction.TensorTensorScan(EngineKind.VECTOR, b16, b16, sb(1), b16, AluOp.MULTIPLY, AluOp.ADD);
    assertThat(vectorBusyCycles(hw, f32)).isEqualTo(1024);
    assertThat(vectorBusyCycles(hw, bf16)).isEqualTo(4096);
    // NC-v3's bf16 tensor_tensor perf mode does not apply to the scan.
    assertThat(vectorBusyCycles(ChipModelTest.hw("trn2"), bf16)).isEqualTo(4096);
  }

  @Test
  void scanShapesAreChecked() {
    HardwareSpec hw = trn1();
    assertThatThrownBy(() -> vectorBusyCycles(hw,
        new Instruction.TensorTensorScan(EngineKind.VECTOR, sb(512), sb(512), sb(2), sb(512), AluOp.MULTIPLY, AluOp.ADD)))
        .isInstanceOf(ProgramException.class).hasMessageContaining("initial value");
    assertThatThrownBy(() -> vectorBusyCycles(hw,
        new Instruction.TensorTensorScan(EngineKind.VECTOR, sb(512), sb(256), null, sb(512), AluOp.MULTIPLY, AluOp.ADD)))
        .isInstanceOf(ProgramException.class).hasMessageContaining("same shape");
    ProgramBuilder b = new ProgramBuilder("scan on gpsimd", 16);
    b.core(0).add(new Instruction.TensorTensorScan(EngineKind.GPSIMD, sb(512), sb(512), null, sb(512), AluOp.MULTIPLY, AluOp.ADD));
    assertThatThrownBy(() -> ChipModelTest.run(hw, b.build())).isInstanceOf(ProgramException.class)
        .hasMessageContaining("vector engine");
  }

  @Test
  void freeSizesAreLimitedPerMemory() {
    HardwareSpec hw = trn1();
    assertThat(vectorBusyCycles(hw, new Instruction.TensorCopy(EngineKind.VECTOR, sb(65536), sb(65536)))).isEqualTo(65536);
    assertThatThrownBy(() -> vectorBusyCycles(hw, new Instruction.TensorCopy(EngineKind.VECTOR, sb(65537), sb(65537))))
        .isInstanceOf(ProgramException.class).hasMessageContaining("at most 65536 from SBUF");
    assertThat(vectorBusyCycles(hw, new Instruction.TensorCopy(EngineKind.VECTOR, ps(4096), sb(4096)))).isEqualTo(4096);
    assertThatThrownBy(() -> vectorBusyCycles(hw, new Instruction.TensorCopy(EngineKind.VECTOR, ps(4097), sb(4097))))
        .isInstanceOf(ProgramException.class).hasMessageContaining("at most 4096 from PSUM");
    // The output operand is checked too.
    assertThatThrownBy(() -> vectorBusyCycles(hw, new Instruction.TensorCopy(EngineKind.VECTOR, sb(8192), ps(8192))))
        .isInstanceOf(ProgramException.class).hasMessageContaining("PSUM");
  }

  /** "With every instruction depending on the output tile of the previous instruction, add ~100 cycles" (N-ARCH1). */
  @Test
  void readingThePreviousResultWaitsForThePipelineLatency() {
    HardwareSpec hw = trn1();
    Instruction a = new Instruction.TensorTensor(EngineKind.VECTOR, sb(512), sb(512), sb(512), AluOp.MULTIPLY);
    ProgramBuilder ind = new ProgramBuilder("independent", 16);
    ind.core(0).add(a);
    ind.core(0).add(a);
    ProgramBuilder dep = new ProgramBuilder("dependent", 16);
    Op first = dep.core(0).add(a);
    dep.core(0).add(a, first);
    long independent = ChipModelTest.run(hw, ind.build());
    long dependent = ChipModelTest.run(hw, dep.build());
    // Both end with the last result becoming visible 100 cycles after the last instruction.
    long lat = VEC.ticksFor(100);
    assertThat(independent).isEqualTo(VEC.tickOf(2048) + lat);
    long secondStart = VEC.cycleAtOrAfter(VEC.tickOf(1024) + lat);
    assertThat(secondStart).isBetween(1124L, 1125L);
    assertThat(dependent).isEqualTo(VEC.tickOf(secondStart + 1024) + lat);
    StatsSnapshot s = ChipModelTest.stats(hw, dep.build());
    assertThat((long) s.get("chip0.nc0.vector.stall_wait_vector_ps")).isEqualTo(VEC.tickOf(1024) + lat - VEC.tickOf(1024));
    // With no pipeline latency the dependency costs nothing.
    assertThat(ChipModelTest.run(trn1("chip.core.vector.latency_cycles=0"), dep.build())).isEqualTo(VEC.tickOf(2048));
  }

  /**
   * Rates no shipped kernel sets end to end (ConfigSensitivityTest cannot reach them): the Scalar
   * engine's two-input rates (its kernels use it for activations and copies) and GpSimd's 32-bit
   * one-input rate. The cost model reads them for any such instruction: N / rate cycles, so halving
   * the rate adds N / 0.5 cycles.
   */
  @Test
  void ratesNoShippedKernelReachesStillSetTheirOpsCost() {
    TensorRef f32 = TensorRef.sbuf(128, 4096, DType.FP32);
    TensorRef b16 = TensorRef.sbuf(128, 4096, DType.BF16);
    Object[][] cases = {
        {"chip.core.scalar.binary32_rate", "scalar", new Instruction.TensorTensor(EngineKind.SCALAR, f32, f32, f32, AluOp.ADD)},
        {"chip.core.scalar.binary16_rate", "scalar", new Instruction.TensorTensor(EngineKind.SCALAR, b16, b16, b16, AluOp.ADD)},
        {"chip.core.gpsimd.unary32_rate", "gpsimd", new Instruction.TensorScalar(EngineKind.GPSIMD, f32, f32, AluOp.MULTIPLY)}};
    for (Object[] c : cases) {
      String key = (String) c[0];
      long base = busy(trn1(key + "=0.5"), (String) c[1], (Instruction) c[2]);
      long half = busy(trn1(key + "=0.25"), (String) c[1], (Instruction) c[2]);
      assertThat(base).as(key).isGreaterThanOrEqualTo(8192);
      assertThat(half - base).as(key).isBetween(8192L - 1, 8192L + 1);
    }
  }

  static long busy(HardwareSpec hw, String engine, Instruction... ins) {
    ProgramBuilder b = new ProgramBuilder("rules", 16);
    for (Instruction i : ins) {
      b.core(0).add(i);
    }
    return (long) ChipModelTest.stats(hw, b.build()).get("chip0.nc0." + engine + ".busy_cycles");
  }
}
