package trnsim.core.energy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static trnsim.core.energy.EnergyFixtures.hw;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import trnsim.core.config.ConfigException;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.RunResult;
import trnsim.core.stats.StatsSnapshot;
import trnsim.isa.DType;

class EnergyModelTest {
  @TempDir
  Path tmp;

  static EnergyModel model(HardwareSpec hw) {
    return EnergyModel.forHardware(hw, EnergyFixtures.CONFIGS);
  }

  @Test
  void everyShippedConfigWithAPowerBlockHasAValidEnergyTable() {
    for (String name : EnergyFixtures.LOADER.list()) {
      HardwareSpec hw = hw(name);
      if (hw.chip().power() != null) {
        EnergyModel m = model(hw);
        assertThat(m.staticPowerW()).as(name).isPositive().isLessThan(hw.chip().power().limit().watts());
        for (String d : hw.chip().core().tensor().dtypeRates().keySet()) {
          assertThat(m.table().tensor().macPj()).as(name + " has a MAC energy for every dtype it runs").containsKey(d);
        }
      }
    }
  }

  @Test
  void energyIsExactlyTheSumOfItsParts() {
    HardwareSpec trn2 = hw("trn2");
    RunResult r = EnergyFixtures.run(trn2, EnergyFixtures.gemm(trn2, 1024, DType.BF16), DType.BF16);
    EnergyModel m = model(trn2);
    EnergyReport e = m.report(r.stats(), r.timeSeconds());
    double sum = 0;
    for (var part : e.dynamicEnergyJ().entrySet()) {
      // Each part is its count times its energy per action.
      assertThat(part.getValue()).isEqualTo(e.actionCounts().get(part.getKey()) * m.energyPj(part.getKey()) * 1e-12);
      sum += part.getValue();
    }
    assertThat(e.totalEnergyJ()).isEqualTo(sum + e.staticEnergyJ());
    assertThat(e.staticEnergyJ()).isEqualTo(85.0 * r.timeSeconds());
    double byComponent = e.dynamicEnergyByComponentJ().values().stream().mapToDouble(Double::doubleValue).sum();
    assertThat(byComponent).isCloseTo(e.dynamicTotalJ(), within(1e-15));
    // Counted actions: MACs are the run's FLOPs / 2; HBM bytes match the DMA statistics.
    assertThat(e.actionCounts().get("tensor.mac_bf16")).isEqualTo(r.flops() / 2.0);
    assertThat(e.actionCounts().get("hbm.read") + e.actionCounts().getOrDefault("hbm.write", 0.0)).isEqualTo(r.hbmBytes());
    assertThat(e.actionCounts()).containsKeys("sbuf.read", "sbuf.write", "psum.read", "psum.write", "dma.byte");
    assertThat(e.averagePowerW()).isEqualTo(e.totalEnergyJ() / r.timeSeconds());
  }

  @Test
  void doublingTimeAtZeroWorkDoublesStaticEnergy() {
    EnergyModel m = model(hw("trn3"));
    StatsSnapshot idle = StatsSnapshot.builder().put("sim.end_ps", 0).put("chip0.hbm.transferred_bytes", 0).build();
    EnergyReport one = m.report(idle, 1e-3);
    EnergyReport two = m.report(idle, 2e-3);
    assertThat(one.dynamicTotalJ()).isZero();
    assertThat(two.staticEnergyJ()).isEqualTo(2 * one.staticEnergyJ());
    assertThat(two.totalEnergyJ()).isEqualTo(2 * one.totalEnergyJ());
    assertThat(one.averagePowerW()).isCloseTo(117.0, within(1e-9));
    assertThat(m.report(idle, 0).averagePowerW()).isZero();
  }

  @Test
  void moreFlopsMeanMoreEnergy() {
    HardwareSpec trn2 = hw("trn2");
    EnergyModel m = model(trn2);
    double previous = 0;
    for (int n : new int[] {1, 4, 16}) {
      RunResult r = EnergyFixtures.run(trn2, EnergyFixtures.matmulChains(trn2, DType.BF16, n), DType.BF16);
      EnergyReport e = m.report(r.stats(), r.timeSeconds());
      assertThat(e.totalEnergyJ()).as(n + " matmuls per core").isGreaterThan(previous);
      assertThat(e.dynamicEnergyJ().get("tensor.mac_bf16")).isEqualTo(r.flops() / 2.0 * 1.01e-12);
      previous = e.totalEnergyJ();
    }
    // Same MACs in fp8 cost less than in bf16 (narrower multipliers, half the operand bytes).
    RunResult bf = EnergyFixtures.run(trn2, EnergyFixtures.matmulChains(trn2, DType.BF16, 8), DType.BF16);
    RunResult f8 = EnergyFixtures.run(trn2, EnergyFixtures.matmulChains(trn2, DType.FP8_E4M3, 4), DType.FP8_E4M3);
    assertThat(f8.flops()).isEqualTo(bf.flops());
    assertThat(m.report(f8.stats(), f8.timeSeconds()).dynamicTotalJ())
        .isLessThan(m.report(bf.stats(), bf.timeSeconds()).dynamicTotalJ());
  }

