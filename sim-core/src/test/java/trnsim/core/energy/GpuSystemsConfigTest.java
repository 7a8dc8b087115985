package trnsim.core.energy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static trnsim.core.energy.EnergyFixtures.hw;

import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareSpec;

/**
 * The GPU rival configs reproduce the dense datasheet numbers they cite (NVIDIA datasheets and pages as collected
 * in the project's GPU facts): tensor peaks per dtype as SMs x FMA per clock x 2 x clock x rate, HBM, power, the
 * NVLink domain, the scale-out network and the price per GPU-hour.
 */
class GpuSystemsConfigTest {
  static double peak(HardwareSpec h, String dtype) {
    var t = h.chip().core().tensor();
    return h.chip().cores() * 2.0 * t.rows() * t.cols() * t.clock().hertz() * t.dtypeRates().get(dtype);
  }

  @Test
  void h200IsAnH100WithHbm3e() {
    HardwareSpec h = hw("h200");
    assertThat(h.chip().core()).isEqualTo(hw("h100").chip().core());
    assertThat(h.chip().hbm().bandwidth().bytesPerSecond()).isEqualTo(4_800_000_000_000L);
    assertThat(h.chip().hbm().capacity().bytes()).isEqualTo(143_771L << 20);
    assertThat(h.chip().power().limit().watts()).isEqualTo(700.0);
  }

  @Test
  void b200DenseDatasheetPeaks() {
    HardwareSpec h = hw("b200");
    assertThat(h.chip().cores()).isEqualTo(148);
    assertThat(peak(h, "bf16") / 1e15).isCloseTo(2.25, within(0.002));
    assertThat(peak(h, "fp8") / 1e15).isCloseTo(4.5, within(0.004));
    assertThat(peak(h, "mxfp4") / 1e15).isCloseTo(9.0, within(0.008));
    assertThat(peak(h, "int8") / 1e15).isCloseTo(4.5, within(0.004));
    assertThat(h.chip().hbm().bandwidth().bytesPerSecond()).isEqualTo(7_700_000_000_000L);
    assertThat(h.chip().power().limit().watts()).isEqualTo(1000.0);
  }

  @Test
  void gb200AndGb300DenseDatasheetPeaks() {
    HardwareSpec g2 = hw("gb200");
    HardwareSpec g3 = hw("gb300");
    for (HardwareSpec h : new HardwareSpec[] {g2, g3}) {
      assertThat(h.chip().cores()).isEqualTo(152);
      assertThat(peak(h, "bf16") / 1e15).isCloseTo(2.5, within(0.002));
      assertThat(peak(h, "fp8") / 1e15).isCloseTo(5.0, within(0.004));
      assertThat(h.chip().hbm().bandwidth().bytesPerSecond()).isEqualTo(8_000_000_000_000L);
    }
    assertThat(peak(g2, "mxfp4") / 1e15).isCloseTo(10.0, within(0.01));
    // Blackwell Ultra: 15 PF dense FP4 (sparse:dense 1.33, not 2) and INT8 cut to 165 TOPS dense
    assertThat(peak(g3, "mxfp4") / 1e15).isCloseTo(15.0, within(0.015));
    assertThat(peak(g3, "int8") / 1e12).isCloseTo(165.0, within(0.5));
    assertThat(g2.chip().power().limit().watts()).isEqualTo(1200.0);
    assertThat(g3.chip().power().limit().watts()).isEqualTo(1400.0);
    assertThat(g3.chip().hbm().capacity().bytes()).isEqualTo(284_208L << 20);
  }

  @Test
  void systemsAreOneNvlinkDomainWithTheirNetworkAndPrice() {
    record Sys(String name, int gpus, long linkBytesPerSecond, double networkGbps, double usdPerGpuHour) {}
    for (Sys s : new Sys[] {
        new Sys("h200-hgx8", 8, 450_000_000_000L, 400, 63.296 / 8),
        new Sys("b200-hgx8", 8, 900_000_000_000L, 400, 113.9328 / 8),
        new Sys("gb200-nvl72", 72, 900_000_000_000L, 400, 14.2425),
        new Sys("gb300-nvl72", 72, 900_000_000_000L, 800, 17.802)}) {
      HardwareSpec h = hw(s.name());
      assertThat(h.totalChips()).as(s.name()).isEqualTo(s.gpus());
      assertThat(h.system().topology().type()).as(s.name()).isEqualTo("switch");
      assertThat(h.system().topology().links().get(0).bandwidth().bytesPerSecond()).as(s.name()).isEqualTo(s.linkBytesPerSecond());
      assertThat(h.system().network().bandwidth().bytesPerSecond() * 8 / 1e9).as(s.name()).isCloseTo(s.networkGbps(), within(1e-6));
      assertThat(h.system().pricePerChipHourUsd()).as(s.name()).isCloseTo(s.usdPerGpuHour(), within(1e-9));
    }
  }
}
