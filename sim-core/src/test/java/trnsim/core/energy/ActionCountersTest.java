package trnsim.core.energy;

import static org.assertj.core.api.Assertions.assertThat;
import static trnsim.core.energy.EnergyFixtures.hw;

import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareSpec;
import trnsim.core.engine.Simulation;
import trnsim.core.hw.ChipModel;
import trnsim.core.stats.StatsSnapshot;
import trnsim.core.trace.TraceSink;
import trnsim.isa.AluOp;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.Instruction;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.TensorRef;

/** The energy action counters the compute engines write, against hand counts. */
class ActionCountersTest {
  static StatsSnapshot run(HardwareSpec hw, ProgramBuilder b) {
    ChipModel c = new ChipModel(hw, b.build(), new Simulation(), TraceSink.NONE, null);
    c.run();
    return c.stats();
  }

  @Test
  void matmulReadsBothOperandsFromSbufAndWritesPsumAccumulateAlsoReads() {
    TensorRef w = TensorRef.sbuf(128, 128, DType.BF16);
    TensorRef x = TensorRef.sbuf(128, 512, DType.BF16);
    TensorRef p = TensorRef.psum(128, 512, DType.FP32);
    ProgramBuilder b = new ProgramBuilder("two", 16);
    b.core(0).add(new Instruction.MatMul(w, x, p, false));
    b.core(0).add(new Instruction.MatMul(w, x, p, true));
    StatsSnapshot s = run(hw("trn2"), b);
    String t = "chip0.nc0.tensor.";
    assertThat(s.get(t + "macs_bf16")).isEqualTo(2.0 * 128 * 128 * 512);
    assertThat(s.get(t + "macs_bf16") * 2).isEqualTo(s.get(t + "flops_bf16"));
    assertThat(s.get(t + "sbuf_read_bytes")).isEqualTo(2.0 * (128 * 128 * 2 + 128 * 512 * 2));
    assertThat(s.get(t + "psum_write_bytes")).isEqualTo(2.0 * 128 * 512 * 4);
    assertThat(s.get(t + "psum_read_bytes")).isEqualTo(128.0 * 512 * 4);
    assertThat(s.get(t + "sbuf_write_bytes")).isZero();
    assertThat(s.get(t + "element_ops")).isZero();
  }

  @Test
  void scanStreamsBothInputsTheCarryAndTheOutputOnceAndBroadcastsCountTheirMacs() {
    TensorRef x = TensorRef.sbuf(128, 512, DType.FP32);
    TensorRef carry = TensorRef.sbuf(128, 1, DType.FP32);
    ProgramBuilder b = new ProgramBuilder("scan", 16);
    b.core(0).add(new Instruction.TensorTensorScan(EngineKind.VECTOR, x, x, carry, x, AluOp.MULTIPLY, AluOp.ADD));
    // A partition broadcast: ones [1 x 128] stationary against a [1 x 512] row, K = 1.
    b.core(0).add(new Instruction.MatMul(TensorRef.sbuf(1, 128, DType.FP32), TensorRef.sbuf(1, 512, DType.FP32),
        TensorRef.psum(128, 512, DType.FP32), false));
    StatsSnapshot s = run(hw("trn1"), b);
    String v = "chip0.nc0.vector.";
    assertThat(s.get(v + "element_ops")).isEqualTo(128.0 * 512);
    assertThat(s.get(v + "sbuf_read_bytes")).isEqualTo(2.0 * 128 * 512 * 4 + 128 * 4);
    assertThat(s.get(v + "sbuf_write_bytes")).isEqualTo(128.0 * 512 * 4);
    String t = "chip0.nc0.tensor.";
    assertThat(s.get(t + "macs_fp32")).isEqualTo(1.0 * 128 * 512);
    assertThat(s.get(t + "sbuf_read_bytes")).isEqualTo(128.0 * 4 + 512 * 4);
    assertThat(s.get(t + "psum_write_bytes")).isEqualTo(128.0 * 512 * 4);
  }

  @Test
  void vectorOpsCountElementsAndBytesBySpace() {
    TensorRef a = TensorRef.sbuf(128, 1024, DType.BF16);
    TensorRef ps = TensorRef.psum(128, 1024, DType.FP32);
    TensorRef out = TensorRef.sbuf(128, 1024, DType.FP32);
    ProgramBuilder b = new ProgramBuilder("vec", 16);
    b.core(0).add(new Instruction.TensorTensor(EngineKind.VECTOR, a, a, out, AluOp.ADD));
    b.core(0).add(new Instruction.TensorCopy(EngineKind.VECTOR, ps, out));
    StatsSnapshot s = run(hw("trn2"), b);
    String v = "chip0.nc0.vector.";
    assertThat(s.get(v + "element_ops")).isEqualTo(2.0 * 128 * 1024);
    assertThat(s.get(v + "sbuf_read_bytes")).isEqualTo(2.0 * 128 * 1024 * 2);
    assertThat(s.get(v + "psum_read_bytes")).isEqualTo(128.0 * 1024 * 4);
    assertThat(s.get(v + "sbuf_write_bytes")).isEqualTo(2.0 * 128 * 1024 * 4);
    assertThat(s.get(v + "psum_write_bytes")).isZero();
  }
}
