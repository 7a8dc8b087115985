package trnsim.core.system;

import trnsim.core.config.HardwareSpec;
import trnsim.isa.DType;
import trnsim.isa.lower.LayerLowering.Attention;
import trnsim.isa.lower.LayerLowering.Recompute;
import trnsim.isa.lower.LayerLowering.TrainLayer;
import trnsim.isa.lower.ModelShape;
import trnsim.isa.lower.MoeLoad;

/**
 * Lower bounds on the simulated kernel times of a training layer and of the LM head, in closed
 * form and without lowering anything, for the plan search's prune ({@link PlanSearch}). Each
 * kernel the lowering emits takes at least its useful FLOPs at the chip's tensor-engine peak
 * (GEMMs, the attention core) or its compulsory HBM bytes at the HBM's sustained bandwidth, the
 * rate the simulated HBM streams at (norms, residual adds, the MLP activation; zero behind an L2,
 * which may serve part of them); kernels that are cheap or hard to bound (biases, the MoE
 * router's top-k, permutation and combine, latent norms, sliding-window attention) count zero. A
 * clock lowered by a power limit only makes the simulated kernels slower. The bound of each part
 * (forward, backward, recompute) is at most the simulated part, the property the prune needs
 * ({@code PlanSearchTest} checks it against the simulation on every plan of several models).
 */
final class StepBound {
  private final double bytesPerSecond;
  private final HardwareSpec hw;

  StepBound(HardwareSpec hw) {
    this.hw = hw;
    // the simulated HBM streams at its sustained rate; behind an L2 (the GPUs) part of a kernel's traffic may hit in
    // it, so there the bytes bound nothing
    this.bytesPerSecond = hw.chip().l2() == null ? hw.chip().hbm().sustainedBytesPerSecond() : Double.POSITIVE_INFINITY;
  }

  /** Seconds of {@code flops} at the tensor engine's peak for {@code dt}. */
  private double flops(double flops, DType dt) {
    return flops / LlmSystem.peak(hw, dt);
  }

  /** Seconds of {@code elements} x {@code touches} elements of {@code dt} through HBM at its sustained rate. */
  private double bytes(double elements, int touches, DType dt) {
    return elements * touches * dt.bits() / 8.0 / bytesPerSecond;
  }

  /** A GEMM: its FLOPs at the peak, or reading both operands and writing the product once, whichever is longer. */
  private double gemm(double m, double k, double n, DType dt) {
    return Math.max(flops(2 * m * k * n, dt), bytes(m * k + k * n + m * n, 1, dt));
  }

  /**
   * One layer of one microbatch on one chip ({@code m} the chip's shard, as the lowering gets it);
   * {@code load} the MoE layer's load (null: a dense MLP); {@code cp} context-parallel ranks (the
   * attention core is charged cp times, as {@link LlmTraining#contextParallel} does);
   * {@code windowed}: a sliding-window layer (its attention core counts zero).
   */
  LlmTraining.Times layer(ModelShape m, TrainLayer o, DType dt, MoeLoad load, int cp, boolean windowed) {
    DType gemm = o.gemmDtype() == null ? dt : o.gemmDtype();
    double tokens = (double) o.batch() * o.seq();
    double hidden = m.hidden();
    double projections = projections(m, tokens, gemm);
    double attnOut = (double) m.heads() * (m.attention().mla() != null ? m.attention().mla().vDim() : m.headDim());
    double oProj = gemm(tokens, attnOut, hidden, gemm);
    double attention = windowed ? 0 : cp * attentionForward(m, o, dt);
    // two norms (read and write) and two residual adds (two reads, one write) over the norm tokens
    double elementwise = 2 * bytes(o.normTokens() * hidden, 2, dt) + 2 * bytes(o.normTokens() * hidden, 3, dt);
    double mlp = mlpForward(m, tokens, gemm, dt, load);
    double fwd = projections + attention + oProj + elementwise + mlp;
    double attentionBwd = windowed ? 0 : cp * attentionBackward(m, o, dt);
    double bwd = 2 * (projections + oProj) + attentionBwd + elementwise + mlpBackward(m, tokens, gemm, dt, load);
    double recompute = switch (o.recompute()) {
      case FULL -> fwd;
      case SELECTIVE_MLP -> mlp;
      default -> o.attention() != Attention.FLASH && o.recompute() == Recompute.SELECTIVE ? attention : 0;
    };
    return new LlmTraining.Times(fwd, bwd, recompute);
  }

