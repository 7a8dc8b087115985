package trnsim.core.system;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import trnsim.core.config.HardwareSpec;
import trnsim.core.energy.EnergyModel;
import trnsim.core.run.RunOptions;
import trnsim.core.run.Targets;
import trnsim.core.run.WorkloadResult;
import trnsim.isa.DType;
import trnsim.isa.lower.LayerLowering;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * {@code llm-train} on a {@link Domain.Mixed}: a pipeline whose stages are groups of different
 * chips ({@link Placement.Pipeline}). Each stage is its group's chips running that group's layers
 * with its own tensor-parallel degree; all stages share the data-parallel degree (each replica is
 * one pipeline across the groups). Per stage, exactly as {@link LlmTraining} composes a stage: one
 * layer (and on the last stage the LM head) of one microbatch simulated on the group's chip model,
 * times its layers, plus its tensor-parallel collectives on the group's chips (the domain's switch
 * link, the group chip's collective runtime); the stages' forward and backward times run through
 * the {@link Pipeline1F1B} schedule with each boundary's activation (forward) and gradient
 * (backward) transfer on the shared switch; each group then reduces its gradients over its own
 * data-parallel groups and runs its optimizer, and the step waits for the slowest. Energy and cost
 * are each group's chips at their own energy table and price per chip-hour.
 *
 * <p>Not combined with it (refused): expert, context and interleaved pipeline parallelism, ZeRO-3,
 * backward tensor-parallel overlap, several systems, plan search, and the power limiter (each group
 * runs at its full clock).
 */
final class MixedTraining {
  private MixedTraining() {}

  /** Keys the mixed pipeline reads itself; the rest go to {@link LlmTraining.Options}. */
  static final List<String> OWN_KEYS = List.of("stages", "tp");

  /** A stage resolved: its group, layers, degrees and layout. */
  record StagePlan(Placement.Stage stage, int tp, RankLayout layout, LlmTraining.Plan plan) {
    HardwareSpec hw() {
      return stage.group().hw();
    }

    /** Chips the stage uses: tp x dp ranks (the plan's pp counts the stages of the whole pipeline). */
    int chips() {
      return layout.chipsFor(tp * plan.dp());
    }
  }

  static LlmResult train(Domain.Mixed d, WorkloadSpec w, Function<String, ModelShape> models, Function<Domain.Group, EnergyModel> energy,
      RunOptions opts) {
    String src = w.source();
    String stagesText = w.params().get("stages");
    String tpText = w.params().get("tp");
    WorkloadSpec rest = without(w, OWN_KEYS);
    LlmTraining.Options o = LlmTraining.Options.parse(rest);
    ModelShape m = models.apply(o.model());
    refuseUnsupported(w, o, m);
    double[] peaks = new double[d.groups().size()];
    for (int i = 0; i < peaks.length; i++) {
      Domain.Group g = d.groups().get(i);
      peaks[i] = LlmSystem.peak(g.hw(), o.dt()) * g.chips();
    }
    Placement.Pipeline pipe = Placement.pipeline(d, stagesText, m.layers(), peaks, src, "llm-train.stages");
    Map<String, Integer> tps = Placement.perGroup(d, tpText, src, "llm-train.tp");
    List<String> defaulted = new ArrayList<>();
    List<StagePlan> plans = plan(d, pipe, tps, o, m, src, defaulted);
    return new Step(d, m, o, plans, energy, opts, defaulted).run(w);
  }

  /** The spec without {@code keys} (the mixed domain's own), for the single-design option parser. */
  static WorkloadSpec without(WorkloadSpec w, List<String> keys) {
    StringBuilder sb = new StringBuilder(w.kind());
    String sep = ":";
    for (var e : w.params().entrySet()) {
      if (!keys.contains(e.getKey())) {
        sb.append(sep).append(e.getKey()).append('=').append(e.getValue());
        sep = ",";
      }
    }
    return WorkloadSpec.parse(sb.toString(), w.source());
  }

