package trnsim.core.system;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import trnsim.core.config.HardwareSpec;
import trnsim.core.energy.EnergyModel;
import trnsim.core.run.RunOptions;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.workload.WorkloadSpec;

/**
 * The {@code llm-train} plan search, run whenever tp, pp, dp (and ep for a MoE model) are not all
 * given (unless {@code plan=first}): every plan whose memory fits ({@link LlmTraining#fitting}, the
 * given degrees fixed) is a candidate and the fastest step wins; at equal step time the default
 * chooser's order decides (smallest model-parallel group first).
 *
 * <p>Branch and bound. Each candidate first gets a closed-form lower bound on its step
 * ({@link LlmTraining.StepModel#lowerBoundSeconds}: the step composed over {@link StepBound}'s
 * kernel bounds, microseconds per plan), then candidates are simulated in the order of their bounds
 * and the search stops at the first whose bound exceeds the best step found: neither it nor any
 * later one can win. The result is the exhaustive search's (the bound never exceeds the step, which
 * the search also checks on every plan it simulates: a plan faster than its bound turns the prune
 * off for the rest of the search). Since the default chooser's plan is a candidate, the search never
 * returns a slower plan. Plans with the same chip shard and microbatch share their simulated layer
 * ({@link LlmTraining.Sims}), so a search simulates at most one layer per tensor-parallel degree,
 * usually one or two.
 *
 * <p>The result's notes list the best plans with their step time and memory per chip and why the
 * others lose: slower by how much (and the step component that costs them most against the winner),
 * pruned by their bound, or over memory.
 */
final class PlanSearch {
  private PlanSearch() {}

  /** Plans listed in the notes. */
  static final int SHOWN = 5;

  /** Over-memory plans listed in the notes. */
  static final int SHOWN_OVER_MEMORY = 3;

  /** A candidate: its place in the default chooser's order, its bound, and its step when simulated (null when pruned). */
  record Scored(LlmTraining.Plan plan, int order, double boundSeconds, double memoryBytes, LlmResult result) {
    boolean simulated() {
      return result != null;
    }

    double seconds() {
      return result.seconds();
    }
  }

  /** The search's outcome: every candidate, and whether the prune stayed on. */
  record Outcome(List<Scored> candidates, Scored best, boolean pruneHeld) {
    List<Scored> simulated() {
      return candidates.stream().filter(Scored::simulated)
          .sorted(Comparator.comparingDouble(Scored::seconds).thenComparingInt(Scored::order)).toList();
    }

    List<Scored> pruned() {
      return candidates.stream().filter(s -> !s.simulated()).sorted(Comparator.comparingDouble(Scored::boundSeconds)).toList();
    }
  }

  static LlmResult run(HardwareSpec hw, ModelShape m, LlmTraining.Options o, LlmTraining.Plan chooser, List<LlmTraining.Plan> plans,
      List<LlmTraining.Plan> all,
      RankLayout layout, double capacity, EnergyModel energy, RunOptions opts, WorkloadSpec w, List<String> defaulted) {
    LlmTraining.Sims sims = new LlmTraining.Sims();
    // plans whose data parallelism the global batch cannot feed (dp x mbs > global batch) run more sequences than asked:
    // candidates only when no other plan fits (the default chooser's order puts them last for the same reason)
    List<LlmTraining.Plan> fed = plans.stream().filter(p -> !starved(p, o)).toList();
    List<LlmTraining.Plan> candidates = fed.isEmpty() ? plans : fed;
    Outcome out = search(hw, m, o, candidates, layout, capacity, opts, w, defaulted, sims, o.plan() != LlmTraining.PlanMode.EXHAUSTIVE);
    LlmTraining.Plan best = out.best().plan();
    int rpc = layout.ranksPerChip();
    LlmResult chosen = new LlmTraining.StepModel(hw, m, o, best, layout, LlmTraining.memory(m, best, o, rpc), capacity, energy,
        opts, defaulted, sims).run(w);
    List<LlmTraining.Plan> over = all.stream().filter(p -> !plans.contains(p)).toList();
    int shown = o.plan() == LlmTraining.PlanMode.EXHAUSTIVE ? plans.size() : SHOWN;
    return chosen.withNotes(explain(out, chooser, overMemory(m, o, over, rpc, capacity), plans.size() - candidates.size(), shown));
  }

  /** More data-parallel replicas than the global batch has sequences for. */
  static boolean starved(LlmTraining.Plan p, LlmTraining.Options o) {
    return (long) p.dp() / o.cp() * o.mbs() > o.globalBatch();
  }

