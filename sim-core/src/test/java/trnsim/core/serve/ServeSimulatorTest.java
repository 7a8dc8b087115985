package trnsim.core.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.core.trace.TraceSink;

/**
 * The serving loop against hand-worked schedules: injected iteration costs (10 ms per decode step,
 * 1 ms per prefilled token), so every TTFT and TPOT below is worked out on paper in the comments.
 */
class ServeSimulatorTest {
  /** A decode step costs 10 ms whatever its batch; each prefilled token 1 ms. */
  static final IterationCosts TOY = new IterationCosts() {
    @Override
    public Cost cost(Iteration it) {
      double s = it.decodes() > 0 ? 0.010 : 0;
      for (Iteration.Chunk c : it.chunks()) {
        s += 0.001 * c.tokens();
      }
      return new Cost(s, 100 * s);
    }

    @Override
    public double idlePowerW() {
      return 10;
    }
  };

  static final List<Request> TWO = List.of(new Request(0, 0.0, 100, 3), new Request(1, 0.05, 50, 2));

  static ServeConfig config(ServeConfig.Scheduler s, long budget, long kvTokens) {
    return new ServeConfig(s, 8, budget, 1, ServeConfig.Dispatch.ROUND_ROBIN, kvTokens, null, 1);
  }

  /**
   * vLLM: t=0 prefill R0 (100 ms) -> first token 0.100; R1 (arrived 0.05) prefills 0.100..0.150 while
   * R0's decode stalls; both decode 0.150..0.160 (R1 done); R0 decodes 0.160..0.170 (done).
   * R0: TTFT 0.100, TPOT (0.170 - 0.100) / 2 = 0.035; R1: TTFT 0.100, TPOT 0.010.
   */
  @Test
  void vllmPrefillsFirstAndStallsDecodes() {
    ServeResult r = ServeSimulator.run(TWO, config(ServeConfig.Scheduler.VLLM, 4096, 1 << 20), TOY, TraceSink.NONE);
    var r0 = r.requests().get(0);
    var r1 = r.requests().get(1);
    assertThat(r0.ttftS()).isCloseTo(0.100, within(1e-12));
    assertThat(r0.tpotS()).isCloseTo(0.035, within(1e-12));
    assertThat(r0.latencyS()).isCloseTo(0.170, within(1e-12));
    assertThat(r1.ttftS()).isCloseTo(0.100, within(1e-12));
    assertThat(r1.tpotS()).isCloseTo(0.010, within(1e-12));
    assertThat(r1.finishS()).isCloseTo(0.160, within(1e-12));
    assertThat(r.iterations()).isEqualTo(4);
    assertThat(r.busySeconds()).isCloseTo(0.170, within(1e-12));
    // sequences x seconds: 1 x 0.1 + 1 x 0.05 + 2 x 0.01 + 1 x 0.01
    assertThat(r.meanBatch()).isCloseTo(0.18 / 0.17, within(1e-12));
    assertThat(r.preemptions()).isZero();
  }

  /**
   * Sarathi, 64-token budget: R0 chunk 64 (0..0.064); R0's last 36 + R1's first 28 (0.064..0.128,
   * R0's first token); R0 decodes + R1's last 22 (0.128..0.160, R1's first token); both decode
   * (0.160..0.170, both done). R0: TTFT 0.128, TPOT 0.021; R1: TTFT 0.110, TPOT 0.010.
   */
  @Test
  void sarathiChunksPromptsAndKeepsDecoding() {
    ServeResult r = ServeSimulator.run(TWO, config(ServeConfig.Scheduler.SARATHI, 64, 1 << 20), TOY, TraceSink.NONE);
    var r0 = r.requests().get(0);
    var r1 = r.requests().get(1);
    assertThat(r0.ttftS()).isCloseTo(0.128, within(1e-12));
    assertThat(r0.tpotS()).isCloseTo(0.021, within(1e-12));
    assertThat(r1.ttftS()).isCloseTo(0.110, within(1e-12));
    assertThat(r1.tpotS()).isCloseTo(0.010, within(1e-12));
    assertThat(r1.finishS()).isCloseTo(0.170, within(1e-12));
    assertThat(r.iterations()).isEqualTo(4);
    assertThat(r.prefillTokens()).isEqualTo(150);
  }

