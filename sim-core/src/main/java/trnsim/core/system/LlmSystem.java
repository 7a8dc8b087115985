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

/**
 * Distributed LLM workloads on a whole system, scaled by structure: one chip of a tensor-parallel
 * group runs one decoder layer's kernels at instruction level ({@link LayerLowering} with the
 * layer's weights split {@code tp} ways, simulated by {@link WorkloadRunner}, which memoises
 * identical kernels); every other chip of the system does the same work (SPMD symmetry), so a stage
 * is that layer times its layer count; collectives (tensor-parallel all-reduces, pipeline
 * send/recv, data-parallel gradient reduce-scatter and parameter all-gather) run on the
 * system's {@link Fabric}; the pipeline follows the {@link Pipeline1F1B} schedule.
 *
 * <p>Workload kinds: {@code llm-train:model=,[tp=,pp=,dp=,microbatches=,mbs=,seq=,global_batch=,zero=,dtype=,systems=,plan=,vpp=,cp=,fp8=]}
 * and {@code llm-infer:model=,[phase=prefill|decode|generate,batch=,prompt=,output=,max_seq=,buckets=,tpot=,ctx=,tp=,lnc=,dtype=,weights=]}; MoE models also take {@code ep=,imbalance=,capacity=}
 * ({@link LlmInference}).
 */
public final class LlmSystem {
  /** Workload kinds this class handles. */
  public static final List<String> KINDS = List.of("llm-train", "llm-infer");

  /** Share of HBM a plan may use; the rest is left to the runtime, code and fragmentation. */
  public static final double HBM_USABLE = 0.9;

  private LlmSystem() {}

  public static boolean handles(String kind) {
    return KINDS.contains(kind);
  }

  public static LlmResult run(HardwareSpec hw, WorkloadSpec w, Function<String, ModelShape> models, EnergyModel energy,
      RunOptions opts) {
    if (hw.system().mixed()) {
      throw new WorkloadException(w.source(), w.kind(), hw.name(), "is a mixed domain (system.groups); run it through run or compare");
    }
    try {
      return w.kind().equals("llm-train") ? LlmTraining.train(hw, w, models, energy, opts) : LlmInference.infer(hw, w, models, energy, opts);
    } catch (ProgramException e) {
      throw new WorkloadException(w.source(), w.kind(), w.toString(), e.getMessage());
    }
  }


  /**
   * A system workload on {@code domain}: one chip design as {@link #run}; a mixed domain places the
   * step's parts on its groups ({@link Placement}): llm-train as a pipeline across the groups
   * ({@link MixedTraining}), llm-infer as prefill on one group and decode on another
   * ({@link MixedInference}). {@code energy} gives each group's energy model (null: none).
   */
  public static LlmResult run(Domain domain, WorkloadSpec w, Function<String, ModelShape> models,
      Function<Domain.Group, EnergyModel> energy, RunOptions opts) {
    if (!(domain instanceof Domain.Mixed mx)) {
      return run(domain.hw(), w, models, null, opts);
    }
    try {
      return w.kind().equals("llm-train") ? MixedTraining.train(mx, w, models, energy, opts) : MixedInference.infer(mx, w, models, energy, opts);
    } catch (ProgramException e) {
      throw new WorkloadException(w.source(), w.kind(), w.toString(), e.getMessage());
    }
  }

  /** The domain of {@code hw}, reading each group's config with {@code configs} (by name). */
  public static Domain domain(HardwareSpec hw, Function<String, HardwareSpec> configs) {
    return Domain.of(hw, configs);
  }

  /** Trace process of a system step's breakdown. */
  public static final int STEP_PID = 2000;

  /**
   * Draws a step's time breakdown on its own track: the parts in report order, end to end, so the
   * track spans the step time. The parts are totals, not a schedule (compute and communication
   * interleave on real hardware); the simulated kernels of one layer are drawn in detail on the chip
   * tracks from t=0.
   */
  public static void traceStep(LlmResult r, trnsim.core.trace.TraceSink out) {
    out.processName(STEP_PID, "step " + r.workload() + " (parts as totals, in order)");
    out.trackName(STEP_PID, 0, "breakdown");
    long at = 0;
    for (var e : r.breakdown().entrySet()) {
      long ticks = Math.round(e.getValue() * trnsim.core.engine.Simulation.TICKS_PER_SECOND);
      if (ticks > 0) {
        out.slice(STEP_PID, 0, e.getKey(), at, at + ticks);
        at += ticks;
      }
    }
  }

