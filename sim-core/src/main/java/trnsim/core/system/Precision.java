package trnsim.core.system;

import java.util.Locale;

/**
 * How a training framework stores a parameter and its training state, in bytes per parameter. The
 * matmuls run at the workload's compute dtype (bf16) in every mode; what differs is the dtype of
 * the stored weights, of the gradient accumulation buffer (which is also the dtype the
 * data-parallel reduction moves) and of the optimizer state.
 *
 * <ul>
 *   <li>{@code mixed}: bf16 weights and gradients, fp32 master weights, Adam m and v (2 + 2 + 12 =
 *       16 bytes, the mixed-precision Adam of Rajbhandari et al. 2020, "ZeRO", section 3.1).
 *   <li>{@code mixed-fp32acc}: as mixed but the gradients accumulate (and are reduced) in fp32:
 *       2 + 4 + 12 = 18 bytes. NeuronX Distributed's mixed precision with ZeRO-1
 *       ({@code use_master_weights}, {@code use_fp32_grad_acc}; the Neuron benchmark table's
 *       "Autocast:BF16+FP32Optimizer").
 *   <li>{@code bf16-sr}: everything in bf16, Adam m and v included, with stochastic rounding in
 *       place of fp32 master weights: 2 + 2 + 4 = 8 bytes. PyTorch/XLA with {@code XLA_USE_BF16=1}
 *       maps every fp32 tensor (model, gradients, optimizer state) to bf16 on the device, and
 *       {@code NEURON_RT_STOCHASTIC_ROUNDING_EN} rounds the updates stochastically (the Neuron
 *       Megatron-LM tutorial's "FP32 model, Autocast:BF16+SR").
 *   <li>{@code fp32}: fp32 weights, gradients, Adam m and v (4 + 4 + 8 = 16 bytes), the weights
 *       being their own master copy.
 * </ul>
 *
 * @param label the workload value
 * @param weightBytes stored weights
 * @param gradBytes gradient accumulation buffer and data-parallel reduction
 * @param stateBytes optimizer state (fp32 master copy when separate, Adam m and v)
 * @param separateMaster the optimizer keeps its own master copy, so the update also writes the
 *     stored (lower-precision) weights once
 */
public record Precision(String label, int weightBytes, int gradBytes, int stateBytes, boolean separateMaster) {
  public static final Precision MIXED = new Precision("mixed", 2, 2, 12, true);
  public static final Precision MIXED_FP32ACC = new Precision("mixed-fp32acc", 2, 4, 12, true);
  public static final Precision BF16_SR = new Precision("bf16-sr", 2, 2, 4, false);
  public static final Precision FP32 = new Precision("fp32", 4, 4, 8, false);

  static final java.util.List<Precision> ALL = java.util.List.of(MIXED, MIXED_FP32ACC, BF16_SR, FP32);

  public static Precision parse(String s) {
    for (Precision p : ALL) {
      if (p.label.equals(s.toLowerCase(Locale.ROOT))) {
        return p;
      }
    }
    throw new IllegalArgumentException("must be one of mixed, mixed-fp32acc, bf16-sr, fp32");
  }

  /**
   * HBM bytes the Adam update moves per parameter of the optimizer shard: the state read and
   * written, the gradient read, the weights read and written (or only written, from the master copy).
   */
  /**
   * HBM bytes per parameter of torch.optim.AdamW's single-tensor update run one pass per op:
   * {@code p *= 1 - lr wd} (read, write p), {@code m = m b1 + (1 - b1) g} (two ops: 2 + 3 accesses),
   * {@code v = v b2 + (1 - b2) g g} (2 + 3), {@code d = sqrt(v) / c + eps} (three ops: 2 + 2 + 2) and
   * {@code p -= s m / d} (4): 4 accesses of the updated parameter, 5 of each moment, 6 of the
   * temporary d (a moment's width), 2 of the gradient, plus the copy to the stored weights when the
   * update runs on a separate master.
   */
  public int unfusedAdamBytes() {
    int master = separateMaster ? 4 : weightBytes;
    int moment = (stateBytes - (separateMaster ? 4 : 0)) / 2;
    return 4 * master + 16 * moment + 2 * gradBytes + (separateMaster ? weightBytes : 0);
  }

  public int adamBytes() {
    return 2 * stateBytes + gradBytes + (separateMaster ? weightBytes : 2 * weightBytes);
  }
}