  /** The projections into attention: the fused QKV GEMM, or latent attention's four. */
  private double projections(ModelShape m, double tokens, DType gemm) {
    ModelShape.Mla mla = m.attention().mla();
    if (mla == null) {
      return gemm(tokens, m.hidden(), (double) (m.heads() + 2L * m.kvHeads()) * m.headDim(), gemm);
    }
    double qIn = mla.qLoraRank() > 0 ? mla.qLoraRank() : m.hidden();
    double t = mla.qLoraRank() > 0 ? gemm(tokens, m.hidden(), mla.qLoraRank(), gemm) : 0;
    t += gemm(tokens, qIn, (double) m.heads() * mla.qkDim(), gemm);
    t += gemm(tokens, m.hidden(), mla.kvLoraRank() + mla.qkRopeDim(), gemm);
    return t + gemm(tokens, mla.kvLoraRank(), (double) m.heads() * (mla.qkNopeDim() + mla.vDim()), gemm);
  }

  /** Head width the attention kernels run at (latent attention: the mean of its key and value widths). */
  private static double attentionWidth(ModelShape m) {
    ModelShape.Mla mla = m.attention().mla();
    return mla == null ? m.headDim() : (mla.qkDim() + mla.vDim()) / 2;
  }

  /**
   * QK^T and PV over the causal half of the scores (a flash kernel skips the masked blocks; eager
   * attention computes every score, twice these FLOPs).
   */
  private double attentionForward(ModelShape m, TrainLayer o, DType dt) {
    double scores = (double) o.batch() * m.heads() * o.seq() * o.seq() * attentionWidth(m);
    return flops((o.attention() == Attention.FLASH ? 2 : 4) * scores, dt);
  }

  /** Flash backward: five products over the causal half (2.5x the forward); eager: four GEMMs over every score. */
  private double attentionBackward(ModelShape m, TrainLayer o, DType dt) {
    double scores = (double) o.batch() * m.heads() * o.seq() * o.seq() * attentionWidth(m);
    return flops((o.attention() == Attention.FLASH ? 5 : 8) * scores, dt);
  }

  private double mlpForward(ModelShape m, double tokens, DType gemm, DType dt, MoeLoad load) {
    boolean gated = m.mlp() == ModelShape.Mlp.SWIGLU;
    if (load == null) {
      double up = gemm(tokens, m.hidden(), (gated ? 2.0 : 1.0) * m.ffn(), gemm);
      double down = gemm(tokens, m.ffn(), m.hidden(), gemm);
      return up + down + bytes(tokens * m.ffn(), gated ? 3 : 2, dt);
    }
    return moe(m, tokens, dt, load);
  }

  private double mlpBackward(ModelShape m, double tokens, DType gemm, DType dt, MoeLoad load) {
    boolean gated = m.mlp() == ModelShape.Mlp.SWIGLU;
    if (load == null) {
      double gemms = 2 * (gemm(tokens, m.hidden(), (gated ? 2.0 : 1.0) * m.ffn(), gemm) + gemm(tokens, m.ffn(), m.hidden(), gemm));
      // the gated activation's backward is two passes of the forward's bytes; GELU's one binary pass
      return gemms + (gated ? 2 : 1) * bytes(tokens * m.ffn(), 3, dt);
    }
    return 2 * moe(m, tokens, dt, load);
  }

  /** The MoE block's GEMMs (router, the busiest rank's expert pairs, shared experts) at the layer's type, as the lowering runs them. */
  private double moe(ModelShape m, double tokens, DType dt, MoeLoad load) {
    var e = m.moe();
    boolean gated = m.mlp() == ModelShape.Mlp.SWIGLU;
    double experts = gemm(load.pairs(), m.hidden(), m.mlp().matrices() * (double) e.expertFfn(), dt);
    double shared = e.sharedFfn() > 0 ? gemm(tokens, m.hidden(), (gated ? 3.0 : 2.0) * e.sharedFfn(), dt) : 0;
    return gemm(tokens, m.hidden(), e.experts(), dt) + experts + shared;
  }

  /**
   * The LM head of {@code tokens} tokens over {@code vocabCols} vocabulary columns with its loss:
   * the forward GEMM and the softmax's read and write of the logits, then the loss backward's pass
   * and the two backward GEMMs.
   */
  LlmTraining.Times head(long tokens, long hidden, long vocabCols, DType dt) {
    double g = gemm(tokens, hidden, vocabCols, dt);
    double logits = bytes((double) tokens * vocabCols, 2, dt);
    return new LlmTraining.Times(g + logits, 2 * g + logits, 0);
  }
}
