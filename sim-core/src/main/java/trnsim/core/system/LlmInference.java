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


/** {@code llm-infer}: prefill or decode of a tensor-parallel model (see {@link LlmSystem}). */
final class LlmInference {
  private LlmInference() {}

  static LlmResult infer(HardwareSpec hw, WorkloadSpec w, Function<String, ModelShape> models, EnergyModel energy,
      RunOptions opts) {
    String name = w.string("model", null);
    String phase = w.choice("phase", "decode", "prefill", "decode");
    long batch = w.positive("batch", 8L);
    long ctx = w.positive("ctx", 4096L);
    DType dt = w.dtype("dtype", DType.BF16);
    Integer tpGiven = LlmSystem.optional(w, "tp");
    w.finish();
    ModelShape m = models.apply(name);
    String src = w.source();
    int total = hw.totalChips();
    double capacity = hw.chip().hbm().capacity().bytes();
    double wbytes = dt.bits() / 8.0;
    if (tpGiven != null && LlmSystem.tpProblem(m, tpGiven) != null) {
      throw new WorkloadException(src, "llm-infer.tp", tpGiven.toString(), LlmSystem.tpProblem(m, tpGiven));
    }
    if (tpGiven != null && tpGiven > total) {
      throw new WorkloadException(src, "llm-infer.tp", tpGiven.toString(), hw.name() + " has " + total + " chips");
    }
    int tp = -1;
    double need = 0;
    for (int t = 1; t <= total; t *= 2) {
      if (tpGiven != null && t != tpGiven || LlmSystem.tpProblem(m, t) != null) {
        continue;
      }
      need = inferMemory(m, t, batch, ctx, wbytes);
      if (need <= LlmSystem.HBM_USABLE * capacity) {
        tp = t;
        break;
      }
    }
    if (tpGiven != null && tp < 0) {
      throw new WorkloadException(src, "llm-infer.tp", tpGiven.toString(), String.format(Locale.ROOT,
          "does not fit in HBM: %.1f GiB per chip (weights + KV cache) but %s has %.0f GiB (%.0f%% usable)",
          inferMemory(m, tpGiven, batch, ctx, wbytes) / LlmSystem.GIB, hw.name(), capacity / LlmSystem.GIB, 100 * LlmSystem.HBM_USABLE));
    }
    if (tp < 0) {
      int maxTp = 1;
      while (maxTp * 2 <= total && LlmSystem.tpProblem(m, maxTp * 2) == null) {
        maxTp *= 2;
      }
      throw new WorkloadException(src, "llm-infer.model", name, String.format(Locale.ROOT,
          "does not fit in HBM: needs %.1f GiB per chip (weights + KV cache for batch %d x ctx %d) even at tp=%d, "
              + "but %s has %.0f GiB per chip (%.0f%% usable); use a larger system or a smaller batch / ctx",
          inferMemory(m, maxTp, batch, ctx, wbytes) / LlmSystem.GIB, batch, ctx, maxTp, hw.name(), capacity / LlmSystem.GIB, 100 * LlmSystem.HBM_USABLE));
    }
    List<String> defaulted = tpGiven == null ? List.of("tp") : List.of();
    int replicas = total / tp;
    Fabric fabric = new Fabric(hw.system(), 1);
    TargetSpec target = Targets.of(hw);
    ModelShape shard = LlmSystem.shard(m, tp);
    boolean prefill = phase.equals("prefill");
    List<Step> layerSteps = LayerLowering.steps(target, shard, phase, batch, prefill ? ctx : 1, prefill ? 0 : ctx, dt);
    WorkloadResult layer = WorkloadRunner.run(hw, new LoweredWorkload("llm-infer layer (one chip)", layerSteps,
        batch * (prefill ? ctx : 1)), opts);
    WorkloadResult head = WorkloadRunner.run(hw, new LoweredWorkload("lm head", LlmSystem.headSteps(target, batch, m, tp, dt, false), batch), opts);
    List<List<Integer>> groups = new ArrayList<>();
    for (int r = 0; r < replicas; r++) {
      List<Integer> g = new ArrayList<>();
      for (int t = 0; t < tp; t++) {
        g.add(r * tp + t);
      }
      groups.add(g);
    }
    double arBytes = batch * (prefill ? ctx : 1) * m.hidden() * wbytes;
    Collectives.Result ar = Collectives.run(fabric, Collectives.Op.ALL_REDUCE, groups, arBytes, Collectives.Algo.AUTO);
    List<String> coll = new ArrayList<>();
    double comm = 0;
    if (tp > 1) {
      comm = 2.0 * m.layers() * ar.seconds();
      coll.add(LlmSystem.describe("tensor-parallel all-reduce (2 per layer)", ar, 2L * m.layers()));
    }
    double compute = m.layers() * layer.timeSeconds() + head.timeSeconds();
    double step = compute + comm;
    Map<String, Double> breakdown = new LinkedHashMap<>();
    breakdown.put("compute", compute);
    breakdown.put("tp_comm", comm);
    int chips = tp * replicas;
    double tokens = (double) batch * (prefill ? ctx : 1) * replicas;
    double modelFlops = 2.0 * (m.parameters() - (double) m.vocab() * m.hidden()) * tokens;
    double mfu = modelFlops / (step * chips * LlmSystem.peak(hw, dt));
    Map<String, Double> memory = new LinkedHashMap<>();
    memory.put("weights", weightsPerChip(m, tp) * wbytes);
    memory.put("kv_cache", kvPerChip(m, tp, batch, ctx, wbytes));
    memory.put("total", inferMemory(m, tp, batch, ctx, wbytes));
    memory.put("capacity", capacity);
    double joules = Double.NaN;
    if (energy != null) {
      double perChip = 0;
      double kernelTime = 0;
      for (var s : layer.steps()) {
        perChip += energy.report(s.result().stats(), s.result().timeSeconds()).totalEnergyJ() * s.repeat() * m.layers();
        kernelTime += s.result().timeSeconds() * s.repeat() * m.layers();
      }
      for (var s : head.steps()) {
        perChip += energy.report(s.result().stats(), s.result().timeSeconds()).totalEnergyJ() * s.repeat();
        kernelTime += s.result().timeSeconds() * s.repeat();
      }
      perChip += energy.staticPowerW() * Math.max(0, step - kernelTime);
      if (energy.table().link() != null && tp > 1) {
        perChip += ar.linkBytes() / (groups.size() * tp) * 2 * m.layers() * energy.energyPj("link.byte") * 1e-12;
      }
      joules = perChip * chips;
    }
    double cost = step * chips * hw.system().pricePerChipHourUsd() / 3600;
    List<String> notes = new ArrayList<>();
    notes.add("simulated: one " + tp + "-way-sharded " + phase + " layer (batch " + batch + ", " + (prefill ? "prompt " : "KV context ")
        + ctx + ") and the LM head on one chip; composed: x" + m.layers() + " layers, x" + replicas
        + " independent replicas of " + tp + " chips");
    notes.add(prefill ? "time = time to first token of the batch" : "time = time per output token (one decode step); KV-cache writes are not charged");
    Map<String, Integer> par = new LinkedHashMap<>();
    par.put("tp", tp);
    par.put("pp", 1);
    par.put("dp", replicas);
    par.put("batch", (int) batch);
    par.put("ctx", (int) ctx);
    return new LlmResult(hw.name(), w.toString(), phase, par, defaulted, chips, step, tokens, breakdown, memory, mfu,
        modelFlops, joules, cost, layer, coll, notes);
  }


  static double weightsPerChip(ModelShape m, int tp) {
    return ((double) LlmSystem.layerParams(m) * m.layers() + 2.0 * m.vocab() * m.hidden()) / tp;
  }

  static double kvPerChip(ModelShape m, int tp, long batch, long ctx, double wbytes) {
    return 2.0 * m.layers() * Math.max(1, m.kvHeads() / tp) * m.headDim() * batch * ctx * wbytes;
  }

  static double inferMemory(ModelShape m, int tp, long batch, long ctx, double wbytes) {
    return weightsPerChip(m, tp) * wbytes + kvPerChip(m, tp, batch, ctx, wbytes);
  }

}
