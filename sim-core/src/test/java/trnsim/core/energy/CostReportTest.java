package trnsim.core.energy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static trnsim.core.energy.EnergyFixtures.hw;

import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareSpec;

class CostReportTest {
  @Test
  void costScalesWithTimeTimesPrice() {
    HardwareSpec trn2 = hw("trn2-48xl");
    CostReport one = CostReport.of(trn2, 16, 3600);
    assertThat(one.pricePerChipHourUsd()).isCloseTo(35.76 / 16, within(1e-12));
    assertThat(one.costUsd()).isCloseTo(35.76, within(1e-9));
    assertThat(CostReport.of(trn2, 16, 7200).costUsd()).isCloseTo(2 * one.costUsd(), within(1e-9));
    HardwareSpec pricier = hw("trn2-48xl", "system.price_per_node_hour_usd=71.52");
    assertThat(CostReport.of(pricier, 16, 3600).costUsd()).isCloseTo(2 * one.costUsd(), within(1e-9));
    assertThat(CostReport.of(trn2, 1, 1.0).costUsd()).isCloseTo(35.76 / 16 / 3600, within(1e-15));
    assertThat(CostReport.ofSystem(trn2, 3600).chips()).isEqualTo(16);
  }

  @Test
  void perTokenAndPerStepHelpers() {
    CostReport step = CostReport.of(hw("trn2-48xl"), 16, 2.0);
    double usd = 16 * 2.0 * 35.76 / 16 / 3600;
    assertThat(step.costUsd()).isCloseTo(usd, within(1e-15));
    assertThat(step.usdPerMillionTokens(4_000_000)).isCloseTo(usd / 4, within(1e-15));
    assertThat(step.usdPerStep(2)).isCloseTo(usd / 2, within(1e-15));
    assertThat(step.usdForSteps(1000)).isCloseTo(usd * 1000, within(1e-12));
    assertThat(step.usdPerHour()).isCloseTo(35.76, within(1e-12));
    assertThatThrownBy(() -> step.usdPerMillionTokens(0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void unpricedConfigGivesNaNNotZero() {
    CostReport c = CostReport.of(hw("trn2"), 1, 10);
    assertThat(c.priced()).isFalse();
    assertThat(c.costUsd()).isNaN();
    assertThat(CostReport.of(hw("h100-hgx8"), 8, 3600).costUsd()).isCloseTo(39.33, within(1e-9));
  }
}