  /**
   * Bounds every candidate, then simulates them in bound order until a bound exceeds the best step;
   * {@code prune} false simulates every candidate (plan=exhaustive).
   */
  static Outcome search(HardwareSpec hw, ModelShape m, LlmTraining.Options o, List<LlmTraining.Plan> plans, RankLayout layout,
      double capacity, RunOptions opts, WorkloadSpec w, List<String> defaulted, LlmTraining.Sims sims, boolean prune) {
    int rpc = layout.ranksPerChip();
    List<LlmTraining.StepModel> models = new ArrayList<>();
    List<Scored> bounded = new ArrayList<>();
    for (int i = 0; i < plans.size(); i++) {
      LlmTraining.Plan p = plans.get(i);
      var mem = LlmTraining.memory(m, p, o, rpc);
      var model = new LlmTraining.StepModel(hw, m, o, p, layout, mem, capacity, null, opts, defaulted, sims);
      models.add(model);
      bounded.add(new Scored(p, i, model.lowerBoundSeconds(w), mem.total(), null));
    }
    List<Scored> byBound = bounded.stream().sorted(Comparator.comparingDouble(Scored::boundSeconds).thenComparingInt(Scored::order))
        .toList();
    List<Scored> out = new ArrayList<>();
    Scored best = null;
    boolean held = true;
    for (Scored c : byBound) {
      if (prune && held && best != null && c.boundSeconds() > best.seconds()) {
        out.add(c);
        continue;
      }
      LlmResult r = models.get(c.order()).run(w);
      Scored s = new Scored(c.plan(), c.order(), c.boundSeconds(), c.memoryBytes(), r);
      // a relative slack of 1e-9 for the rounding of two different sums of the same terms
      held &= r.seconds() >= c.boundSeconds() * (1 - 1e-9);
      out.add(s);
      if (best == null || r.seconds() < best.seconds() || r.seconds() == best.seconds() && s.order() < best.order()) {
        best = s;
      }
    }
    if (!held) {
      // a bound above its step: the pruned plans are simulated after all (none has been seen in the tests)
      List<Scored> all = new ArrayList<>();
      for (Scored c : out) {
        Scored s = c.simulated() ? c : new Scored(c.plan(), c.order(), c.boundSeconds(), c.memoryBytes(), models.get(c.order()).run(w));
        all.add(s);
        if (s.seconds() < best.seconds() || s.seconds() == best.seconds() && s.order() < best.order()) {
          best = s;
        }
      }
      out = all;
    }
    return new Outcome(out, best, held);
  }

  /** Plans over memory, smallest first: label and memory per chip. */
  record OverMemory(LlmTraining.Plan plan, double bytes) {}

  static List<OverMemory> overMemory(ModelShape m, LlmTraining.Options o, List<LlmTraining.Plan> over, int rpc, double capacity) {
    return over.stream().map(p -> new OverMemory(p, LlmTraining.memory(m, p, o, rpc).total()))
        .sorted(Comparator.comparingDouble(OverMemory::bytes)).toList();
  }

  /** The search's counts, the top {@code shown} plans, the default chooser's plan, and why each other plan loses. */
  static List<String> explain(Outcome out, LlmTraining.Plan first, List<OverMemory> over, int starved, int shown) {
    List<String> lines = new ArrayList<>();
    Scored best = out.best();
    List<Scored> simulated = out.simulated();
    List<Scored> pruned = out.pruned();
    Scored chooser = out.candidates().stream().filter(s -> s.plan().equals(first)).findFirst().orElseThrow();
    String chooserWhy = chooser.plan().equals(best.plan()) ? "the same plan"
        : chooser.simulated() ? String.format(Locale.ROOT, "%s, +%.1f%%", LlmSystem.seconds(chooser.seconds()), slower(chooser.seconds(), best))
        : String.format(Locale.ROOT, "pruned, at least +%.1f%%", slower(chooser.boundSeconds(), best));
    lines.add(String.format(Locale.ROOT, "plan search: %d plans fit memory (%d more do not%s); %d simulated, %d pruned by their lower bound%s; "
        + "fastest %s (%s step); the default chooser's plan %s (%s)", out.candidates().size(), over.size(),
        starved > 0 ? "; " + starved + " more fit but have more data-parallel replicas than the global batch has sequences" : "",
        simulated.size(), pruned.size(),
        out.pruneHeld() ? "" : " (a bound exceeded its step: every plan simulated)", label(best.plan()),
        LlmSystem.seconds(best.seconds()), label(first), chooserWhy));
    int n = 0;
    for (Scored s : simulated) {
      if (n == shown) {
        break;
      }
      String why = s == best ? "fastest" : "slower by " + loses(s.result(), best.result());
      lines.add(String.format(Locale.ROOT, "plan #%d %s: step %s (bound %s), %.1f GiB per chip, %s", ++n, label(s.plan()),
          LlmSystem.seconds(s.seconds()), LlmSystem.seconds(s.boundSeconds()), s.memoryBytes() / LlmSystem.GIB, why));
    }
    for (Scored s : pruned) {
      if (n == shown) {
        break;
      }
      lines.add(String.format(Locale.ROOT, "plan #%d %s: step >= %s (lower bound), %.1f GiB per chip, pruned by bound: at least +%.1f%%",
          ++n, label(s.plan()), LlmSystem.seconds(s.boundSeconds()), s.memoryBytes() / LlmSystem.GIB, slower(s.boundSeconds(), best)));
    }
    for (int i = 0; i < Math.min(SHOWN_OVER_MEMORY, over.size()); i++) {
      lines.add(String.format(Locale.ROOT, "over memory: %s needs %.1f GiB per chip", label(over.get(i).plan()), over.get(i).bytes() / LlmSystem.GIB));
    }
    return lines;
  }

  private static double slower(double seconds, Scored best) {
    return 100 * (seconds / best.seconds() - 1);
  }

  /** How much slower a plan is and the breakdown part that grows most against the best plan. */
  static String loses(LlmResult r, LlmResult best) {
    String worst = null;
    double excess = 0;
    for (Map.Entry<String, Double> e : r.breakdown().entrySet()) {
      double d = e.getValue() - best.breakdown().getOrDefault(e.getKey(), 0.0);
      if (worst == null || d > excess) {
        worst = e.getKey();
        excess = d;
      }
    }
    return String.format(Locale.ROOT, "+%.1f%% (%s +%s)", 100 * (r.seconds() / best.seconds() - 1), worst, LlmSystem.seconds(excess));
  }

  static String label(LlmTraining.Plan p) {
    return "tp=" + p.tp() + " pp=" + p.pp() + " dp=" + p.dp() + (p.ep() > 1 ? " ep=" + p.ep() : "") + " microbatches=" + p.microbatches();
  }
}
