package trnsim.core.energy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static trnsim.core.energy.EnergyFixtures.hw;

import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareSpec;

/** The H100 reference configs load and reproduce the datasheet arithmetic they document. */
class H100ConfigTest {
  @Test
  void h100LoadsWithDatasheetPeaks() {
    HardwareSpec h = hw("h100");
    var t = h.chip().core().tensor();
    assertThat(h.chip().cores()).isEqualTo(132);
    double fmaPerClockPerSm = t.rows() * t.cols();
    assertThat(fmaPerClockPerSm).isEqualTo(2048);
    // Datasheet dense bf16 989 TFLOP/s corresponds to ~1830 MHz; the config runs at the 1980 MHz maximum.
    assertThat(132 * fmaPerClockPerSm * 2 * 1.83e9 / 1e12).isCloseTo(989.4, within(0.1));
    double peakAtMax = 132 * fmaPerClockPerSm * 2 * t.clock().hertz();
    assertThat(peakAtMax / 1e12).isCloseTo(1070.5, within(0.1));
    assertThat(peakAtMax * t.dtypeRates().get("fp8") / 1e12).isCloseTo(2141.0, within(0.1));
    assertThat(peakAtMax * t.dtypeRates().get("fp32") / 1e12).isCloseTo(66.9, within(0.1));
    assertThat(h.chip().hbm().sustainedBytesPerSecond() / 1e12).isCloseTo(3.025, within(0.01));
    assertThat(h.chip().l2().bandwidth().bytesPerSecond()).isEqualTo(11_000_000_000_000L);
    assertThat(h.chip().power().limit().watts()).isEqualTo(700.0);
    assertThat(h.chip().power().idle().watts()).isEqualTo(118.0);
    assertThat(h.chip().core().sbuf().size().bytes()).isEqualTo(228L << 10);
  }

  @Test
  void hgx8IsEightGpusOnASwitch() {
    HardwareSpec h = hw("h100-hgx8");
    assertThat(h.totalChips()).isEqualTo(8);
    assertThat(h.system().topology().type()).isEqualTo("switch");
    assertThat(h.system().topology().links().get(0).bandwidth().bytesPerSecond()).isEqualTo(450_000_000_000L);
    assertThat(h.system().pricePerChipHourUsd()).isCloseTo(39.33 / 8, within(1e-12));
    assertThat(h.chip()).isEqualTo(hw("h100").chip());
  }
}
