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
import trnsim.core.run.WorkloadRunner;
import trnsim.isa.DType;
import trnsim.isa.ProgramException;
import trnsim.isa.lower.GemmLowering;
import trnsim.isa.lower.GemmSpec;
import trnsim.isa.lower.LayerLowering;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.lower.Step;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;


/** {@code llm-train}: one distributed training step (see {@link LlmSystem}). */
final class LlmTraining {
  private LlmTraining() {}

  /** Megatron-style memory per chip of stage 0 (the stage holding the most microbatches in flight). */
  record Memory(double weights, double grads, double optimizer, double activations) {
    double total() {
      return weights + grads + optimizer + activations;
    }
  }

  static Memory trainMemory(ModelShape m, int tp, int pp, int dp, long mbs, long seq, int microbatches, boolean zero,
      DType dt) {
    int layersPerStage = (m.layers() + pp - 1) / pp;
    double embed = (double) m.vocab() * m.hidden() / tp * (pp == 1 ? 2 : 1);
    double params = (double) LlmSystem.layerParams(m) * layersPerStage / tp + embed;
    double wbytes = dt.bits() / 8.0;
    double weights = params * wbytes;
    double grads = params * wbytes;
    // Adam with fp32 master weights, momentum and variance: 12 bytes per parameter, sharded over dp by ZeRO-1.
    double optimizer = params * 12.0 / (zero ? dp : 1);
    // Korthikanti et al. 2022, per layer per microbatch, 16-bit activations, no recomputation, flash attention
    // (no s x s scores kept): s b h (10 + 24 / t) bytes; 1F1B keeps min(p, m) microbatches in flight on stage 0.
    double perLayer = (double) seq * mbs * m.hidden() * (10.0 + 24.0 / tp) * wbytes / 2;
    double activations = perLayer * layersPerStage * Math.min(pp, microbatches);
    return new Memory(weights, grads, optimizer, activations);
  }


