package trnsim.isa.lower;

import java.util.ArrayList;
import java.util.List;
import trnsim.isa.DType;
import trnsim.isa.target.TargetSpec;

/**
 * The MLP block of a mixture-of-experts layer on one chip, as a training framework runs it
 * (token-major activations, {@link GemmLowering}): the router GEMM ({@code hidden x experts}, every
 * rank holds the whole router), the top-k selection (one pass over the router logits: softmax or
 * sigmoid and the selection ride together), the permutation of the tokens into expert order (one
 * copy of the dispatched activations), the routed experts as a grouped GEMM (one GEMM per active
 * local expert, {@link MoeLoad}), the weighted combine of each token's top-k outputs (one pass over
 * them), and the shared experts as a dense MLP over every token. The dispatch and combine
 * all-to-alls between expert-parallel ranks are not kernels of the chip: the caller charges them on
 * the fabric, between the permutation and the experts and after them.
 *
 * <p>Simplified: the grouped GEMM runs as separate GEMMs of equal size (a grouped-GEMM kernel
 * would pack the uneven ones; with {@link MoeLoad.Routing#imbalance} the busiest rank's share is
 * spread evenly over its active experts); the router's load-balancing loss and the routing
 * weights' normalisation are not charged.
 */
public final class MoeLowering {
  private MoeLowering() {}

  /**
   * Forward kernels of the MoE MLP block for {@code tokens} tokens on the chip; {@code m} is the
   * chip's shard (its {@code moe().expertFfn()} and {@code moe().sharedFfn()} already divided by
   * the tensor-parallel degree).
   */
  public static List<Step> forward(TargetSpec t, ModelShape m, MoeLoad load, long tokens, DType dt) {
    int cores = t.cores();
    var moe = m.moe();
    boolean gated = m.mlp() == ModelShape.Mlp.SWIGLU;
    long f = moe.expertFfn();
    List<Step> steps = new ArrayList<>();
    steps.addAll(GemmLowering.steps(t, "router", router(m, tokens, dt), cores, 1));
    steps.add(new Step("router_topk", StreamLowering.elementwise(t, "exp", tokens * moe.experts(), dt, cores), 1, dt));
    steps.add(new Step("moe_permute", StreamLowering.copy(t, dt.bytes(tokens * moe.topK() * m.hidden()), cores), 1, dt));
    steps.addAll(GemmLowering.steps(t, gated ? "expert_gate_up" : "expert_up", expertUp(m, load, dt), cores, load.activeExperts()));
    steps.add(new Step(gated ? "expert_silu_mul" : "expert_gelu",
        StreamLowering.elementwise(t, gated ? "mul" : "gelu", load.pairs() * f, dt, cores), 1, dt));
    steps.addAll(GemmLowering.steps(t, "expert_down", expertDown(m, load, dt), cores, load.activeExperts()));
    steps.add(new Step("moe_combine", StreamLowering.elementwise(t, "mul", tokens * moe.topK() * m.hidden(), dt, cores), 1, dt));
    if (moe.sharedFfn() > 0) {
      long s = moe.sharedFfn();
      steps.addAll(GemmLowering.steps(t, "shared_gate_up", new GemmSpec(tokens, m.hidden(), (gated ? 2 : 1) * s, dt, false, false), cores, 1));
      steps.add(new Step("shared_silu_mul", StreamLowering.elementwise(t, "mul", tokens * s, dt, cores), 1, dt));
      steps.addAll(GemmLowering.steps(t, "shared_down", new GemmSpec(tokens, s, m.hidden(), dt, false, false), cores, 1));
    }
    return steps;
  }

