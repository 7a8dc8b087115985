package trnsim.isa.lower;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The routed load of one expert-parallel rank against its closed forms. */
class MoeLoadTest {
  static final ModelShape.Moe MIXTRAL = new ModelShape.Moe(8, 2, 14336, 0, false, 0, false, false, null);
  static final ModelShape.Moe WIDE = new ModelShape.Moe(256, 8, 2048, 2048, false, 3, false, true, null);

  @Test
  void manyTokensUniformlyRoutedFillEveryExpertEvenly() {
    // 4096 tokens x top-2 over 8 experts: 1024 pairs per expert; ep=4: 2 experts per rank, 2048 pairs
    MoeLoad l = MoeLoad.of(MIXTRAL, 4096, 4, MoeLoad.Routing.UNIFORM);
    assertThat(l.localExperts()).isEqualTo(2);
    assertThat(l.activeExperts()).isEqualTo(2);
    assertThat(l.tokensPerExpert()).isEqualTo(1024);
    assertThat(l.pairs()).isEqualTo(4096L * 2 / 4);
  }

  @Test
  void decodeTouchesOnlyTheExpectedExperts() {
    // 8 tokens x top-8 over 256 experts: an expert stays idle with probability (1 - 8/256)^8 = 0.776
    MoeLoad l = MoeLoad.of(WIDE, 8, 1, MoeLoad.Routing.UNIFORM);
    double expected = 256 * (1 - Math.pow(1 - 8.0 / 256, 8));
    assertThat(l.activeExperts()).isEqualTo((long) Math.ceil(expected)); // 58
    assertThat(l.pairs()).isGreaterThanOrEqualTo(64); // every pair computed (rows rounded up per expert)
    assertThat(l.tokensPerExpert()).isEqualTo(2); // 64 pairs over 58 experts, rounded up
  }

  @Test
  void imbalanceScalesTheBusiestRankUpToEveryTokenOnEachLocalExpert() {
    MoeLoad even = MoeLoad.of(MIXTRAL, 4096, 4, MoeLoad.Routing.UNIFORM);
    MoeLoad skew = MoeLoad.of(MIXTRAL, 4096, 4, new MoeLoad.Routing(1.5, 0));
    assertThat(skew.pairs()).isEqualTo(even.pairs() * 3 / 2);
    // at most each of the group's tokens on both of the rank's experts
    MoeLoad capped = MoeLoad.of(MIXTRAL, 4096, 4, new MoeLoad.Routing(100, 0));
    assertThat(capped.pairs()).isEqualTo(4096L * 2);
  }

  @Test
  void capacityFactorPadsEveryLocalExpertToItsBuffer() {
    // capacity = ceil(1.25 x 4096 x 2 / 8) = 1280 tokens per expert, all 2 local experts run padded
    MoeLoad l = MoeLoad.of(MIXTRAL, 4096, 4, new MoeLoad.Routing(1, 1.25));
    assertThat(l.tokensPerExpert()).isEqualTo(1280);
    assertThat(l.activeExperts()).isEqualTo(2);
    assertThat(l.pairs()).isEqualTo(2560);
  }

  @Test
  void badRoutingIsRejected() {
    assertThatThrownBy(() -> new MoeLoad.Routing(0.5, 0)).hasMessageContaining("imbalance");
    assertThatThrownBy(() -> MoeLoad.of(MIXTRAL, 16, 3, MoeLoad.Routing.UNIFORM)).hasMessageContaining("ep must divide");
  }
}