  static long layerParams(ModelShape m) {
    return m.layerParameters();
  }


  static ModelShape shard(ModelShape m, int tp) {
    return m.withWidths(m.name() + "/tp" + tp, m.heads() / tp, Math.max(1, m.kvHeads() / tp), m.ffn() / tp, m.vocab());
  }

  static String tpProblem(ModelShape m, int tp) {
    if (m.heads() % tp != 0) {
      return "must divide the model's " + m.heads() + " attention heads";
    }
    if (m.ffn() % tp != 0) {
      return "must divide the model's ffn width " + m.ffn();
    }
    if (m.isMoe() && (m.moe().expertFfn() % tp != 0 || m.moe().sharedFfn() % tp != 0)) {
      return "must divide the model's expert width " + m.moe().expertFfn() + (m.moe().sharedFfn() > 0 ? " and shared-expert width "
          + m.moe().sharedFfn() : "");
    }
    if (tp > m.kvHeads() && tp % m.kvHeads() != 0) {
      return "must be a multiple or a divisor of the model's " + m.kvHeads() + " kv heads";
    }
    return null;
  }

  /** The LM head (hidden x vocab/tp): forward, and for training its two backward GEMMs. */
  static List<Step> headSteps(TargetSpec t, long tokens, ModelShape m, int tp, DType dt, boolean train) {
    long vocab = ceilDiv(m.vocab(), tp);
    GemmSpec g = new GemmSpec(tokens, m.hidden(), vocab, dt, false, false);
    List<Step> steps = new ArrayList<>();
    steps.addAll(GemmLowering.steps(t, "lm_head", g, t.cores(), 1));
    if (train) {
      steps.addAll(GemmLowering.steps(t, "lm_head_dx", new GemmSpec(tokens, vocab, m.hidden(), dt, false, true), t.cores(), 1));
      steps.addAll(GemmLowering.steps(t, "lm_head_dw", new GemmSpec(m.hidden(), tokens, vocab, dt, true, false), t.cores(), 1));
    }
    return steps;
  }

  /** An optional positive count: null when absent (the key still counts as known for error messages). */
  static Integer optional(WorkloadSpec w, String key) {
    long v = w.positive(key, 0L);
    if (v > Integer.MAX_VALUE) {
      throw new WorkloadException(w.source(), w.kind() + "." + key, String.valueOf(v), "too large");
    }
    return v == 0 ? null : (int) v;
  }

  static double peak(HardwareSpec hw, DType dt) {
    var t = hw.chip().core().tensor();
    return 2.0 * t.rows() * t.cols() * t.clock().hertz() * t.dtypeRates().getOrDefault(dt.rateKey(), 1.0) * hw.chip().cores();
  }

  static String describe(String what, Collectives.Result r, long perStep) {
    if (r.ranks() <= 1) {
      // a group of one rank exchanges nothing: no time, and no bandwidth to speak of (not "Infinity")
      return String.format(Locale.ROOT, "%s: none (one rank per group: nothing to exchange), x%d per step", what, perStep);
    }
    return String.format(Locale.ROOT, "%s: %s over %d ranks x %d groups, %.2f MiB, %s each, x%d per step, algbw %.1f GB/s, busbw %.1f GB/s",
        what, r.algo().label(), r.ranks(), r.groups(), r.bytes() / (1 << 20), seconds(r.seconds()), perStep,
        r.algBandwidth() / 1e9, r.busBandwidth() / 1e9);
  }

  static String seconds(double s) {
    return s >= 1e-3 ? String.format(Locale.ROOT, "%.3f ms", s * 1e3) : String.format(Locale.ROOT, "%.1f us", s * 1e6);
  }

  static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  static final double GIB = 1L << 30;
}
