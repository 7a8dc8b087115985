package trnsim.isa.lower;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import trnsim.isa.DType;
import trnsim.isa.Program;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * One Llama-style decoder layer on one chip (all its cores), as a sequence of kernels:
 * rmsnorm, QKV projection, attention, output projection, residual add, rmsnorm, gate+up
 * projection, SiLU*mul, down projection, residual add. Prefill runs causal flash attention over
 * {@code seq}; decode runs one token per sequence against a KV cache of {@code ctx}; train runs the
 * prefill forward and then the backward kernels in reverse order (every GEMM's backward is dX = dY
 * W^T and dW = X^T dY, each with the forward's FLOPs; attention backward; element-wise and norm
 * backward kernels modelled by their forward kernels, which move the same bytes).
 *
 * <p>Simplified: no tensor parallelism (the whole layer on one chip), no KV-cache write in decode,
 * RoPE and the softmax scale are not emitted (both fuse into neighbouring kernels on real
 * hardware), SiLU*mul is emitted as the element-wise multiply (the SiLU rides the scalar engine
 * during the multiply's load), and kernel boundaries are full synchronisation points (no fusion
 * across kernels).
 */
public final class LayerLowering {
  private LayerLowering() {}

  public static LoweredWorkload lower(TargetSpec t, WorkloadSpec w, Function<String, ModelShape> models) {
    String name = w.string("model", null);
    String phase = w.choice("phase", null, "prefill", "decode", "train");
    long batch = w.positive("batch", 1L);
    long seq = phase.equals("decode") ? 1 : w.positive("seq", 2048L);
    long ctx = phase.equals("decode") ? w.positive("ctx", 4096L) : 0;
    DType dt = w.dtype("dtype", DType.BF16);
    w.finish();
    ModelShape m = models == null ? null : models.apply(name);
    if (m == null) {
      throw new WorkloadException(w.source(), "layer.model", name, "unknown model" + (models == null ? " (no model table given)" : ""));
    }
    return new LoweredWorkload(w.toString(), steps(t, m, phase, batch, seq, ctx, dt), batch * seq);
  }

  /** The kernels of one layer in execution order. */
  public static List<Step> steps(TargetSpec t, ModelShape m, String phase, long batch, long seq, long ctx, DType dt) {
    int cores = t.cores();
    long tokens = batch * seq;
    long hd = m.headDim();
    long qkvN = (m.heads() + 2L * m.kvHeads()) * hd;
    long attnOut = (long) m.heads() * hd;
    GemmSpec qkv = new GemmSpec(tokens, m.hidden(), qkvN, dt, false, false);
    GemmSpec oProj = new GemmSpec(tokens, attnOut, m.hidden(), dt, false, false);
    GemmSpec gateUp = new GemmSpec(tokens, m.hidden(), 2L * m.ffn(), dt, false, false);
    GemmSpec down = new GemmSpec(tokens, m.ffn(), m.hidden(), dt, false, false);
    Program norm = NormLowering.lower(t, "rmsnorm", tokens, m.hidden(), dt, cores);
    Program residual = StreamLowering.elementwise(t, "add", tokens * m.hidden(), dt, cores);
    Program siluMul = StreamLowering.elementwise(t, "mul", tokens * m.ffn(), dt, cores);
    Program attn;
    AttentionSpec a = null;
    if (phase.equals("decode")) {
      attn = DecodeAttention.lower(t, new AttentionSpec(batch, m.heads(), 1, ctx, hd, m.kvHeads(), false, dt), cores);
    } else {
      a = new AttentionSpec(batch, m.heads(), seq, seq, hd, m.kvHeads(), true, dt);
      attn = AttentionLowering.forward(t, a, cores);
    }
    List<Step> steps = new ArrayList<>();
    steps.add(new Step("rmsnorm_attn", norm, 1, dt));
    steps.add(new Step("qkv_proj", GemmLowering.lower(t, qkv, cores), 1, dt));
    steps.add(new Step(phase.equals("decode") ? "attention_decode" : "attention", attn, 1, dt));
    steps.add(new Step("o_proj", GemmLowering.lower(t, oProj, cores), 1, dt));
    steps.add(new Step("residual_attn", residual, 1, dt));
    steps.add(new Step("rmsnorm_mlp", norm, 1, dt));
    steps.add(new Step("gate_up_proj", GemmLowering.lower(t, gateUp, cores), 1, dt));
    steps.add(new Step("silu_mul", siluMul, 1, dt));
    steps.add(new Step("down_proj", GemmLowering.lower(t, down, cores), 1, dt));
    steps.add(new Step("residual_mlp", residual, 1, dt));
    if (phase.equals("train")) {
      steps.add(new Step("residual_mlp_bwd", residual, 1, dt));
      addGemmBackward(t, steps, "down_proj", down, cores);
      steps.add(new Step("silu_mul_bwd", siluMul, 2, dt));
      addGemmBackward(t, steps, "gate_up_proj", gateUp, cores);
      steps.add(new Step("rmsnorm_mlp_bwd", norm, 1, dt));
      steps.add(new Step("residual_attn_bwd", residual, 1, dt));
      addGemmBackward(t, steps, "o_proj", oProj, cores);
      steps.add(new Step("attention_bwd", AttentionBackward.lower(t, a, cores), 1, dt));
      addGemmBackward(t, steps, "qkv_proj", qkv, cores);
      steps.add(new Step("rmsnorm_attn_bwd", norm, 1, dt));
    }
    return steps;
  }

  /** dX[M,K] = dY[M,N] W^T and dW[K,N] = X^T dY: the same FLOPs as the forward GEMM each. */
  static void addGemmBackward(TargetSpec t, List<Step> steps, String label, GemmSpec g, int cores) {
    GemmSpec dx = new GemmSpec(g.m(), g.n(), g.k(), g.dtype(), false, true);
    GemmSpec dw = new GemmSpec(g.k(), g.m(), g.n(), g.dtype(), true, false);
    steps.add(new Step(label + "_dx", GemmLowering.lower(t, dx, cores), 1, g.dtype()));
    steps.add(new Step(label + "_dw", GemmLowering.lower(t, dw, cores), 1, g.dtype()));
  }
}