  static LlmResult train(HardwareSpec hw, WorkloadSpec w, Function<String, ModelShape> models, EnergyModel energy,
      RunOptions opts) {
    String name = w.string("model", null);
    long seq = w.positive("seq", 4096L);
    long mbs = w.positive("mbs", 1L);
    long globalBatch = w.positive("global_batch", 1024L);
    boolean zero = w.choice("zero", "1", "0", "1").equals("1");
    DType dt = w.dtype("dtype", DType.BF16);
    int systems = (int) w.positive("systems", 1L);
    Integer tpGiven = LlmSystem.optional(w, "tp");
    Integer ppGiven = LlmSystem.optional(w, "pp");
    Integer dpGiven = LlmSystem.optional(w, "dp");
    Integer mGiven = LlmSystem.optional(w, "microbatches");
    w.finish();
    ModelShape m = models.apply(name);
    int total = hw.totalChips() * systems;
    double capacity = hw.chip().hbm().capacity().bytes();
    String src = w.source();
    if (tpGiven != null && LlmSystem.tpProblem(m, tpGiven) != null) {
      throw new WorkloadException(src, "llm-train.tp", tpGiven.toString(), LlmSystem.tpProblem(m, tpGiven));
    }
    if (ppGiven != null && ppGiven > m.layers()) {
      throw new WorkloadException(src, "llm-train.pp", ppGiven.toString(), "more stages than the model's " + m.layers() + " layers");
    }
    List<String> defaulted = new ArrayList<>();
    // Candidate plans, fewest model-parallel chips first (most data parallelism, least communication);
    // at equal size the larger tensor-parallel degree (fast links, no bubbles).
    List<int[]> plans = new ArrayList<>();
    List<Integer> tps = new ArrayList<>();
    if (tpGiven != null) {
      tps.add(tpGiven);
    } else {
      for (int tp = 1; tp <= Math.min(64, total); tp *= 2) {
        if (LlmSystem.tpProblem(m, tp) == null && tp <= Math.max(8, m.kvHeads())) {
          tps.add(tp);
        }
      }
    }
    for (int tp : tps) {
      for (int pp = 1; pp <= Math.min(m.layers(), total); pp++) {
        if (ppGiven != null && pp != ppGiven || ppGiven == null && m.layers() % pp != 0) {
          continue;
        }
        if (dpGiven == null && total % (tp * pp) != 0) {
          continue;
        }
        int dp = dpGiven != null ? dpGiven : total / (tp * pp);
        if ((long) tp * pp * dp > total) {
          continue;
        }
        plans.add(new int[] {tp, pp, dp});
      }
    }
    if (tpGiven != null && !plans.stream().anyMatch(p -> p[0] == tpGiven)) {
      throw new WorkloadException(src, "llm-train.tp", tpGiven.toString(), "with the other degrees needs more than the " + total + " chips of " + hw.name());
    }
    if (plans.isEmpty()) {
      throw new WorkloadException(src, ppGiven != null ? "llm-train.pp" : "llm-train.dp", String.valueOf(ppGiven != null ? ppGiven : dpGiven),
          "tp x pp x dp must fit in the " + total + " chips of " + hw.name() + (systems > 1 ? " x " + systems : ""));
    }
    plans.sort((a, b) -> a[0] * a[1] != b[0] * b[1] ? Integer.compare(a[0] * a[1], b[0] * b[1]) : Integer.compare(b[0], a[0]));
    int[] chosen = null;
    Memory mem = null;
    Memory smallest = null;
    int[] smallestPlan = null;
    for (int[] p : plans) {
      int microbatches = mGiven != null ? mGiven : (int) Math.max(1, LlmSystem.ceilDiv(globalBatch, (long) p[2] * mbs));
      Memory x = trainMemory(m, p[0], p[1], p[2], mbs, seq, microbatches, zero, dt);
      if (smallest == null || x.total() < smallest.total()) {
        smallest = x;
        smallestPlan = p;
      }
      if (x.total() <= LlmSystem.HBM_USABLE * capacity) {
        chosen = p;
        mem = x;
        break;
      }
    }
    if (chosen == null) {
      String key = tpGiven != null ? "llm-train.tp" : ppGiven != null ? "llm-train.pp" : "llm-train.model";
      String val = tpGiven != null ? tpGiven.toString() : ppGiven != null ? ppGiven.toString() : name;
      throw new WorkloadException(src, key, val, String.format(Locale.ROOT,
          "does not fit in HBM: needs %.1f GiB per chip even at tp=%d pp=%d dp=%d (weights %.1f, grads %.1f, optimizer %.1f, "
              + "activations %.1f GiB) but %s has %.0f GiB per chip (%.0f%% usable) and %d chip%s; use a larger system, "
              + "more pipeline stages, or a shorter seq / smaller mbs",
          smallest.total() / LlmSystem.GIB, smallestPlan[0], smallestPlan[1], smallestPlan[2], smallest.weights() / LlmSystem.GIB,
          smallest.grads() / LlmSystem.GIB, smallest.optimizer() / LlmSystem.GIB, smallest.activations() / LlmSystem.GIB, hw.name(), capacity / LlmSystem.GIB,
          100 * LlmSystem.HBM_USABLE, total, total == 1 ? "" : "s"));
    }
    int tp = chosen[0];
    int pp = chosen[1];
    int dp = chosen[2];
    if (tpGiven == null) {
      defaulted.add("tp");
    }
    if (ppGiven == null) {
      defaulted.add("pp");
    }
    if (dpGiven == null) {
      defaulted.add("dp");
    }
    int microbatches = mGiven != null ? mGiven : (int) Math.max(1, LlmSystem.ceilDiv(globalBatch, (long) dp * mbs));
    if (mGiven == null) {
      defaulted.add("microbatches");
    }
    long sequences = (long) dp * microbatches * mbs;
    List<String> notes = new ArrayList<>();
    if (sequences != globalBatch) {
      notes.add(String.format(Locale.ROOT, "global batch %d sequences is not dp x microbatches x mbs = %d x %d x %d; "
          + "the step runs %d sequences", globalBatch, dp, microbatches, mbs, sequences));
    }
    int chips = tp * pp * dp;
    Fabric fabric = new Fabric(hw.system(), systems);
    int layersPerStage = (m.layers() + pp - 1) / pp;
    if (m.layers() % pp != 0) {
      notes.add("layers do not divide evenly over " + pp + " stages; every stage is charged " + layersPerStage + " layers");
    }

    // 1. One layer, one microbatch, on one chip of a tensor-parallel group: instruction level.
    TargetSpec target = Targets.of(hw);
    ModelShape shard = LlmSystem.shard(m, tp);
    long tokensMb = mbs * seq;
    List<Step> layerSteps = LayerLowering.steps(target, shard, "train", mbs, seq, 0, dt);
    List<Step> headSteps = LlmSystem.headSteps(target, tokensMb, m, tp, dt, true);
    WorkloadResult layerOnly = WorkloadRunner.run(hw, new LoweredWorkload("llm-train layer (one microbatch, one chip)",
        layerSteps, tokensMb), opts);
    WorkloadResult head = WorkloadRunner.run(hw, new LoweredWorkload("llm-train LM head (one microbatch, one chip)",
        headSteps, tokensMb), opts);
    double[] layerFb = forwardBackward(layerOnly);
    double[] headFb = forwardBackward(head);
    double layerFwd = layerFb[0];
    double layerBwd = layerFb[1];
    double headFwd = headFb[0];
    double headBwd = headFb[1];

    // 2. Collectives on the fabric. Chip of (dp d, stage s, tp t) = (d * pp + s) * tp + t.
    List<List<Integer>> tpGroups = new ArrayList<>();
    List<List<Integer>> dpGroups = new ArrayList<>();
    List<List<Integer>> ppPairs = new ArrayList<>();
    for (int d = 0; d < dp; d++) {
      for (int s = 0; s < pp; s++) {
        List<Integer> g = new ArrayList<>();
        for (int t = 0; t < tp; t++) {
          g.add((d * pp + s) * tp + t);
          if (s + 1 < pp && d == 0) {
            ppPairs.add(List.of((d * pp + s) * tp + t, (d * pp + s + 1) * tp + t));
          }
        }
        tpGroups.add(g);
      }
    }
    for (int s = 0; s < pp; s++) {
      for (int t = 0; t < tp; t++) {
        List<Integer> g = new ArrayList<>();
        for (int d = 0; d < dp; d++) {
          g.add((d * pp + s) * tp + t);
        }
        dpGroups.add(g);
      }
    }
    List<String> coll = new ArrayList<>();
    double actBytes = (double) tokensMb * m.hidden() * dt.bits() / 8;
    Collectives.Result tpAr = Collectives.run(fabric, Collectives.Op.ALL_REDUCE, tpGroups, actBytes, Collectives.Algo.AUTO);
    double tpPerLayer = 2 * tpAr.seconds(); // forward: after o_proj and down_proj; backward: the same two
    double linkBytesPerChip = 0;
    if (tp > 1) {
      coll.add(LlmSystem.describe("tensor-parallel all-reduce (4 per layer per microbatch)", tpAr, 4L * layersPerStage * microbatches));
      linkBytesPerChip += tpAr.linkBytes() / (tpGroups.size() * tp) * 4 * layersPerStage * microbatches;
    }
    double transfer = 0;
    if (pp > 1) {
      Collectives.Result p2p = Collectives.run(fabric, Collectives.Op.SEND_RECV, ppPairs.subList(0, tp), actBytes / tp,
          Collectives.Algo.AUTO);
      transfer = p2p.seconds();
      coll.add(LlmSystem.describe("pipeline send/recv per microbatch and direction (1/tp of the activations per rank)", p2p,
          2L * microbatches));
      linkBytesPerChip += p2p.linkBytes() / tp * 2 * microbatches;
    }
    double paramsPerChip = mem.weights() / (dt.bits() / 8.0);
    double gradBytes = paramsPerChip * dt.bits() / 8;
    double dpTime = 0;
    if (dp > 1) {
      if (zero) {
        Collectives.Result rs = Collectives.run(fabric, Collectives.Op.REDUCE_SCATTER, dpGroups, gradBytes, Collectives.Algo.AUTO);
        Collectives.Result ag = Collectives.run(fabric, Collectives.Op.ALL_GATHER, dpGroups, gradBytes, Collectives.Algo.AUTO);
        dpTime = rs.seconds() + ag.seconds();
        coll.add(LlmSystem.describe("data-parallel gradient reduce-scatter (ZeRO-1)", rs, 1));
        coll.add(LlmSystem.describe("data-parallel parameter all-gather (ZeRO-1)", ag, 1));
        linkBytesPerChip += (rs.linkBytes() + ag.linkBytes()) / (dpGroups.size() * dp);
      } else {
        Collectives.Result ar = Collectives.run(fabric, Collectives.Op.ALL_REDUCE, dpGroups, gradBytes, Collectives.Algo.AUTO);
        dpTime = ar.seconds();
        coll.add(LlmSystem.describe("data-parallel gradient all-reduce", ar, 1));
        linkBytesPerChip += ar.linkBytes() / (dpGroups.size() * dp);
      }
    }
    // Adam update on this chip's optimizer shard: read master, m, v (fp32) and the gradient, write master, m, v
    // and the 16-bit weights: 28 bytes per parameter at sustained HBM bandwidth (composed, not simulated).
    double optParams = paramsPerChip / (zero ? dp : 1);
    double optTime = optParams * 28 / hw.chip().hbm().sustainedBytesPerSecond();

    // 3. The 1F1B pipeline of stages made of simulated layers plus the tensor-parallel all-reduces.
    double[] fwd = new double[pp];
    double[] bwd = new double[pp];
    double[] fwdNoComm = new double[pp];
    double[] bwdNoComm = new double[pp];
    for (int s = 0; s < pp; s++) {
      boolean last = s == pp - 1;
      fwdNoComm[s] = layersPerStage * layerFwd + (last ? headFwd : 0);
      bwdNoComm[s] = layersPerStage * layerBwd + (last ? headBwd : 0);
      fwd[s] = fwdNoComm[s] + layersPerStage * tpPerLayer;
      bwd[s] = bwdNoComm[s] + layersPerStage * tpPerLayer;
    }
    Pipeline1F1B.Schedule sched = Pipeline1F1B.run(fwd, bwd, microbatches, transfer);
    Pipeline1F1B.Schedule noTransfer = Pipeline1F1B.run(fwd, bwd, microbatches, 0);
    int critical = pp - 1; // the last stage carries the LM head, so it is the busiest
    double compute = microbatches * (fwdNoComm[critical] + bwdNoComm[critical]);
    double tpComm = microbatches * 2 * layersPerStage * tpPerLayer;
    // Idle time of the busiest stage; clamp the rounding residue of a bubble-free pipeline (pp = 1) to zero.
    double bubble = Math.max(0, noTransfer.seconds() - compute - tpComm);
    double ppComm = sched.seconds() - noTransfer.seconds();
    double step = sched.seconds() + dpTime + optTime;
    Map<String, Double> breakdown = new LinkedHashMap<>();
    breakdown.put("compute", compute);
    breakdown.put("tp_comm", tpComm);
    breakdown.put("pp_comm", ppComm);
    breakdown.put("pipeline_bubble", bubble);
    breakdown.put("dp_comm", dpTime);
    breakdown.put("optimizer", optTime);
    if (pp > 1) {
      notes.add(String.format(Locale.ROOT, "1F1B: %d stages, %d microbatches: bubble %.1f%% of the pipeline "
          + "(balanced-stage formula (p-1)/(m+p-1) = %.1f%%; the last stage also runs the LM head)",
          pp, microbatches, 100 * bubble / noTransfer.seconds(), 100.0 * (pp - 1) / (microbatches + pp - 1)));
    }
    notes.add("simulated: one " + tp + "-way-sharded layer (forward + backward, " + tokensMb
        + " tokens) and the LM head on one chip; composed: x" + layersPerStage + " layers per stage, x" + microbatches
        + " microbatches, collectives on the " + hw.system().topology().type() + " fabric"
        + (systems > 1 ? " and EFA between " + systems + " systems" : ""));
    notes.add("not overlapped: collectives are on the critical path (no compute/communication overlap); "
        + "embedding lookup, loss and RoPE are not charged; the optimizer step is HBM-bandwidth time");

    double tokens = (double) sequences * seq;
    double peakChip = LlmSystem.peak(hw, dt);
    double attnFlops = 6.0 * m.layers() * seq * m.heads() * m.headDim(); // causal: half of 12 L s d_attn per token
    double modelFlops = (6.0 * (m.parameters() - (double) m.vocab() * m.hidden()) + attnFlops) * tokens;
    double mfu = modelFlops / (step * chips * peakChip);

    Map<String, Double> memory = new LinkedHashMap<>();
    memory.put("weights", mem.weights());
    memory.put("gradients", mem.grads());
    memory.put("optimizer", mem.optimizer());
    memory.put("activations", mem.activations());
    memory.put("total", mem.total());
    memory.put("capacity", capacity);

    // Energy: per kernel (actions + static power over its time) x how often one chip of the last stage runs it,
    // static power for the rest of the step, link bytes x energy per byte; times the chips used.
    double joules = Double.NaN;
    if (energy != null) {
      double perChip = 0;
      double kernelTime = 0;
      for (WorkloadResult part : List.of(layerOnly, head)) {
        for (var s : part.steps()) {
          long times = s.repeat() * (long) microbatches * (part == layerOnly ? layersPerStage : 1);
          perChip += energy.report(s.result().stats(), s.result().timeSeconds()).totalEnergyJ() * times;
          kernelTime += s.result().timeSeconds() * times;
        }
      }
      perChip += energy.staticPowerW() * Math.max(0, step - kernelTime);
      if (energy.table().link() != null) {
        perChip += linkBytesPerChip * energy.energyPj("link.byte") * 1e-12;
      }
      joules = perChip * chips;
    }
    double cost = step * chips * hw.system().pricePerChipHourUsd() / 3600;
    Map<String, Integer> par = new LinkedHashMap<>();
    par.put("tp", tp);
    par.put("pp", pp);
    par.put("dp", dp);
    par.put("microbatches", microbatches);
    par.put("mbs", (int) mbs);
    par.put("systems", systems);
    return new LlmResult(hw.name(), w.toString(), "train", par, defaulted, chips, step, tokens, breakdown, memory, mfu,
        modelFlops, joules, cost, layerOnly, coll, notes);
  }

  /** Forward and backward time of a lowered training workload (backward kernels end in _bwd, _dx, _dw). */
  static double[] forwardBackward(WorkloadResult r) {
    double[] fb = new double[2];
    for (var s : r.steps()) {
      boolean bwd = s.label().endsWith("_bwd") || s.label().endsWith("_dx") || s.label().endsWith("_dw");
      fb[bwd ? 1 : 0] += s.result().timeSeconds() * s.repeat();
    }
    return fb;
  }

}
