package trnsim.core.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/** The serve: workload spec: its keys, its defaults, its refusals, and the metrics claims read from a run. */
class ServeWorkloadTest {
  static ServeWorkload parse(String s) {
    return ServeWorkload.parse(WorkloadSpec.parse(s, "test"));
  }

  @Test
  void everyKeyIsRead() {
    ServeWorkload w = parse("serve:model=llama3-70b,tp=8,replicas=2,rate=4/s,arrival=fixed,prompt=lognormal:median=512;sigma=0.6;max=4096,"
        + "output=uniform:16:64,requests=300,seed=7,slo_ttft=1s,slo_tpot=40ms,scheduler=sarathi,max_batch=32,chunk=256,"
        + "dispatch=least-loaded,weights=fp8,draft=llama3.2-1b,draft_k=3,accept=0.6,sweep=1:9:5");
    assertThat(w.model()).isEqualTo("llama3-70b");
    assertThat(w.tp()).isEqualTo(8);
    assertThat(w.replicas()).isEqualTo(2);
    assertThat(w.ratePerS()).isEqualTo(4.0);
    assertThat(w.fixedArrivals()).isTrue();
    assertThat(w.prompt()).isEqualTo(new LengthDist.LogNormal(512, 0.6, 4096));
    assertThat(w.output()).isEqualTo(new LengthDist.Uniform(16, 64));
    assertThat(w.requests()).isEqualTo(300);
    assertThat(w.seed()).isEqualTo(7);
    assertThat(w.sloTtftS()).isEqualTo(1.0);
    assertThat(w.sloTpotS()).isCloseTo(0.040, within(1e-15));
    assertThat(w.scheduler()).isEqualTo(ServeConfig.Scheduler.SARATHI);
    assertThat(w.maxBatch()).isEqualTo(32);
    assertThat(w.chunk()).isEqualTo(256);
    assertThat(w.dispatch()).isEqualTo(ServeConfig.Dispatch.LEAST_LOADED);
    assertThat(w.speculative()).isEqualTo(new ServeConfig.Speculative("llama3.2-1b", 3, 0.6));
    assertThat(w.sweepRates()).containsExactly(1.0, 3.0, 5.0, 7.0, 9.0);
    assertThat(w.maxSeq()).isEqualTo(4096 + 64);
  }

  /** Defaults are trnsim serve's, except 200 requests; the same rate and seed give the same requests. */
  @Test
  void defaultsAndSeededRequests() {
    ServeWorkload w = parse("serve:model=llama3-8b");
    assertThat(w.tp()).isNull();
    assertThat(w.replicas()).isNull();
    assertThat(w.requests()).isEqualTo(200);
    assertThat(w.prompt()).isEqualTo(new LengthDist.Fixed(512));
    assertThat(w.output()).isEqualTo(new LengthDist.Fixed(128));
    assertThat(w.sloTtftS()).isEqualTo(2.0);
    assertThat(w.sloTpotS()).isCloseTo(0.050, within(1e-15));
    assertThat(w.scheduler()).isEqualTo(ServeConfig.Scheduler.VLLM);
    assertThat(w.speculative()).isNull();
    assertThat(w.sweepRates()).isNull();
    assertThat(w.requests(3)).isEqualTo(w.requests(3)).hasSize(200);
    // a higher rate with the same seed: the same requests compressed in time
    List<Request> a = w.requests(1);
    List<Request> b = w.requests(2);
    assertThat(b.get(199).arrivalS()).isCloseTo(a.get(199).arrivalS() / 2, within(1e-9));
  }

  @Test
  void badKeysAndValuesNameTheKey() {
    String[][] cases = {
        {"serve:model=m,rat=4", "serve:model=m,rat=4", "unknown key"},
        {"serve:model=m,prompt=lognormal:median=512", "serve.prompt", "needs median= and sigma="},
        {"serve:model=m,slo_ttft=2", "serve.slo_ttft", ""},
        {"serve:model=m,rate=0", "serve.rate", "above 0"},
        {"serve:model=m,scheduler=orca", "serve.scheduler", "vllm, sarathi"},
        {"serve:model=m,sweep=4:2:3", "serve.sweep", "R1 < R2"},
        {"serve:model=m,draft_k=4", "serve.draft", "draft model"},
        {"serve:model=m,requests=2000000", "serve.requests", "from 1 to"},
        {"serve:rate=4", "serve.model", "missing"},
    };
    for (String[] c : cases) {
      assertThatThrownBy(() -> parse(c[0])).as(c[0]).isInstanceOf(WorkloadException.class).hasMessageContaining(c[2])
          .satisfies(e -> assertThat(e.getMessage()).contains(c[0].equals(c[1]) ? "rat" : c[1]));
    }
  }

  /** The metrics of a hand-made outcome, each from its definition. */
  @Test
  void metricsFollowTheirDefinitions() {
    // 10 requests over 5 s, 8 meeting the SLOs with 100 tokens each, 2 missing with 50: 900 tokens
    ServeSummary s = new ServeSummary(10, 5, new double[] {0.1, 0.2, 0.3}, new double[] {0.01, 0.02, 0.03}, new double[] {1, 2, 3},
        900 / 5.0, 2, 8 / 5.0, 0.8, 0.1, 0.2, 3, 7.2 * 5 / 3600 / 900 * 1e6, 7.2 * 5 / 3600 / 800 * 1e6, 0.5);
    ServeOutcome o = new ServeOutcome("hw", "plan", 2, 7.2, s, new ServePlan.Sweep(List.of(), 6, false), 3);
    assertThat(ServeMetric.GOODPUT_PER_S_PER_CHIP.of(o)).isCloseTo(0.8, within(1e-12));
    // 1.6 good requests per second at 7.2 USD per hour = 0.002 USD per second: 800 per USD
    assertThat(ServeMetric.GOODPUT_PER_USD.of(o)).isCloseTo(800, within(1e-9));
    assertThat(ServeMetric.MAX_RATE_PER_USD.of(o)).isCloseTo(3000, within(1e-9));
    assertThat(ServeMetric.MAX_RATE_PER_S_PER_CHIP.of(o)).isCloseTo(3, within(1e-12));
    assertThat(ServeMetric.OUTPUT_TOKENS_PER_S_PER_CHIP.of(o)).isCloseTo(90, within(1e-12));
    assertThat(ServeMetric.TTFT_P99_S.of(o)).isEqualTo(0.3);
    ServeOutcome cheaper = new ServeOutcome("hw2", "plan", 2, 3.6, s, null, 3);
    assertThat(ServeMetric.GOODPUT_PER_USD.ratio(o, cheaper)).isCloseTo(2, within(1e-12));
    assertThat(ServeMetric.MAX_RATE_PER_S.of(cheaper)).isNaN();
    assertThat(ServeMetric.byKey("cost_per_million_good_tokens_usd")).isEqualTo(ServeMetric.COST_PER_MILLION_GOOD_TOKENS_USD);
    assertThat(ServeMetric.keys()).hasSize(ServeMetric.values().length).doesNotHaveDuplicates();
  }
}