  private static void refuseUnsupported(WorkloadSpec w, LlmTraining.Options o, ModelShape m) {
    String src = w.source();
    record Refused(String key, boolean given, String why) {}
    for (Refused r : List.of(
        new Refused("pp", o.pp() != null, "a mixed domain's pipeline is one stage per group; give stages=group:layers+group:layers"),
        new Refused("vpp", o.vpp() > 1, "interleaved stages are not modelled on a mixed domain"),
        new Refused("cp", o.cp() > 1, "context parallelism is not modelled on a mixed domain"),
        new Refused("ep", o.ep() != null || m.isMoe(), "mixture-of-experts training is not modelled on a mixed domain"),
        new Refused("zero", o.zeroStage() == 3, "ZeRO-3 is not modelled on a mixed domain"),
        new Refused("tp_overlap", o.tpOverlap(), "tensor-parallel overlap is not modelled on a mixed domain"),
        new Refused("systems", o.systems() > 1, "a mixed domain runs as one system"),
        new Refused("plan", o.searchGiven(), "the plan search does not run on a mixed domain; give tp= and dp="),
        new Refused("lnc", o.lnc() != null, "each group runs its chip's default logical cores"))) {
      if (r.given()) {
        throw new WorkloadException(src, "llm-train." + r.key(), w.params().getOrDefault(r.key(), m.name()), r.why());
      }
    }
    if (m.attention().mla() != null) {
      throw new WorkloadException(src, "llm-train.model", o.model(), "latent-attention (MLA) training is not modelled yet");
    }
  }

  /**
   * The degrees: the given dp, or the largest one at which every stage's group has a tensor-parallel
   * degree (the given one, else its ranks / dp, so that every chip of the group works) that divides
   * the model's heads and ffn and fits the group's HBM, dp x mbs dividing the global batch first;
   * failing that, the largest dp at which each group's smallest such power of two fits.
   */
  static List<StagePlan> plan(Domain.Mixed d, Placement.Pipeline pipe, Map<String, Integer> tps, LlmTraining.Options o, ModelShape m,
      String src, List<String> defaulted) {
    int maxDp = Integer.MAX_VALUE;
    for (Placement.Stage s : pipe.stages()) {
      maxDp = Math.min(maxDp, s.group().chips() * RankLayout.of(s.group().hw().chip(), null).ranksPerChip());
    }
    if (o.dp() != null) {
      List<StagePlan> p = planAt(pipe, tps, o, m, o.dp(), src, false, true);
      return p != null ? p : planAt(pipe, tps, o, m, o.dp(), src, true, false);
    }
    // preference: every group's chips used (tp = its ranks / dp) and dp x mbs dividing the global batch; then all chips used;
    // then any fit (each group's smallest tensor-parallel degree that fits)
    for (int pass = 0; pass < 3; pass++) {
      for (int dp = maxDp; dp >= 1; dp--) {
        if (pass == 0 && o.globalBatch() % (dp * o.mbs()) != 0) {
          continue;
        }
        List<StagePlan> p = planAt(pipe, tps, o, m, dp, src, false, pass < 2);
        if (p != null) {
          defaulted.add("dp");
          return p;
        }
      }
    }
    throw new WorkloadException(src, "llm-train.model", o.model(), "does not fit in HBM on the stages' groups at any data-parallel "
        + "degree (" + describe(pipe) + "); give more layers to the larger group, recompute=selective|full, sp=true, or a shorter seq");
  }

  private static String describe(Placement.Pipeline pipe) {
    List<String> s = new ArrayList<>();
    for (Placement.Stage st : pipe.stages()) {
      s.add(st.group().name() + ":" + st.layers() + " on " + st.group().chips() + " x " + st.group().hw().name());
    }
    return String.join(", ", s);
  }

