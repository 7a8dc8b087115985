package trnsim.core.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.unit.TimeSpan;
import trnsim.core.config.unit.UnitException;
import trnsim.core.energy.EnergyModel;
import trnsim.core.trace.TraceSink;
import trnsim.isa.DType;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * A serving run written as a workload spec, so that {@code compare} and claims files can state it:
 * {@code serve:model=llama3-70b,tp=8,rate=4,prompt=512,output=128,requests=200,seed=1,slo_ttft=2s,slo_tpot=50ms}.
 * The keys are {@code trnsim serve}'s options; a length distribution's own commas are written as
 * semicolons ({@code prompt=lognormal:median=512;sigma=0.6}); {@code sweep=R1:R2:N} adds a rate sweep
 * (the highest rate meeting the SLOs).
 *
 * @param tp tensor-parallel degree, or null for the smallest that fits
 * @param replicas replicas, or null for as many as the system holds
 * @param lnc physical cores per rank, or null for the chip's
 * @param fixedArrivals evenly spaced arrivals instead of Poisson
 * @param chunk token budget per iteration, or null for the scheduler's default
 * @param speculative speculative decoding, or null
 * @param sweepRates rates of a sweep, or null
 */
public record ServeWorkload(String model, Integer tp, Integer replicas, Integer lnc, DType weights, double ratePerS, boolean fixedArrivals,
    LengthDist prompt, LengthDist output, int requests, long seed, double sloTtftS, double sloTpotS, ServeConfig.Scheduler scheduler,
    int maxBatch, Integer chunk, ServeConfig.Dispatch dispatch, ServeConfig.Speculative speculative, List<Double> sweepRates) {

  /** The workload kind. */
  public static final String KIND = "serve";

  /** Most requests one serving workload may simulate. */
  public static final int MAX_REQUESTS = 1_000_000;

  /** Bisections of the gap above the highest passing sweep rate (as {@code trnsim serve --sweep-rate}). */
  public static final int SWEEP_BISECTIONS = 6;

  public ServeWorkload {
    sweepRates = sweepRates == null ? null : List.copyOf(sweepRates);
  }

  public static boolean handles(String kind) {
    return KIND.equals(kind);
  }

  /** Parses and checks every key (unknown keys are refused, naming the known ones). */
  public static ServeWorkload parse(WorkloadSpec w) {
    String model = w.string("model", null);
    Integer tp = count(w, "tp", 1 << 20);
    Integer replicas = count(w, "replicas", 1 << 20);
    Integer lnc = count(w, "lnc", 1 << 20);
    String wt = w.choice("weights", "bf16", "bf16", "fp16", "fp8", "int8");
    double rate = rate(w, "rate", w.string("rate", "1"));
    boolean fixed = w.choice("arrival", "poisson", "poisson", "fixed").equals("fixed");
    LengthDist prompt = dist(w, "prompt", "512");
    LengthDist output = dist(w, "output", "128");
    Integer n = count(w, "requests", MAX_REQUESTS);
    long seed = w.positive("seed", 1L);
    double ttft = duration(w, "slo_ttft", "2s");
    double tpot = duration(w, "slo_tpot", "50ms");
    ServeConfig.Scheduler sch = ServeConfig.Scheduler.valueOf(w.choice("scheduler", "vllm", "vllm", "sarathi").toUpperCase(Locale.ROOT));
    Integer maxBatch = count(w, "max_batch", 4096);
    Integer chunk = count(w, "chunk", 1 << 20);
    ServeConfig.Dispatch disp = ServeConfig.Dispatch.valueOf(
        w.choice("dispatch", "round-robin", "round-robin", "least-loaded").replace('-', '_').toUpperCase(Locale.ROOT));
    ServeConfig.Speculative spec = speculative(w);
    List<Double> sweep = w.has("sweep") ? sweep(w, w.string("sweep", null)) : null;
    w.finish();
    return new ServeWorkload(model, tp, replicas, lnc, DType.parse(wt), rate, fixed, prompt, output, n == null ? 200 : n, seed, ttft, tpot,
        sch, maxBatch == null ? 64 : maxBatch, chunk, disp, spec, sweep);
  }

  private static WorkloadException bad(WorkloadSpec w, String key, String value, String reason) {
    return new WorkloadException(w.source(), KIND + "." + key, value, reason);
  }

  private static Integer count(WorkloadSpec w, String key, int max) {
    if (!w.has(key)) {
      w.string(key, ""); // marks it known
      return null;
    }
    long v = w.positive(key, null);
    if (v > max) {
      throw bad(w, key, String.valueOf(v), "must be from 1 to " + max);
    }
    return (int) v;
  }

  private static double rate(WorkloadSpec w, String key, String text) {
    String t = text.trim().replaceFirst("(?i)/s$", "");
    try {
      double r = Double.parseDouble(t);
      if (r > 0 && r <= 1e7) {
        return r;
      }
    } catch (NumberFormatException e) {
      // the message below
    }
    throw bad(w, key, text, "expected requests per second above 0 and at most 1e7, e.g. 8 or 8/s");
  }

  private static LengthDist dist(WorkloadSpec w, String key, String dflt) {
    String v = w.string(key, dflt);
    try {
      return LengthDist.parse(v.replace(';', ','));
    } catch (IllegalArgumentException e) {
      throw bad(w, key, v, e.getMessage() + " (inside a workload spec separate a distribution's parameters with ';')");
    }
  }

  private static double duration(WorkloadSpec w, String key, String dflt) {
    String v = w.string(key, dflt);
    try {
      double s = TimeSpan.parse(v.trim()).seconds();
      if (s > 0) {
        return s;
      }
    } catch (UnitException e) {
      throw bad(w, key, v, e.getMessage());
    }
    throw bad(w, key, v, "must be positive");
  }

  private static ServeConfig.Speculative speculative(WorkloadSpec w) {
    String draft = w.string("draft", "");
    boolean any = w.has("draft") || w.has("draft_k") || w.has("accept");
    long k = w.positive("draft_k", 4L);
    double accept = w.has("accept") ? w.number("accept", 0.7) : 0.7;
    if (!any) {
      return null;
    }
    if (draft.isEmpty()) {
      throw bad(w, "draft", null, "draft_k and accept need a draft model (draft=NAME)");
    }
    if (k > 16) {
      throw bad(w, "draft_k", String.valueOf(k), "must be from 1 to 16");
    }
    if (accept > 1) {
      throw bad(w, "accept", String.valueOf(accept), "must be a probability from 0 to 1");
    }
    return new ServeConfig.Speculative(draft, (int) k, accept);
  }

  private static List<Double> sweep(WorkloadSpec w, String text) {
    String[] p = text.split(":");
    if (p.length != 3) {
      throw bad(w, "sweep", text, "expected R1:R2:N such as 1:32:8");
    }
    double a = rate(w, "sweep", p[0]);
    double b = rate(w, "sweep", p[1]);
    int n;
    try {
      n = Integer.parseInt(p[2].trim());
    } catch (NumberFormatException e) {
      throw bad(w, "sweep", text, "N '" + p[2].trim() + "' is not a whole number");
    }
    if (n < 2 || n > 64 || b <= a) {
      throw bad(w, "sweep", text, "needs R1 < R2 and N from 2 to 64");
    }
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(a + (b - a) * i / (n - 1));
    }
    return out;
  }

  /** The requests arriving at {@code ratePerS} (seeded: the same rate and seed give the same requests). */
  public List<Request> requests(double ratePerS) {
    Arrivals a = fixedArrivals ? new Arrivals.Fixed(ratePerS) : new Arrivals.Poisson(ratePerS);
    return Arrivals.generate(a, prompt, output, requests, seed);
  }

  /** The longest request the plan must hold: the distributions' largest prompt plus output. */
  public long maxSeq() {
    return prompt.max() + output.max();
  }

  /**
   * Plans and runs the workload on {@code hw}: the run at its rate and, with a sweep, the sweep (its
   * runs share the plan's memoised iteration costs). Throws IllegalArgumentException when the model
   * cannot be served on {@code hw} as asked.
   */
  public ServeOutcome run(HardwareSpec hw, Function<String, ModelShape> models, EnergyModel energy) {
    ServePlan plan = ServePlan.of(hw, models, model, tp, replicas, lnc, DType.BF16, weights, scheduler, maxBatch, chunk, dispatch,
        speculative, maxSeq(), seed, energy);
    ServeSummary s = plan.summary(plan.run(requests(ratePerS), TraceSink.NONE), sloTtftS, sloTpotS);
    ServePlan.Sweep sw = sweepRates == null ? null : plan.sweep(sweepRates, this::requests, sloTtftS, sloTpotS, SWEEP_BISECTIONS);
    return new ServeOutcome(hw.name(), plan.describe(model), plan.chipsServing(), plan.servingUsdPerHour(), s, sw, plan.simulatedShapes());
  }
}
