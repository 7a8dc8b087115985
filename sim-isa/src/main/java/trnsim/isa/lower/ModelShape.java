package trnsim.isa.lower;

/**
 * The shape of a decoder-only transformer (Llama style), as the lowering needs it.
 *
 * @param name model name
 * @param layers decoder layers
 * @param hidden model width
 * @param heads attention (query) heads
 * @param kvHeads key/value heads (grouped-query attention when below heads)
 * @param headDim width of one head
 * @param ffn SwiGLU intermediate width
 * @param vocab vocabulary size
 */
public record ModelShape(String name, int layers, int hidden, int heads, int kvHeads, int headDim, int ffn, int vocab) {
  public long parameters() {
    long attn = (long) hidden * heads * headDim + 2L * hidden * kvHeads * headDim + (long) heads * headDim * hidden;
    long mlp = 3L * hidden * ffn;
    long norms = 2L * hidden;
    return layers * (attn + mlp + norms) + 2L * vocab * hidden + hidden;
  }
}
