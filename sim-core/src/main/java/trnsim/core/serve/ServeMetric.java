package trnsim.core.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The figures a serving claim can be stated in, each of one side's {@link ServeOutcome}. A claim of
 * the target alone uses the metric's name; a claim of a target against a baseline uses
 * {@code NAME_ratio}, always target / baseline (so a ratio above 1 means "more" of the figure on the
 * target, better for throughputs and goodputs, worse for latencies and costs).
 */
public enum ServeMetric {
  OUTPUT_TOKENS_PER_S("output tokens per second over the span", true, o -> o.summary().outputTokensPerS()),
  OUTPUT_TOKENS_PER_S_PER_CHIP("output tokens per second per chip serving", true, o -> o.summary().outputTokensPerS() / o.chipsServing()),
  REQUESTS_PER_S("completed requests per second", true, o -> o.summary().requestsPerS()),
  GOODPUT_PER_S("requests meeting both SLOs per second", true, o -> o.summary().goodputPerS()),
  GOODPUT_PER_S_PER_CHIP("requests meeting both SLOs per second per chip serving", true, o -> o.summary().goodputPerS() / o.chipsServing()),
  GOODPUT_PER_USD("requests meeting both SLOs per USD of the serving chips' time", true, o -> o.summary().goodputPerS() * 3600 / o.servingUsdPerHour()),
  SLO_MET("share of requests meeting both SLOs", true, o -> o.summary().sloMet()),
  COST_PER_MILLION_TOKENS_USD("USD of the serving chips' time per million output tokens", false, o -> o.summary().costPerMillionTokensUsd()),
  COST_PER_MILLION_GOOD_TOKENS_USD("USD of the serving chips' time per million output tokens of requests meeting both SLOs", false,
      o -> o.summary().costPerMillionGoodTokensUsd()),
  ENERGY_PER_TOKEN_J("joules per output token", false, o -> o.summary().joulesPerToken()),
  TTFT_P50_S("time to first token, median", false, o -> o.summary().ttftS()[0]),
  TTFT_P90_S("time to first token, p90", false, o -> o.summary().ttftS()[1]),
  TTFT_P99_S("time to first token, p99", false, o -> o.summary().ttftS()[2]),
  TPOT_P50_S("time per output token, median", false, o -> o.summary().tpotS()[0]),
  TPOT_P90_S("time per output token, p90", false, o -> o.summary().tpotS()[1]),
  TPOT_P99_S("time per output token, p99", false, o -> o.summary().tpotS()[2]),
  LATENCY_P50_S("arrival to last token, median", false, o -> o.summary().latencyS()[0]),
  LATENCY_P90_S("arrival to last token, p90", false, o -> o.summary().latencyS()[1]),
  LATENCY_P99_S("arrival to last token, p99", false, o -> o.summary().latencyS()[2]),
  MAX_RATE_PER_S("highest swept rate meeting the SLOs (needs sweep=R1:R2:N)", true,
      o -> o.sweep() == null ? Double.NaN : o.sweep().maxRatePerS()),
  MAX_RATE_PER_S_PER_CHIP("highest swept rate meeting the SLOs per chip serving (needs sweep=)", true,
      o -> o.sweep() == null ? Double.NaN : o.sweep().maxRatePerS() / o.chipsServing()),
  MAX_RATE_PER_USD("highest swept rate meeting the SLOs per USD per second of the serving chips' time (needs sweep=)", true,
      o -> o.sweep() == null ? Double.NaN : o.sweep().maxRatePerS() * 3600 / o.servingUsdPerHour());

  /** Suffix of a metric's target / baseline form. */
  public static final String RATIO = "_ratio";

  private final String meaning;
  private final boolean higherIsBetter;
  private final ToDoubleFunction<ServeOutcome> value;

  ServeMetric(String meaning, boolean higherIsBetter, ToDoubleFunction<ServeOutcome> value) {
    this.meaning = meaning;
    this.higherIsBetter = higherIsBetter;
    this.value = value;
  }

  /** The name in reports and claims files. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  public String meaning() {
    return meaning;
  }

  public boolean higherIsBetter() {
    return higherIsBetter;
  }

  public boolean needsSweep() {
    return name().startsWith("MAX_RATE");
  }

  public double of(ServeOutcome o) {
    return value.applyAsDouble(o);
  }

  /** Target / baseline. */
  public double ratio(ServeOutcome baseline, ServeOutcome target) {
    return of(target) / of(baseline);
  }

  /** The metric named {@code key} (without the ratio suffix), or null. */
  public static ServeMetric byKey(String key) {
    for (ServeMetric m : values()) {
      if (m.key().equals(key)) {
        return m;
      }
    }
    return null;
  }

  /** Every metric's name. */
  public static List<String> keys() {
    List<String> out = new ArrayList<>();
    for (ServeMetric m : values()) {
      out.add(m.key());
    }
    return out;
  }
}
