package trnsim.core.system;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import trnsim.core.energy.EnergyModel;
import trnsim.core.run.RunOptions;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * {@code llm-infer} on a {@link Domain.Mixed}: prefill and decode disaggregated onto two groups
 * ({@link Placement.Disaggregated}, as DistServe / Splitwise serve). The prefill group runs the
 * prompt pass of its batch and the decode group the token-generation steps, each exactly as
 * {@link LlmInference} runs that phase on a system of that group's chips (its own tensor
 * parallelism, replicas, KV capacity, energy table and price); each request's KV cache
 * ({@code layers x 2 x kv_heads x head_dim x prompt x dtype bytes}) crosses the domain's switch
 * from prefill chips to decode chips. The three run as a pipeline: requests per second are the
 * slowest of prefill, transfer and decode (the bottleneck); the others idle part of the time at
 * their static power. A request takes prefill + transfer + (output - 1) decode steps.
 */
final class MixedInference {
  private MixedInference() {}

  static final List<String> OWN_KEYS = List.of("prefill", "decode", "tp", "phase");

  static LlmResult infer(Domain.Mixed d, WorkloadSpec w, Function<String, ModelShape> models, Function<Domain.Group, EnergyModel> energy,
      RunOptions opts) {
    String src = w.source();
    Map<String, String> p = w.params();
    if (p.containsKey("phase") && !p.get("phase").equals("generate")) {
      throw new WorkloadException(src, "llm-infer.phase", p.get("phase"), "a mixed domain runs whole requests (phase=generate): prefill "
          + "on one group, decode on another");
    }
    if (!p.containsKey("prompt") || !p.containsKey("output")) {
      throw new WorkloadException(src, "llm-infer.prompt", p.getOrDefault("prompt", ""), "a disaggregated request needs prompt= and "
          + "output= (the KV cache of the prompt crosses to the decode group)");
    }
    List<String> names = d.names();
    Domain.Group pre = Placement.group(d, p.getOrDefault("prefill", names.get(0)), src, "llm-infer.prefill",
        p.getOrDefault("prefill", names.get(0)));
    String decodeDefault = names.get(names.get(0).equals(pre.name()) ? 1 : 0);
    Domain.Group dec = Placement.group(d, p.getOrDefault("decode", decodeDefault), src, "llm-infer.decode",
        p.getOrDefault("decode", decodeDefault));
    if (pre == dec) {
      throw new WorkloadException(src, "llm-infer.decode", dec.name(), "must be another group than prefill (" + pre.name() + ")");
    }
    Placement.Disaggregated place = new Placement.Disaggregated(pre, dec);
    Map<String, Integer> tps = Placement.perGroup(d, p.get("tp"), src, "llm-infer.tp");
    WorkloadSpec rest = MixedTraining.without(w, OWN_KEYS);
    if (!rest.has("model")) {
      throw new WorkloadException(src, "llm-infer.model", "", "missing required key");
    }
    ModelShape m = models.apply(rest.params().get("model"));
    if (m.attention().mla() != null) {
      throw new WorkloadException(src, "llm-infer.model", m.name(), "latent-attention KV transfer is not modelled on a mixed domain");
    }
    LlmResult rp = phase(place.prefill(), rest, "prefill", tps, models, energy, opts);
    LlmResult rd = phase(place.decode(), rest, "decode", tps, models, energy, opts);
    long prompt = rd.parallelism().get("prompt");
    long output = rd.parallelism().get("output");
    var dtype = rest.dtype("dtype", trnsim.isa.DType.BF16);
    double kv = kvBytesPerRequest(m, prompt, dtype.bits() / 8.0);
    double reqPerPrefill = rp.tokens() / prompt;
    Collectives.Result x = transfer(d, place, rp.chips(), rd.chips(), kv * reqPerPrefill);
    return compose(d, place, w, m, rp, rd, x, kv, reqPerPrefill, output, energy);
  }

  /** KV cache bytes of one request after its prompt: every layer's keys and values of every prompt position. */
  static double kvBytesPerRequest(ModelShape m, long prompt, double dtypeBytes) {
    return (double) m.layers() * 2 * m.kvHeads() * m.headDim() * prompt * dtypeBytes;
  }

  private static LlmResult phase(Domain.Group g, WorkloadSpec rest, String phase, Map<String, Integer> tps,
      Function<String, ModelShape> models, Function<Domain.Group, EnergyModel> energy, RunOptions opts) {
    String text = rest.toString() + ",phase=" + phase + (tps.get(g.name()) != null ? ",tp=" + tps.get(g.name()) : "");
    return LlmInference.infer(g.hw(), WorkloadSpec.parse(text, rest.source()), models, energy.apply(g), opts);
  }

  /**
   * One prefill batch's KV caches from the prefill group's chips to the decode group's, over as
   * many chip pairs as the smaller side has chips, with the prefill chips' collective runtime.
   */
  private static Collectives.Result transfer(Domain.Mixed d, Placement.Disaggregated place, int chipsP, int chipsD, double bytes) {
    int pairs = Math.max(1, Math.min(chipsP, chipsD));
    int at = d.firstChip(place.prefill());
    int bt = d.firstChip(place.decode());
    List<List<Integer>> flows = new ArrayList<>();
    for (int k = 0; k < pairs; k++) {
      flows.add(List.of(at + k, bt + k));
    }
    var hw = place.prefill().hw();
    Fabric domain = new Fabric(d.hw().system(), 1, 1, Double.POSITIVE_INFINITY,
        CollectiveCosts.of(hw, new RankLayout(hw.chip().cores(), hw.chip().cores())));
    return Collectives.run(domain, Collectives.Op.SEND_RECV, flows, bytes / pairs, Collectives.Algo.AUTO);
  }

