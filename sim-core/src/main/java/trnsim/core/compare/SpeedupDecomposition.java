package trnsim.core.compare;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import trnsim.core.run.WorkloadResult;
import trnsim.core.system.LlmResult;

/**
 * A speedup written as a product of factors, so that "3.46x" reads as "2.25x chips x 1.02x per-chip
 * peak x 1.51x utilisation". The speedup is a ratio of times per unit ({@link #basis}: a kernel, a
 * step or a token): {@code (baseline seconds / baseline units) / (target seconds / target units)}.
 *
 * <p>Each side did {@code work} (FLOPs, or HBM bytes for kernels without FLOPs) on {@code chips}
 * chips whose peak per chip (at the dtype and clock that side actually ran) is {@code peakPerChip}.
 * Its utilisation is {@code work / (seconds x chips x peakPerChip)}. Then exactly
 *
 * <pre>
 *   speedup = chips ratio x per-chip peak ratio x utilisation ratio x work-per-unit ratio
 * </pre>
 *
 * (target/baseline for chips, peak and utilisation; baseline/target for work per unit, which is 1
 * when both sides do the same work per unit). The utilisation ratio splits further, again exactly,
 * into the efficiency of the productive time ({@code work / (productive seconds x chips x peak)}) and
 * one factor per lost part of the time (communication, pipeline bubbles, an idle tensor engine...).
 * The lost parts are attributed in order: side X's time grows from its productive time by
 * {@code (p + l1) / p}, then {@code (p + l1 + l2) / (p + l1)}, and so on; a part's factor is the
 * baseline's growth over the target's, so > 1 means the target loses less time to that part. The
 * order matters a little when parts are large on both sides; it is the order the parts are listed in.
 *
 * @param basis what one unit is ("per step", "per token", "per kernel", ...)
 * @param speedup baseline time per unit / target time per unit
 * @param factors chips, per-chip peak, utilisation and (when not 1) work per unit; their product is the speedup
 * @param utilisationParts productive-time efficiency and one factor per lost part; their product is the utilisation factor
 * @param baseline the baseline side
 * @param target the target side
 */