  /**
   * Backward kernels in reverse order: the combine's backward, each expert GEMM's dX and dW (the
   * forward's FLOPs each), the activation backward (two passes, as the dense MLP's), the
   * permutation's inverse, the router's dX and dW and the top-k's backward; the shared experts'
   * backward. {@code recomputeActivation}: the experts' activation is rerun first (selective).
   */
  public static List<Step> backward(TargetSpec t, ModelShape m, MoeLoad load, long tokens, DType dt, boolean recomputeActivation) {
    int cores = t.cores();
    var moe = m.moe();
    boolean gated = m.mlp() == ModelShape.Mlp.SWIGLU;
    long f = moe.expertFfn();
    List<Step> steps = new ArrayList<>();
    if (moe.sharedFfn() > 0) {
      long s = moe.sharedFfn();
      LayerLowering.addGemmBackward(t, steps, "shared_down", new GemmSpec(tokens, s, m.hidden(), dt, false, false), cores);
      steps.add(new Step("shared_silu_mul_bwd", StreamLowering.elementwise(t, "mul", tokens * s, dt, cores), 2, dt));
      LayerLowering.addGemmBackward(t, steps, "shared_gate_up", new GemmSpec(tokens, m.hidden(), (gated ? 2 : 1) * s, dt, false, false),
          cores);
    }
    steps.add(new Step("moe_combine_bwd", StreamLowering.elementwise(t, "mul", tokens * moe.topK() * m.hidden(), dt, cores), 1, dt));
    addRepeatedBackward(t, steps, "expert_down", expertDown(m, load, dt), load.activeExperts(), cores);
    if (recomputeActivation && gated) {
      steps.add(new Step("expert_silu_mul" + LayerLowering.RECOMPUTE, StreamLowering.elementwise(t, "mul", load.pairs() * f, dt, cores), 1,
          dt));
    }
    steps.add(new Step(gated ? "expert_silu_mul_bwd" : "expert_gelu_bwd", StreamLowering.elementwise(t, "mul", load.pairs() * f, dt, cores),
        gated ? 2 : 1, dt));
    addRepeatedBackward(t, steps, gated ? "expert_gate_up" : "expert_up", expertUp(m, load, dt), load.activeExperts(), cores);
    steps.add(new Step("moe_permute_bwd", StreamLowering.copy(t, dt.bytes(tokens * moe.topK() * m.hidden()), cores), 1, dt));
    steps.add(new Step("router_topk_bwd", StreamLowering.elementwise(t, "mul", tokens * moe.experts(), dt, cores), 1, dt));
    LayerLowering.addGemmBackward(t, steps, "router", router(m, tokens, dt), cores);
    return steps;
  }

  static GemmSpec router(ModelShape m, long tokens, DType dt) {
    return new GemmSpec(tokens, m.hidden(), m.moe().experts(), dt, false, false);
  }

  static GemmSpec expertUp(ModelShape m, MoeLoad load, DType dt) {
    long n = (m.mlp() == ModelShape.Mlp.SWIGLU ? 2L : 1L) * m.moe().expertFfn();
    return new GemmSpec(load.tokensPerExpert(), m.hidden(), n, dt, false, false);
  }

  static GemmSpec expertDown(ModelShape m, MoeLoad load, DType dt) {
    return new GemmSpec(load.tokensPerExpert(), m.moe().expertFfn(), m.hidden(), dt, false, false);
  }

  /** dX and dW of a GEMM run {@code times} times (one per active expert). */
  static void addRepeatedBackward(TargetSpec t, List<Step> steps, String label, GemmSpec g, long times, int cores) {
    GemmSpec dx = new GemmSpec(g.m(), g.n(), g.k(), g.dtype(), false, true);
    GemmSpec dw = new GemmSpec(g.k(), g.m(), g.n(), g.dtype(), true, false);
    steps.addAll(GemmLowering.steps(t, label + "_dx", dx, cores, times));
    steps.addAll(GemmLowering.steps(t, label + "_dw", dw, cores, times));
  }

  /** Model FLOPs of the block's forward over {@code tokens} tokens (router, top-k experts, shared experts): the closed form tests check. */
  public static double forwardFlops(ModelShape m, long tokens) {
    var moe = m.moe();
    double perExpert = (double) m.mlp().matrices() * m.hidden() * moe.expertFfn();
    double shared = (double) m.mlp().matrices() * m.hidden() * moe.sharedFfn();
    return 2.0 * tokens * ((double) m.hidden() * moe.experts() + moe.topK() * perExpert + shared);
  }
}