  private static LlmResult compose(Domain.Mixed d, Placement.Disaggregated place, WorkloadSpec w, ModelShape m, LlmResult rp,
      LlmResult rd, Collectives.Result x, double kv, double reqPerPrefill, long output, Function<Domain.Group, EnergyModel> energy) {
    double tp = rp.seconds();
    double tx = x.seconds();
    double tpot = rd.seconds();
    double reqPerDecode = rd.tokens();
    double rateP = reqPerPrefill / tp;
    double rateX = reqPerPrefill / tx;
    double rateD = reqPerDecode / ((output - 1) * tpot);
    double rate = Math.min(rateP, Math.min(rateX, rateD));
    String bottleneck = rate == rateP ? "prefill on group " + place.prefill().name() : rate == rateD ? "decode on group "
        + place.decode().name() : "KV transfer over the switch";
    double request = tp + tx + (output - 1) * tpot;
    double tokens = rate * output * request;
    double[] joules = new double[2];
    double[] usd = new double[2];
    LlmResult[] r = {rp, rd};
    double[] rates = {rateP, rateD};
    Domain.Group[] g = {place.prefill(), place.decode()};
    for (int i = 0; i < 2; i++) {
      EnergyModel e = energy.apply(g[i]);
      double u = rate / rates[i];
      double active = r[i].energyJoules() / r[i].seconds();
      joules[i] = e == null ? Double.NaN : (u * active + (1 - u) * e.staticPowerW() * r[i].chips()) * request;
      usd[i] = request * r[i].chips() * g[i].hw().system().pricePerChipHourUsd() / 3600;
    }
    double peak = rp.chips() * LlmSystem.peak(g[0].hw(), trnsim.isa.DType.BF16) + rd.chips() * LlmSystem.peak(g[1].hw(), trnsim.isa.DType.BF16);
    double flopsPerSecond = rate / rateP * rp.modelFlops() / tp + rate / rateD * rd.modelFlops() / tpot;
    Map<String, Double> breakdown = new LinkedHashMap<>();
    // as llm-infer's generate: the prompt pass whole, then the decode steps by part (here after the KV transfer)
    breakdown.put("prefill", tp);
    breakdown.put("kv_transfer", tx);
    for (var e : rd.breakdown().entrySet()) {
      breakdown.merge(e.getKey(), (output - 1) * e.getValue(), Double::sum);
    }
    Map<String, Integer> par = new LinkedHashMap<>(rd.parallelism());
    par.put("tp_" + g[0].name(), rp.parallelism().get("tp"));
    par.put("tp_" + g[1].name(), rd.parallelism().get("tp"));
    List<LlmResult.GroupPart> parts = List.of(
        new LlmResult.GroupPart(g[0].name(), g[0].hw().name(), g[0].hw().isProjection(), "prefill", rp.chips(), rp.parallelism().get("tp"),
            tp, joules[0], usd[0]),
        new LlmResult.GroupPart(g[1].name(), g[1].hw().name(), g[1].hw().isProjection(), "decode", rd.chips(), rd.parallelism().get("tp"),
            tpot, joules[1], usd[1]));
    List<LlmResult.Transfer> transfers = List.of(new LlmResult.Transfer(String.format(Locale.ROOT,
        "KV cache %s -> %s per prefill batch (%.0f requests x %.2f MiB)", g[0].name(), g[1].name(), reqPerPrefill, kv / (1 << 20)),
        x.bytes() * x.groups(), tx, 1));
    List<String> coll = new ArrayList<>();
    coll.add(LlmSystem.describe("KV cache transfer prefill -> decode on the domain's switch", x, 1));
    for (String c : rp.collectives()) {
      coll.add("group " + g[0].name() + " (prefill): " + c);
    }
    for (String c : rd.collectives()) {
      coll.add("group " + g[1].name() + " (decode): " + c);
    }
    List<String> notes = new ArrayList<>();
    notes.add(String.format(Locale.ROOT, "disaggregated on %s: prefill on %s (%d x %s, %.1f requests/s), decode on %s (%d x %s, "
        + "%.1f requests/s), KV transfer %.1f requests/s; bottleneck %s", d.hw().name(), g[0].name(), rp.chips(), g[0].hw().name(), rateP,
        g[1].name(), rd.chips(), g[1].hw().name(), rateD, rateX, bottleneck));
    notes.add(String.format(Locale.ROOT, "a request: prefill %s + KV transfer %s + %d decode steps of %s; time to first token %s",
        LlmSystem.seconds(tp), LlmSystem.seconds(tx), output - 1, LlmSystem.seconds(tpot), LlmSystem.seconds(tp + tx)));
    notes.add("each group at its full clock (the power limiter is not applied on a mixed domain); a group idles at its static power "
        + "for the share of time the bottleneck leaves it");
    if (d.projection()) {
      List<String> proj = new ArrayList<>();
      for (Domain.Group x1 : g) {
        if (x1.hw().isProjection()) {
          proj.add("group " + x1.name() + " (" + x1.hw().name() + ")");
        }
      }
      notes.add("PROJECTION: uses " + (proj.isEmpty() ? d.hw().name() : String.join(", ", proj)) + " (projected from announcements, not sourced)");
    }
    return new LlmResult(d.hw().name(), w.toString(), "generate", par, rd.defaulted(), rp.chips() + rd.chips(), request, tokens, breakdown,
        rd.memoryBytes(), flopsPerSecond / peak, flopsPerSecond * request, joules[0] + joules[1], usd[0] + usd[1], rd.layer(), coll, notes,
        new LlmResult.MixedParts(parts, transfers, bottleneck));
  }
}
