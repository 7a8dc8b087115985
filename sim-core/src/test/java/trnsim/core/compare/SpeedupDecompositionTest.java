package trnsim.core.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SpeedupDecompositionTest {
  /**
   * Hand-made sides: baseline 64 chips at 100 units/s each, 10 s of which 4 s communication; target 144
   * chips at 200 units/s, 5 s of which 1 s communication; both do 38,400 units per step.
   * Utilisation: baseline 38400 / (10 x 64 x 100) = 0.6, target 38400 / (5 x 144 x 200) = 0.2667.
   * Productive-time efficiency: baseline 38400 / (6 x 6400) = 1.0, target 38400 / (4 x 28800) = 0.3333.
   * Communication: baseline grows 6 -> 10 (1.667x), target 4 -> 5 (1.25x): factor 1.3333.
   */
  @Test
  void closedFormOfTwoHandMadeSides() {
    var b = new SpeedupDecomposition.Side(10, 1, 64, 38400, "FLOP", 100, "b", Map.of("comm", 4.0));
    var t = new SpeedupDecomposition.Side(5, 1, 144, 38400, "FLOP", 200, "t", Map.of("comm", 1.0));
    var d = SpeedupDecomposition.of("per step", b, t);
    assertThat(d.speedup()).isEqualTo(2.0);
    assertThat(d.factors()).extracting(SpeedupDecomposition.Factor::name).containsExactly("chips", "per-chip peak", "utilisation");
    assertThat(d.factors().get(0).value()).isCloseTo(2.25, within(1e-12));
    assertThat(d.factors().get(1).value()).isCloseTo(2.0, within(1e-12));
    assertThat(d.factors().get(2).value()).isCloseTo((38400.0 / 28800 / 5) / 0.6, within(1e-12));
    assertThat(d.utilisationParts().get(0).value()).isCloseTo(1.0 / 3, within(1e-12));
    assertThat(d.utilisationParts().get(1).value()).isCloseTo((10.0 / 6) / (5.0 / 4), within(1e-12));
    assertThat(d.product()).isCloseTo(2.0, within(1e-12));
    assertThat(d.text()).isEqualTo("2.00x per step = 2.25x chips x 2.00x per-chip peak x 0.44x utilisation");
  }

  /** Different work per unit (say a larger batch per token-step) appears as its own factor, baseline/target. */
  @Test
  void workPerUnitIsAFactorWhenItDiffers() {
    Map<String, Double> none = new LinkedHashMap<>();
    var b = new SpeedupDecomposition.Side(2, 100, 1, 1000, "FLOP", 1000, "b", none);
    var t = new SpeedupDecomposition.Side(3, 300, 1, 6000, "FLOP", 1000, "t", none);
    var d = SpeedupDecomposition.of("per token", b, t);
    assertThat(d.speedup()).isCloseTo((2.0 / 100) / (3.0 / 300), within(1e-12));
    assertThat(d.factors().get(3).name()).isEqualTo("work per unit");
    assertThat(d.factors().get(3).value()).isCloseTo(10.0 / 20, within(1e-12));
    assertThat(d.product()).isCloseTo(d.speedup(), within(1e-12));
  }
}
