package trnsim.core.system;

import trnsim.isa.lower.LayerLowering.Attention;
import trnsim.isa.lower.LayerLowering.Recompute;
import trnsim.isa.lower.ModelShape;

/**
 * Memory of one training rank, in closed form, and of a chip (the ranks it holds). Parameters and
 * their training state follow the {@link Precision}; activations follow Korthikanti et al. 2022
 * ("Reducing Activation Recomputation in Large Transformer Models", section 4), generalised from
 * GPT's GELU/LayerNorm layer with dropout to the layer's actual tensors:
 *
 * <ul>
 *   <li>outside the tensor-parallel region (replicated, or {@code / tp} under sequence
 *       parallelism): the two norm inputs, the QKV input and the MLP input (16-bit each), and with
 *       dropout the two residual-dropout masks (1 byte per element);
 *   <li>inside (already {@code / tp}: the rank's heads and MLP columns): Q, K and V; the attention
 *       core (eager: the softmax output, with dropout also its mask and output, {@code a s^2} each;
 *       flash: only the fp32 log-sum-exp per row, the scores are never stored); the output
 *       projection's input; the MLP (GELU: its input and output; SwiGLU: gate, up, SiLU(gate) and
 *       the product).
 * </ul>
 *
 * For GPT with dropout and eager attention this is Korthikanti's {@code s b h (10 + 24/t + 5 a s / (h t))}
 * bytes per layer (and {@code 34/t + 5as/(ht)} with sequence parallelism), which the tests check.
 * Selective recomputation drops the attention core (eager; a flash kernel keeps only its
 * statistics anyway) and SwiGLU's SiLU(gate); selective-mlp also the whole MLP block's inside
 * tensors; full recomputation keeps only each layer's input,
 * plus one layer's full set while that layer runs its backward. 1F1B keeps {@code min(p, m)}
 * microbatches in flight on the first stage.
 *
 * <p>Not counted: the LM head's logits and the loss's fp32 softmax (one microbatch at a time), the
 * runtime's own buffers (the 10% of HBM a plan may not use covers them), fragmentation.
 */
final class TrainMemory {
  private TrainMemory() {}

  /** Memory per chip, in bytes. */
  record Memory(double weights, double grads, double optimizer, double activations) {
    double total() {
      return weights + grads + optimizer + activations;
    }

    Memory times(double k) {
      return new Memory(weights * k, grads * k, optimizer * k, activations * k);
    }
  }

  /** What the activation memory depends on besides the shape. */
  record Activations(long mbs, long seq, boolean sp, Recompute recompute, Attention attention, boolean dropout, double bytes) {}

  /**
   * Activation bytes one rank keeps for one layer and one microbatch without recomputation ({@code
   * recompute = NONE}) or with the given recomputation's drops applied.
   *
   * @param rank the rank's shard of the model (its heads, kv heads, MLP columns; hidden is whole)
   */
  static double layerActivations(ModelShape rank, int tp, Activations a, Recompute r) {
    double tokens = (double) a.mbs() * a.seq();
    double h = rank.hidden();
    double b = a.bytes();
    double outside = a.sp() ? 1.0 / tp : 1.0;
    if (r == Recompute.FULL) {
      return tokens * h * b * outside; // the layer's input only
    }
    double out = (4 * tokens * h * b + (a.dropout() ? 2 * tokens * h : 0)) * outside;
    double q = (double) rank.heads() * rank.headDim();
    double kv = (double) rank.kvHeads() * rank.headDim();
    double in = tokens * (q + 2 * kv) * b + tokens * q * b;
    double core;
    if (a.attention() == Attention.FLASH) {
      core = 4 * tokens * rank.heads();
    } else {
      core = r.selective() ? 0
          : (double) a.mbs() * rank.heads() * a.seq() * a.seq() * (b + (a.dropout() ? 1 + b : 0));
    }
    // a MoE layer keeps its tokens' top-k expert activations (and shared experts'), plus the permuted inputs and outputs
    double f = rank.isMoe() ? (double) rank.moe().topK() * rank.moe().expertFfn() + rank.moe().sharedFfn() : rank.ffn();
    if (rank.isMoe()) {
      out += 2.0 * tokens * rank.moe().topK() * h * b;
    }
    double mlp;
    if (r == Recompute.SELECTIVE_MLP) {
      mlp = 0; // the block reruns from its input (counted outside)
    } else if (rank.mlp() == ModelShape.Mlp.SWIGLU) {
      mlp = (r == Recompute.SELECTIVE ? 3 : 4) * tokens * f * b;
    } else {
      mlp = 2 * tokens * f * b;
    }
    return out + in + core + mlp;
  }

  /** Activation bytes one rank of a stage keeps at its peak. */
  static double stageActivations(ModelShape rank, int tp, Activations a, int layers, int inFlight) {
    double kept = layerActivations(rank, tp, a, a.recompute()) * layers * inFlight;
    if (a.recompute() == Recompute.FULL) {
      kept += layerActivations(rank, tp, a, Recompute.NONE); // the layer being recomputed
    }
    return kept;
  }

  /**
   * Parameters one rank of a stage holds: its layers' shards, the embedding shard on the first stage,
   * the final norm and the LM head shard on the last (a tied head shares the embedding when both
   * are on one stage; on a separate last stage it is a copy, as Megatron-LM keeps one).
   */
  static double stageParams(ModelShape model, ModelShape rank, int layers, boolean first, boolean last, boolean onlyStage) {
    return stageParams(model, rank, layers, first, last, onlyStage, rank.layerParameters());
  }

  /** As above with the rank's parameters per layer given (a MoE rank holds only its local experts). */
  static double stageParams(ModelShape model, ModelShape rank, int layers, boolean first, boolean last, boolean onlyStage,
      double layerParams) {
    double p = layers * layerParams;
    double table = (double) rank.vocab() * rank.hidden();
    if (first) {
      p += table + (model.positions() == ModelShape.Positions.LEARNED ? (double) model.maxPositions() * model.hidden() : 0);
    }
    if (last) {
      p += (double) model.norm().vectors() * model.hidden();
      if (!model.tiedEmbeddings() || !onlyStage) {
        p += table;
      }
    }
    return p;
  }

  /** Memory of one rank of a stage: its parameters' state and its activations. */
  /**
   * ZeRO stages: 1 shards the optimizer state over the data-parallel ranks, 2 also the gradients,
   * 3 also the weights (plus a gathered copy of one layer's weights and gradients in flight).
   */
  static Memory rank(double params, Precision prec, int dp, int stage, double activations, double layerParams) {
    if (stage < 2) {
      return rank(params, prec, dp, stage == 1, activations);
    }
    double weights = stage == 3 ? params / dp + layerParams : params;
    double grads = params / dp + (stage == 3 ? layerParams : 0);
    return new Memory(weights * prec.weightBytes(), grads * prec.gradBytes(), params * prec.stateBytes() / dp, activations);
  }

  static Memory rank(double params, Precision prec, int dp, boolean zero, double activations) {
    return new Memory(params * prec.weightBytes(), params * prec.gradBytes(), params * prec.stateBytes() / (zero ? dp : 1),
        activations);
  }
}