public record SpeedupDecomposition(String basis, double speedup, List<Factor> factors, List<Factor> utilisationParts,
    Side baseline, Side target) {

  /** The lost part of a kernel's (or a step's compute) time in which the tensor engine does no work: memory-bound phases, latency, vector and scalar work. */
  public static final String IDLE_TENSOR = "tensor engine idle";

  /** One factor: its name, its value (target over baseline as a speedup: > 1 favours the target) and what it compares. */
  public record Factor(String name, double value, String meaning) {}

  /**
   * One side of a comparison.
   *
   * @param seconds simulated time of the work
   * @param units how many units of the basis the work is (1 kernel or step, the tokens of a step, the chips of a system)
   * @param chips chips doing the work
   * @param work FLOPs (or bytes) done in {@code seconds} over all chips
   * @param workUnit "FLOP" or "B"
   * @param peakPerChip peak rate of one chip in work units per second, at the dtype and clock run
   * @param peakNote what the peak is (e.g. "tensor FLOP/s at 1.820 GHz")
   * @param lostSeconds parts of {@code seconds} that do no work, in attribution order; the rest is productive
   */
  public record Side(double seconds, double units, int chips, double work, String workUnit, double peakPerChip,
      String peakNote, Map<String, Double> lostSeconds) {
    public Side {
      lostSeconds = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(lostSeconds));
    }

    public double secondsPerUnit() {
      return seconds / units;
    }

    /** Achieved rate over peak, over the whole time. */
    public double utilisation() {
      return work / (seconds * chips * peakPerChip);
    }

    public double productiveSeconds() {
      double lost = 0;
      for (double v : lostSeconds.values()) {
        lost += v;
      }
      return seconds - lost;
    }
  }

  public static SpeedupDecomposition of(String basis, Side b, Side t) {
    List<Factor> f = new ArrayList<>();
    f.add(new Factor("chips", (double) t.chips() / b.chips(), t.chips() + " vs " + b.chips() + " chips"));
    f.add(new Factor("per-chip peak", t.peakPerChip() / b.peakPerChip(), t.peakNote() + " vs " + b.peakNote()));
    f.add(new Factor("utilisation", t.utilisation() / b.utilisation(), String.format(Locale.ROOT,
        "%.1f%% vs %.1f%% of peak", 100 * t.utilisation(), 100 * b.utilisation())));
    double workPerUnit = (b.work() / b.units()) / (t.work() / t.units());
    if (Math.abs(workPerUnit - 1) > 1e-12) {
      f.add(new Factor("work per unit", workPerUnit, String.format(Locale.ROOT, "%.4g vs %.4g %s %s (baseline/target)",
          b.work() / b.units(), t.work() / t.units(), b.workUnit(), basis)));
    }
    return new SpeedupDecomposition(basis, b.secondsPerUnit() / t.secondsPerUnit(), List.copyOf(f), utilisationParts(b, t),
        b, t);
  }

  private static List<Factor> utilisationParts(Side b, Side t) {
    List<Factor> parts = new ArrayList<>();
    double eb = b.work() / (b.productiveSeconds() * b.chips() * b.peakPerChip());
    double et = t.work() / (t.productiveSeconds() * t.chips() * t.peakPerChip());
    parts.add(new Factor("productive-time efficiency", et / eb, String.format(Locale.ROOT,
        "%.1f%% vs %.1f%% of peak in the time not lost", 100 * et, 100 * eb)));
    Set<String> names = new LinkedHashSet<>(b.lostSeconds().keySet());
    names.addAll(t.lostSeconds().keySet());
    double cumB = b.productiveSeconds();
    double cumT = t.productiveSeconds();
    for (String n : names) {
      double lb = b.lostSeconds().getOrDefault(n, 0.0);
      double lt = t.lostSeconds().getOrDefault(n, 0.0);
      double growB = (cumB + lb) / cumB;
      double growT = (cumT + lt) / cumT;
      parts.add(new Factor(n, growB / growT, String.format(Locale.ROOT,
          "%.1f%% vs %.1f%% of the time; x%.3f vs x%.3f on the time before it", 100 * lt / t.seconds(), 100 * lb / b.seconds(),
          growT, growB)));
      cumB += lb;
      cumT += lt;
    }
    return List.copyOf(parts);
  }

  /** Product of {@link #factors}: equals {@link #speedup} up to rounding. */
  public double product() {
    double p = 1;
    for (Factor x : factors) {
      p *= x.value();
    }
    return p;
  }

  /** Product of {@link #utilisationParts}: equals the utilisation factor up to rounding. */
  public double utilisationProduct() {
    double p = 1;
    for (Factor x : utilisationParts) {
      p *= x.value();
    }
    return p;
  }

  /** "3.46x = 2.25x chips x 1.02x per-chip peak x 1.51x utilisation"; factors of 1 are left out. */
  public String text() {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%.2fx %s =", speedup, basis));
    String sep = " ";
    for (Factor x : factors) {
      if (Math.abs(x.value() - 1) > 1e-9 || x.name().equals("utilisation")) {
        sb.append(sep).append(String.format(Locale.ROOT, "%.2fx %s", x.value(), x.name()));
        sep = " x ";
      }
    }
    return sb.toString();
  }

  /** "1.20x productive-time efficiency x 1.26x tp_comm"; parts within 0.5% of 1 are left out. */
  public String utilisationText() {
    StringBuilder sb = new StringBuilder();
    for (Factor x : utilisationParts) {
      if (Math.abs(x.value() - 1) > 0.005) {
        sb.append(sb.length() == 0 ? "" : " x ").append(String.format(Locale.ROOT, "%.2fx %s", x.value(), x.name()));
      }
    }
    return sb.length() == 0 ? "no part differs by more than 0.5%" : sb.toString();
  }

  /**
   * A kernel workload's side. With FLOPs on both sides the resource is the tensor engine (peak at the
   * dtype and clock run; the time it is idle is the lost part: memory, latency and other engines);
   * otherwise HBM bandwidth (no lost part is separated). {@code chips} run one kernel each, so a
   * whole-system row has {@code units = chips}.
   */
  public static Side kernel(WorkloadResult r, boolean flops, int chips, double clockGhz) {
    if (flops) {
      double busy = r.engineBusy().getOrDefault("tensor", 0.0);
      Map<String, Double> lost = new LinkedHashMap<>();
      if (busy > 0 && busy < 1) {
        lost.put(IDLE_TENSOR, (1 - busy) * r.timeSeconds());
      }
      return new Side(r.timeSeconds(), chips, chips, (double) r.flops() * chips, "FLOP", r.peakFlopsPerSecond(),
          String.format(Locale.ROOT, "%.0f TFLOP/s at %.3f GHz", r.peakFlopsPerSecond() / 1e12, clockGhz), lost);
    }
    return new Side(r.timeSeconds(), chips, chips, r.hbmBytes() * chips, "B", r.hbmBytesPerSecondPeak(),
        String.format(Locale.ROOT, "%.0f GB/s HBM", r.hbmBytesPerSecondPeak() / 1e9), Map.of());
  }

  /**
   * A system step's side. Its peak per chip is recovered from the reported MFU (model FLOPs over time x
   * chips x full-clock dense peak) times the fraction of the full clock it ran at, so utilisation is
   * against the clock actually run. Every part of the step's breakdown other than "compute" is lost
   * time, in the breakdown's order (recomputation counts as lost: it does no model FLOPs), after the
   * compute part's tensor-idle time.
   */
  public static Side system(LlmResult r, boolean perToken, double clockGhz, double maxClockGhz) {
    double peak = r.modelFlops() / (r.mfu() * r.seconds() * r.chips()) * (clockGhz / maxClockGhz);
    Map<String, Double> lost = new LinkedHashMap<>();
    // The compute part's own loss: the time one layer's kernels leave the tensor engine idle (memory-bound
    // decode, latency, vector and scalar work), taken from the simulated layer and applied to the whole compute part.
    double busy = r.layer() == null ? 0 : r.layer().engineBusy().getOrDefault("tensor", 0.0);
    if (busy > 0 && busy < 1) {
      lost.put(IDLE_TENSOR, (1 - busy) * r.breakdown().getOrDefault("compute", 0.0));
    }
    for (var e : r.breakdown().entrySet()) {
      if (!e.getKey().equals("compute")) {
        lost.put(e.getKey(), e.getValue());
      }
    }
    // The breakdown sums to the step time up to rounding; the productive part takes the residue.
    return new Side(r.seconds(), perToken ? r.tokens() : 1, r.chips(), r.modelFlops(), "FLOP", peak,
        String.format(Locale.ROOT, "%.0f dense TFLOP/s at %.3f GHz", peak / 1e12, clockGhz), lost);
  }
}