  /**
   * Three 16-token blocks of KV: R0 and R1 (16-token prompts, 18 outputs, 34 positions each at the end)
   * cannot both grow past one block, so R1 is preempted, recomputed later, and both still finish with
   * every output token; R0, never preempted, decodes without a stall after R1 leaves.
   */
  @Test
  void preemptionRecomputesAndEveryRequestFinishes() {
    List<Request> two = List.of(new Request(0, 0, 16, 18), new Request(1, 0, 16, 18));
    ServeResult r = ServeSimulator.run(two, config(ServeConfig.Scheduler.VLLM, 4096, 48), TOY, TraceSink.NONE);
    assertThat(r.preemptions()).isPositive();
    assertThat(r.requests()).hasSize(2);
    assertThat(r.requests().get(1).preemptions()).isPositive();
    assertThat(r.requests().get(0).preemptions()).isZero();
    assertThat(r.maxKvTokens()).isLessThanOrEqualTo(48);
    // recomputation prefills more than the two prompts
    assertThat(r.prefillTokens()).isGreaterThan(32);
    assertThat(r.requests().get(1).finishS()).isGreaterThan(r.requests().get(0).finishS());
  }

  /**
   * Two replicas, round robin, requests far apart: each request is alone, so its TTFT is its prefill
   * (prompt x 1 ms) and its TPOT one decode step, whatever the replica.
   */
  @Test
  void isolatedRequestsSeeBareIterationTimes() {
    List<Request> reqs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      reqs.add(new Request(i, 10.0 * i, 40 + 10 * i, 5));
    }
    var cfg = new ServeConfig(ServeConfig.Scheduler.VLLM, 8, 4096, 2, ServeConfig.Dispatch.ROUND_ROBIN, 1 << 20, null, 1);
    ServeResult r = ServeSimulator.run(reqs, cfg, TOY, TraceSink.NONE);
    for (var o : r.requests()) {
      assertThat(o.ttftS()).isCloseTo(0.001 * o.request().promptTokens(), within(1e-9));
      assertThat(o.tpotS()).isCloseTo(0.010, within(1e-9));
      assertThat(o.replica()).isEqualTo(o.request().id() % 2);
    }
  }

  /**
   * Speculation with acceptance 1: every step yields k + 1 tokens, so a 9-token output takes the prompt
   * pass (1 token) and two steps of 4 tokens: TPOT = 2 x 10 ms / 8 tokens.
   */
  @Test
  void speculativeStepsYieldKPlusOneTokensAtFullAcceptance() {
    var cfg = new ServeConfig(ServeConfig.Scheduler.VLLM, 8, 4096, 1, ServeConfig.Dispatch.ROUND_ROBIN, 1 << 20,
        new ServeConfig.Speculative("d", 3, 1.0), 1);
    ServeResult r = ServeSimulator.run(List.of(new Request(0, 0, 20, 9)), cfg, TOY, TraceSink.NONE);
    assertThat(r.requests().get(0).tpotS()).isCloseTo(0.020 / 8, within(1e-12));
    assertThat(r.iterations()).isEqualTo(3);
    assertThat(new ServeConfig.Speculative("d", 3, 0.5).expectedTokensPerStep()).isCloseTo(1.875, within(1e-12));
  }

  /** The sampled acceptance converges on (1 - p^(k+1)) / (1 - p) tokens per step. */
  @Test
  void sampledAcceptanceMatchesTheClosedForm() {
    var sp = new ServeConfig.Speculative("d", 4, 0.7);
    var cfg = new ServeConfig(ServeConfig.Scheduler.VLLM, 8, 4096, 1, ServeConfig.Dispatch.ROUND_ROBIN, 1 << 20, sp, 7);
    ServeResult r = ServeSimulator.run(List.of(new Request(0, 0, 10, 20001)), cfg, TOY, TraceSink.NONE);
    double steps = r.iterations() - 1;
    assertThat(20000 / steps).isCloseTo(sp.expectedTokensPerStep(), within(0.03));
  }

  @Test
  void percentileIsNearestRank() {
    double[] v = {5, 1, 4, 2, 3, Double.NaN};
    assertThat(ServeResult.percentile(v, 50)).isEqualTo(3);
    assertThat(ServeResult.percentile(v, 90)).isEqualTo(5);
    assertThat(ServeResult.percentile(v, 20)).isEqualTo(1);
  }

  @Test
  void summaryCountsGoodputAgainstBothSlos() {
    ServeResult r = ServeSimulator.run(TWO, config(ServeConfig.Scheduler.VLLM, 4096, 1 << 20), TOY, TraceSink.NONE);
    // R0 TPOT 0.035 misses a 20 ms TPOT objective; R1 meets both
    ServeSummary s = ServeSummary.of(r, 0.2, 0.020, 3600, 10);
    assertThat(s.sloMet()).isEqualTo(0.5);
    assertThat(s.goodputPerS()).isCloseTo(1 / 0.170, within(1e-9));
    // 5 output tokens over 0.17 s at 1 USD per second
    assertThat(s.costPerMillionTokensUsd()).isCloseTo(0.170 / 5 * 1e6, within(1e-6));
    // iteration energy 100 J/s x 0.17 s, no idle time on the one replica
    assertThat(s.joulesPerToken()).isCloseTo(17.0 / 5, within(1e-9));
  }
}
