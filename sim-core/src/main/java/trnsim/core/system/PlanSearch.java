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
 * The {@code llm-train} plan search: when tp, pp, dp (and ep for a MoE model) are not all given,
 * every plan whose memory fits ({@link LlmTraining#fitting}, the given degrees fixed) is composed
 * into a full step and the fastest wins; at equal step time the default chooser's order decides
 * (smallest model-parallel group first), so the search never returns a plan slower than the
 * default chooser's, which is one of the candidates. Plans with the same chip shard and microbatch
 * share their simulated layer ({@link LlmTraining.Sims}): a search simulates one layer per distinct
 * tensor-parallel shard, not one per plan. The result's notes list the fastest plans with their
 * step time, memory and, for the runners-up, the step component that costs them most against the
 * winner (opt-in with {@code plan=search}: the default, {@code plan=first}, keeps the chooser's first plan and its single layer simulation).
 */
final class PlanSearch {
  private PlanSearch() {}

  /** Plans listed in the notes. */
  static final int SHOWN = 5;

  /** A composed candidate and its place in the default chooser's order. */
  record Scored(LlmTraining.Plan plan, LlmResult result, int order) {}

  static LlmResult run(HardwareSpec hw, ModelShape m, LlmTraining.Options o, List<LlmTraining.Plan> plans, RankLayout layout,
      double capacity, EnergyModel energy, RunOptions opts, WorkloadSpec w, List<String> defaulted) {
    LlmTraining.Sims sims = new LlmTraining.Sims();
    int rpc = layout.ranksPerChip();
    List<Scored> scored = new ArrayList<>();
    for (int i = 0; i < plans.size(); i++) {
      LlmTraining.Plan p = plans.get(i);
      var mem = LlmTraining.memory(m, p, o, rpc);
      LlmResult r = new LlmTraining.StepModel(hw, m, o, p, layout, mem, capacity, null, opts, defaulted, sims).run(w);
      scored.add(new Scored(p, r, i));
    }
    scored.sort(Comparator.comparingDouble((Scored x) -> x.result().seconds()).thenComparingInt(Scored::order));
    Scored best = scored.get(0);
    LlmResult chosen = new LlmTraining.StepModel(hw, m, o, best.plan(), layout, LlmTraining.memory(m, best.plan(), o, rpc), capacity, energy,
        opts, defaulted, sims).run(w);
    return chosen.withNotes(explain(scored, plans.get(0)));
  }

  /** The top plans, the default chooser's plan, and why each runner-up loses. */
  static List<String> explain(List<Scored> scored, LlmTraining.Plan first) {
    List<String> out = new ArrayList<>();
    Scored best = scored.get(0);
    out.add(String.format(Locale.ROOT, "plan search: %d plans fit memory; fastest %s (%s step); the default chooser's first plan %s",
        scored.size(), label(best.plan()), LlmSystem.seconds(best.result().seconds()), label(first)));
    for (int i = 0; i < Math.min(SHOWN, scored.size()); i++) {
      Scored s = scored.get(i);
      String why = i == 0 ? "fastest" : loses(s.result(), best.result());
      out.add(String.format(Locale.ROOT, "plan #%d %s: step %s, %.1f GiB per chip, %s", i + 1, label(s.plan()),
          LlmSystem.seconds(s.result().seconds()), s.result().memoryBytes().get("total") / LlmSystem.GIB, why));
    }
    return out;
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