  @Test
  void staticChargedPerChipInTheStatistics() {
    EnergyModel m = model(hw("trn2"));
    StatsSnapshot two = StatsSnapshot.builder().put("chip0.nc0.dma0.hbm_read_bytes", 1000).put("chip1.nc0.dma0.hbm_read_bytes", 1000).build();
    EnergyReport e = m.report(two, 1.0);
    assertThat(e.chips()).isEqualTo(2);
    assertThat(e.staticEnergyJ()).isEqualTo(170.0);
    assertThat(e.dynamicEnergyJ().get("hbm.read")).isEqualTo(2000 * 32e-12);
    assertThat(e.averagePowerPerChipW()).isEqualTo(e.averagePowerW() / 2);
  }

  @Test
  void hardwareIdleOverridesTheTableStaticPowerAndSetWorks() {
    assertThat(model(hw("trn2")).staticPowerW()).isEqualTo(85.0);
    assertThat(model(hw("trn2", "chip.power.idle=150 W")).staticPowerW()).isEqualTo(150.0);
    assertThat(model(hw("h100")).staticPowerW()).isEqualTo(118.0);
    EnergyModel other = model(hw("trn2", "chip.power.energy_table=energy/trn3.energy.yaml"));
    assertThat(other.table().description()).contains("Trainium3");
  }

  @Test
  void powerBlockStaysStrict() {
    assertThatThrownBy(() -> hw("trn2", "chip.power.energy_tabel=energy/trn2.energy.yaml"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("energy_tabel").hasMessageContaining("unknown key");
    assertThatThrownBy(() -> hw("trn2", "chip.power.energy_table=energy/trn2.json"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("chip.power.energy_table").hasMessageContaining(".yaml");
  }

  @Test
  void missingTableOrMissingDtypeEnergyIsAConfigError() {
    assertThatThrownBy(() -> model(hw("trn2", "chip.power.energy_table=energy/nope.energy.yaml")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("nope.energy.yaml").hasMessageContaining("not found");
    EnergyModel m = model(hw("trn2"));
    StatsSnapshot int8 = StatsSnapshot.builder().put("chip0.nc0.tensor.macs_int8", 10).build();
    assertThatThrownBy(() -> m.report(int8, 1.0)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("tensor.mac_pj.int8").hasMessageContaining("trn2.energy.yaml");
  }

  private Path table(String body) throws IOException {
    Path p = tmp.resolve("t.energy.yaml");
    Files.writeString(p, body);
    return p;
  }

  private static final String VALID = """
      description: test
      static_power: 10 W
      tensor: {mac_pj: {bf16: 1.0}}
      vector: {element_op_pj: 1.0}
      scalar: {element_op_pj: 1.0}
      gpsimd: {element_op_pj: 1.0}
      sbuf: {read_byte_pj: 0.5, write_byte_pj: 0.5}
      psum: {read_byte_pj: 0.5, write_byte_pj: 0.5}
      hbm: {read_byte_pj: 30, write_byte_pj: 30}
      dma: {byte_pj: 10}
      """;

  @Test
  void tablesBindStrictlyAndErrorsNameFileKeyAndValue() throws IOException {
    EnergyTable ok = EnergyTable.load(table(VALID));
    assertThat(ok.staticPower().watts()).isEqualTo(10.0);
    assertThat(ok.link()).isNull();

    assertThatThrownBy(() -> EnergyTable.load(table(VALID + "sram: {read_byte_pj: 1}\n")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("t.energy.yaml").hasMessageContaining("sram")
        .hasMessageContaining("unknown key");
    assertThatThrownBy(() -> EnergyTable.load(table(VALID.replace("hbm: {read_byte_pj: 30", "hbm: {read_byte_pj: -3"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("hbm.read_byte_pj").hasMessageContaining("-3");
    assertThatThrownBy(() -> EnergyTable.load(table(VALID.replace("static_power: 10 W", "static_power: 10"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("static_power");
    assertThatThrownBy(() -> EnergyTable.load(table(VALID.replace("dma: {byte_pj: 10}\n", ""))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("dma").hasMessageContaining("missing");
    assertThatThrownBy(() -> EnergyTable.load(table(VALID.replace("bf16: 1.0", "bf16: lots"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("tensor.mac_pj");
  }

  /**
   * The H100 calibration (calibration/h100/energy.csv): a simulated 1 GiB HBM-to-HBM copy at full clock
   * should draw what the board drew, 539.6 W, i.e. 179.3 pJ per byte counted (read + write).
   */
  @Test
  void h100CopyDrawsTheMeasuredBoardPower() {
    HardwareSpec h100 = hw("h100");
    RunResult r = EnergyFixtures.run(h100, EnergyFixtures.copy(h100, 1L << 30), DType.BF16);
    EnergyReport e = model(h100).report(r.stats(), r.timeSeconds());
    assertThat(e.averagePowerW()).isCloseTo(539.6, within(539.6 * 0.03));
    assertThat(e.picojoulesPer(r.hbmBytes())).isCloseTo(179.26, within(179.26 * 0.03));
  }
}