  /** The stages at data-parallel degree {@code dp}; null when one does not fit (or, with {@code strict}, the reason as an error). */
  private static List<StagePlan> planAt(Placement.Pipeline pipe, Map<String, Integer> tps, LlmTraining.Options o, ModelShape m, int dp,
      String src, boolean strict, boolean fill) {
    List<StagePlan> out = new ArrayList<>();
    int n = pipe.stages().size();
    int mb = o.microbatches() != null ? o.microbatches() : (int) Math.max(1, LlmSystem.ceilDiv(o.globalBatch(), (long) dp * o.mbs()));
    for (int i = 0; i < n; i++) {
      Placement.Stage s = pipe.stages().get(i);
      RankLayout layout = RankLayout.of(s.group().hw().chip(), null);
      int rpc = layout.ranksPerChip();
      int ranks = s.group().chips() * rpc;
      Integer given = tps.get(s.group().name());
      StagePlan found = null;
      String why = null;
      if (fill && given == null && ranks % dp != 0) {
        return null;
      }
      int start = given != null ? given : fill ? ranks / dp : 1;
      for (int tp = start; tp * dp <= ranks; tp *= 2) {
        String problem = LlmSystem.tpProblem(m, tp);
        if (problem == null && tp % rpc != 0 && rpc % tp != 0) {
          problem = "must be a multiple or a divisor of the " + rpc + " ranks per chip of " + s.group().hw().name();
        }
        if (problem == null && o.sp() && o.rankSeq() % tp != 0) {
          problem = "must divide seq under sequence parallelism";
        }
        LlmTraining.Plan plan = new LlmTraining.Plan(tp, n, dp, mb);
        if (problem == null) {
          TrainMemory.Memory mem = memory(m, s.layers(), i, n, plan, o, rpc);
          if (mem.total() <= LlmSystem.HBM_USABLE * s.group().hw().chip().hbm().capacity().bytes()) {
            found = new StagePlan(s, tp, layout, plan);
            break;
          }
          problem = String.format(Locale.ROOT, "does not fit in HBM: %.1f GiB per chip of %s's %.0f GiB", mem.total() / LlmSystem.GIB,
              s.group().hw().name(), s.group().hw().chip().hbm().capacity().bytes() / LlmSystem.GIB);
        }
        why = problem;
        if (given != null || fill) {
          break;
        }
      }
      if (found == null) {
        if (!strict && given == null) {
          return null;
        }
        String key = given != null ? "llm-train.tp" : "llm-train.dp";
        String val = given != null ? s.group().name() + ":" + given : String.valueOf(dp);
        throw new WorkloadException(src, key, val, "group " + s.group().name() + " (" + s.group().chips() + " x " + s.group().hw().name()
            + ", " + ranks + " ranks): " + (why != null ? why : "tp x dp = " + (given != null ? given : 1) + " x " + dp + " exceeds its ranks"));
      }
      out.add(found);
    }
    return out;
  }

  /** Memory per chip of stage {@code i} of {@code n} with {@code layers} layers (1F1B: stage i holds min(n - i, m) microbatches). */
  static TrainMemory.Memory memory(ModelShape m, int layers, int i, int n, LlmTraining.Plan p, LlmTraining.Options o, int rpc) {
    ModelShape rank = LlmTraining.rankShard(m, p.tp());
    var acts = new TrainMemory.Activations(o.mbs(), o.rankSeq(), o.sp(), o.recompute(), o.attention(), o.dropout(), o.actBytes());
    boolean only = n == 1;
    double perLayer = LlmTraining.rankLayerParams(m, rank, 1);
    double params = TrainMemory.stageParams(m, rank, layers, i == 0, i == n - 1, only, perLayer);
    return TrainMemory.rank(params, o.precision(), p.dp(), o.zeroStage(),
        TrainMemory.stageActivations(rank, p.tp(), acts, layers, Math.min(n - i, p.microbatches())), perLayer).times(rpc);
  }

  /** One stage's simulated times and collectives. */
  record StageTimes(double fwd, double bwd, double compute, double recompute, double tp, double accum, double paramsPerRank,
      LlmTraining.TpComm tc, Fabric fabric, WorkloadResult layer, List<WorkloadResult> runs) {}

  /** The step of resolved stages. */
  record Step(Domain.Mixed d, ModelShape m, LlmTraining.Options o, List<StagePlan> stages, Function<Domain.Group, EnergyModel> energy,
      RunOptions opts, List<String> defaulted) {

    LlmResult run(WorkloadSpec w) {
      int n = stages.size();
      int dp = stages.get(0).plan().dp();
      int mb = stages.get(0).plan().microbatches();
      LlmTraining.Sims sims = new LlmTraining.Sims();
      StageTimes[] st = new StageTimes[n];
      double[] fwd = new double[n];
      double[] bwd = new double[n];
      for (int i = 0; i < n; i++) {
        st[i] = stage(i, sims);
        fwd[i] = st[i].fwd();
        bwd[i] = st[i].bwd();
      }
      List<String> coll = new ArrayList<>();
      List<LlmResult.Transfer> transfers = new ArrayList<>();
      double[] transfer = new double[Math.max(0, n - 1)];
      double linkBytesCross = 0;
      for (int i = 0; i + 1 < n; i++) {
        Collectives.Result p2p = boundary(i);
        transfer[i] = p2p.seconds();
        linkBytesCross += p2p.linkBytes() * 2 * mb;
        String what = String.format(Locale.ROOT, "activations %s -> %s (forward) and their gradients back, per microbatch",
            stages.get(i).stage().group().name(), stages.get(i + 1).stage().group().name());
        transfers.add(new LlmResult.Transfer(what, p2p.bytes() * p2p.groups(), p2p.seconds(), 2L * mb));
        coll.add(LlmSystem.describe("pipeline send/recv between groups " + stages.get(i).stage().group().name() + " and "
            + stages.get(i + 1).stage().group().name() + " on the domain's switch", p2p, 2L * mb));
      }
      for (int i = 0; i < n; i++) {
        for (String line : st[i].tc().lines()) {
          coll.add("group " + stages.get(i).stage().group().name() + ": " + line);
        }
      }
      Pipeline1F1B.Schedule sched = Pipeline1F1B.run(fwd, bwd, mb, transfer);
      Pipeline1F1B.Schedule free = Pipeline1F1B.run(fwd, bwd, mb, new double[transfer.length]);
      int critical = 0;
      for (int i = 1; i < n; i++) {
        critical = fwd[i] + bwd[i] > fwd[critical] + bwd[critical] ? i : critical;
      }
      // after the pipeline: each group's gradient sync and optimizer; the step waits for the slowest
      double after = 0;
      int tail = 0;
      LlmTraining.DpSync[] dps = new LlmTraining.DpSync[n];
      double[] opt = new double[n];
      for (int i = 0; i < n; i++) {
        StagePlan sp = stages.get(i);
        double hbm = sp.hw().chip().hbm().sustainedBytesPerSecond();
        dps[i] = LlmTraining.dpSync(st[i].fabric(), LlmTraining.Groups.of(one(sp.plan())), one(sp.plan()), o, st[i].paramsPerRank(), bwd[i],
            hbm, sp.layout().ranksPerChip());
        for (String line : dps[i].lines()) {
          coll.add("group " + sp.stage().group().name() + ": " + line);
        }
        opt[i] = optimizer(sp, st[i].paramsPerRank(), hbm);
        if (dps[i].exposed() + opt[i] > after) {
          after = dps[i].exposed() + opt[i];
          tail = i;
        }
      }
      double launch = 0;
      for (StageTimes s : st) {
        launch = Math.max(launch, LlmTraining.graphLaunchSeconds(s.fabric()));
      }
      double runtime = (mb + 1) * launch;
      double step = sched.seconds() + after + runtime;

      Map<String, Double> breakdown = new LinkedHashMap<>();
      StageTimes c = st[critical];
      double work = fwd[critical] + bwd[critical];
      breakdown.put("compute", mb * c.compute());
      breakdown.put("recompute", mb * c.recompute());
      breakdown.put("tp_comm", mb * c.tp());
      breakdown.put("pp_comm", sched.seconds() - free.seconds());
      double bubble = Math.max(0, free.seconds() - mb * work);
      breakdown.put("pipeline_bubble", bubble);
      breakdown.put("grad_accum", c.accum() * (mb - 1));
      breakdown.put("dp_comm", dps[tail].exposed());
      breakdown.put("optimizer", opt[tail]);
      breakdown.put("runtime", runtime);
      double residue = step - breakdown.values().stream().mapToDouble(Double::doubleValue).sum();
      breakdown.put("pipeline_bubble", bubble + residue);

      double tokens = (double) dp * mb * o.mbs() * o.seq();
      double modelFlops = LlmTraining.modelFlopsPerToken(m, o.seq()) * tokens;
      int chips = 0;
      double peak = 0;
      double joules = 0;
      double cost = 0;
      List<LlmResult.GroupPart> parts = new ArrayList<>();
      int first = 1;
      for (int i = 0; i < n; i++) {
        StagePlan sp = stages.get(i);
        int ch = sp.chips();
        chips += ch;
        peak += ch * LlmSystem.peak(sp.hw(), o.dt());
        double linkPerChip = (st[i].tc().linkBytesPerRankPerMicrobatch() * mb + dps[i].linkBytesPerRank()) * sp.layout().ranksPerChip()
            + (i + 1 < n ? linkBytesCross / n / Math.max(1, ch) : 0);
        double e = energy(energy.apply(sp.stage().group()), st[i], sp.stage().layers(), mb, step, ch, linkPerChip);
        double usd = step * ch * sp.hw().system().pricePerChipHourUsd() / 3600;
        joules += e;
        cost += usd;
        int last = first + sp.stage().layers() - 1;
        parts.add(new LlmResult.GroupPart(sp.stage().group().name(), sp.hw().name(), sp.hw().isProjection(),
            String.format(Locale.ROOT, "layers %d-%d (stage %d of %d)%s%s", first, last, i + 1, n, i == 0 ? ", embedding" : "",
                i == n - 1 ? ", LM head and loss" : ""), ch, sp.tp(), mb * (fwd[i] + bwd[i]), e, usd));
        first = last + 1;
      }
      String bottleneck = String.format(Locale.ROOT, "group %s (stage %d: %s per microbatch, forward + backward; the others %s)",
          stages.get(critical).stage().group().name(), critical + 1, LlmSystem.seconds(work), others(fwd, bwd, critical));

      Map<String, Double> memory = new LinkedHashMap<>();
      int worst = 0;
      double worstShare = -1;
      TrainMemory.Memory worstMem = null;
      for (int i = 0; i < n; i++) {
        StagePlan sp = stages.get(i);
        TrainMemory.Memory x = memory(m, sp.stage().layers(), i, n, sp.plan(), o, sp.layout().ranksPerChip());
        double share = x.total() / sp.hw().chip().hbm().capacity().bytes();
        if (share > worstShare) {
          worstShare = share;
          worst = i;
          worstMem = x;
        }
      }
      memory.put("weights", worstMem.weights());
      memory.put("gradients", worstMem.grads());
      memory.put("optimizer", worstMem.optimizer());
      memory.put("activations", worstMem.activations());
      memory.put("total", worstMem.total());
      memory.put("capacity", stages.get(worst).hw().chip().hbm().capacity().bytes() * 1.0);

      List<String> notes = new ArrayList<>();
      long sequences = (long) dp * mb * o.mbs();
      if (sequences != o.globalBatch()) {
        notes.add(String.format(Locale.ROOT, "global batch %d sequences is not dp x microbatches x mbs = %d x %d x %d; the step runs %d "
            + "sequences", o.globalBatch(), dp, mb, o.mbs(), sequences));
      }
      notes.add(String.format(Locale.ROOT, "mixed domain %s: %d stages on groups %s, dp=%d, %d microbatches of %d; bottleneck %s",
          d.hw().name(), n, describeStages(), dp, mb, o.mbs(), bottleneck));
      notes.add(String.format(Locale.ROOT, "1F1B over unequal stages: bubble %.1f%% of the pipeline (balanced-stage formula (p-1)/(m+p-1) "
          + "= %.1f%%); memory per chip shown for group %s (fullest HBM)", 100 * bubble / free.seconds(),
          100.0 * (n - 1) / (mb + n - 1), stages.get(worst).stage().group().name()));
      notes.add("simulated per group: one layer (forward + backward) of one microbatch on that group's chip model, the LM head on the "
          + "last stage's; each group at its full clock (the power limiter is not applied on a mixed domain)");
      if (d.projection()) {
        notes.add("PROJECTION: uses " + String.join(", ", projected()) + " (projected from announcements, not sourced)");
      }
      Map<String, Integer> par = new LinkedHashMap<>();
      par.put("tp", stages.get(critical).tp());
      par.put("pp", n);
      par.put("dp", dp);
      par.put("microbatches", mb);
      par.put("mbs", (int) o.mbs());
      par.put("systems", 1);
      for (StagePlan sp : stages) {
        par.put("tp_" + sp.stage().group().name(), sp.tp());
        par.put("layers_" + sp.stage().group().name(), sp.stage().layers());
      }
      if (o.microbatches() == null) {
        defaulted.add("microbatches");
      }
      return new LlmResult(d.hw().name(), w.toString(), "train", par, defaulted, chips, step, tokens, breakdown, memory, modelFlops / (step
          * peak), modelFlops, joules, cost, c.layer(), coll, notes, new LlmResult.MixedParts(parts, transfers, bottleneck));
    }

    private List<String> projected() {
      List<String> out = new ArrayList<>();
      for (StagePlan sp : stages) {
        if (sp.hw().isProjection()) {
          out.add("group " + sp.stage().group().name() + " (" + sp.hw().name() + ")");
        }
      }
      if (out.isEmpty()) {
        out.add(d.hw().name());
      }
      return out;
    }

    private String describeStages() {
      List<String> s = new ArrayList<>();
      for (StagePlan sp : stages) {
        s.add(String.format(Locale.ROOT, "%s (%d layers, tp=%d, %d x %s)", sp.stage().group().name(), sp.stage().layers(), sp.tp(),
            sp.chips(), sp.hw().name()));
      }
      return String.join(", ", s);
    }

    private static String others(double[] fwd, double[] bwd, int critical) {
      List<String> s = new ArrayList<>();
      for (int i = 0; i < fwd.length; i++) {
        if (i != critical) {
          s.add(LlmSystem.seconds(fwd[i] + bwd[i]));
        }
      }
      return String.join(", ", s);
    }

    /** The plan as one stage of its own group (its groups of ranks within the group's chips). */
    private static LlmTraining.Plan one(LlmTraining.Plan p) {
      return new LlmTraining.Plan(p.tp(), 1, p.dp(), p.microbatches());
    }

    /** Stage {@code i}: its layer (and head) simulated on its group's chip, composed as {@link LlmTraining} composes a stage. */
    private StageTimes stage(int i, LlmTraining.Sims sims) {
      StagePlan sp = stages.get(i);
      HardwareSpec hw = sp.hw();
      int n = stages.size();
      boolean firstStage = i == 0;
      boolean lastStage = i == n - 1;
      int tp = sp.tp();
      int rpc = sp.layout().ranksPerChip();
      int layers = sp.stage().layers();
      int mb = sp.plan().microbatches();
      TargetSpec target = Targets.of(hw);
      ModelShape rank = LlmTraining.rankShard(m, tp);
      int g = Math.min(tp, rpc);
      int replicas = rpc / g;
      ModelShape chipShard = m.withWidths(m.name() + "/tp" + tp + "x" + g, rank.heads() * g, rank.kvHeads() * g, rank.ffn() * g,
          rank.vocab() * g);
      long batch = o.mbs() * replicas;
      long tokensChip = batch * o.rankSeq();
      long normTokens = o.sp() ? LlmSystem.ceilDiv(tokensChip * g, tp) : tokensChip;
      var layerSpec = new LayerLowering.TrainLayer(batch, o.rankSeq(), normTokens, o.recompute(), o.attention(),
          o.fp8() ? DType.FP8_E4M3 : null);
      String key = hw.name() + " " + chipShard + " " + layerSpec + " " + o.dt();
      var layerSim = sims.run(hw, "layer " + key, "llm-train layer (one microbatch, one chip of group " + sp.stage().group().name() + ")",
          tokensChip, () -> LayerLowering.trainSteps(target, chipShard, layerSpec, o.dt(), null), opts);
      LlmTraining.Times layer = LlmTraining.Times.of(layerSim.run());
      List<WorkloadResult> runs = new ArrayList<>(List.of(layerSim.run()));
      LlmTraining.Times head = new LlmTraining.Times(0, 0, 0);
      if (lastStage) {
        var headSim = sims.run(hw, "head " + hw.name() + " " + tokensChip + " " + chipShard.vocab() + " " + o.dt(),
            "llm-train LM head and loss (one microbatch, one chip)", tokensChip,
            () -> LlmTraining.headSteps(target, tokensChip, m.hidden(), chipShard.vocab(), o.dt()), opts);
        head = LlmTraining.Times.of(headSim.run());
        runs.add(headSim.run());
      }
      Fabric fabric = LlmTraining.fabric(hw, o, sp.layout());
      LlmTraining.Plan own = one(sp.plan());
      LlmTraining.TpComm tc = LlmTraining.tpComm(fabric, LlmTraining.Groups.of(own), own, o, m, layers, Collectives.Algo.AUTO);
      double perLayer = LlmTraining.rankLayerParams(m, rank, 1);
      double params = TrainMemory.stageParams(m, rank, layers, firstStage, lastStage, n == 1, perLayer);
      Precision prec = o.precision();
      double hbm = hw.chip().hbm().sustainedBytesPerSecond();
      double accumPerMb = mb > 1 ? rpc * params * (prec.weightBytes() + 2.0 * prec.gradBytes()) / hbm : 0;
      double fwd = layers * (layer.fwd() + tc.layerFwd()) + (firstStage ? tc.embedding() : 0) + (lastStage ? head.fwd() + tc.headFwd() : 0);
      double bwd = layers * (layer.bwd() + layer.recompute() + tc.layerBwd()) + (lastStage ? head.bwd() + tc.headBwd() : 0)
          + accumPerMb * (mb - 1) / mb;
      double compute = layers * (layer.fwd() + layer.bwd()) + head.fwd() + head.bwd();
      double tpTime = layers * (tc.layerFwd() + tc.layerBwd()) + (firstStage ? tc.embedding() : 0) + (lastStage ? tc.headFwd()
          + tc.headBwd() : 0);
      return new StageTimes(fwd, bwd, compute, layers * layer.recompute(), tpTime, accumPerMb, params, tc, fabric, layerSim.run(), runs);
    }

    /**
     * The activations of one microbatch crossing from stage {@code i}'s chips to stage {@code i + 1}'s
     * on the domain's switch: the full activation (tokens x hidden x dtype bytes), split over as
     * many chip pairs as the smaller tensor-parallel group has chips (each tp rank sends its 1/tp
     * share, as {@link LlmTraining} sends; replica 0 shown, the others run at the same time on their
     * own ports), with the sending group's collective runtime.
     */
    private Collectives.Result boundary(int i) {
      StagePlan a = stages.get(i);
      StagePlan b = stages.get(i + 1);
      double bytes = activationBytes();
      int ca = a.layout().chipsFor(a.tp());
      int cb = b.layout().chipsFor(b.tp());
      int pairs = Math.min(ca, cb);
      int at = d.firstChip(a.stage().group());
      int bt = d.firstChip(b.stage().group());
      List<List<Integer>> flows = new ArrayList<>();
      for (int k = 0; k < pairs; k++) {
        flows.add(List.of(at + k, bt + k));
      }
      Fabric domain = new Fabric(d.hw().system(), 1, 1, Double.POSITIVE_INFINITY,
          CollectiveCosts.of(a.hw(), new RankLayout(a.hw().chip().cores(), a.hw().chip().cores())));
      return Collectives.run(domain, Collectives.Op.SEND_RECV, flows, bytes / pairs, Collectives.Algo.AUTO);
    }

    /** One microbatch's activations at a stage boundary: tokens x hidden x activation bytes. */
    double activationBytes() {
      return (double) o.mbs() * o.rankSeq() * m.hidden() * o.actBytes();
    }

    private double optimizer(StagePlan sp, double paramsPerRank, double hbm) {
      Precision prec = o.precision();
      double shard = paramsPerRank / (o.zero() ? sp.plan().dp() : 1);
      double gradsHeld = o.zeroStage() >= 2 ? shard : paramsPerRank;
      int adam = o.fusedOptimizer() ? prec.adamBytes() : prec.unfusedAdamBytes();
      return sp.layout().ranksPerChip() * (shard * (adam + prec.gradBytes()) + gradsHeld * prec.gradBytes()) / hbm;
    }

    /** A group's energy over the step: its kernels' actions, static power for the rest of the step, link bytes. */
    private static double energy(EnergyModel e, StageTimes s, int layers, int mb, double step, int chips, double linkBytesPerChip) {
      if (e == null) {
        return Double.NaN;
      }
      double perChip = 0;
      double kernelTime = 0;
      for (WorkloadResult part : s.runs()) {
        for (var k : part.steps()) {
          long times = k.repeat() * (long) mb * (part == s.layer() ? layers : 1);
          perChip += e.report(k.result().stats(), k.result().timeSeconds()).totalEnergyJ() * times;
          kernelTime += k.result().timeSeconds() * times;
        }
      }
      perChip += e.staticPowerW() * Math.max(0, step - kernelTime);
      if (e.table().link() != null) {
        perChip += linkBytesPerChip * e.energyPj("link.byte") * 1e-12;
      }
      return perChip * chips;
    }
  }
}
