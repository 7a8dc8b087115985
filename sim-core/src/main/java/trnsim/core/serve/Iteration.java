package trnsim.core.serve;

import java.util.List;

/**
 * The shape of one scheduler iteration on one replica: a decode batch and prefill chunks.
 *
 * @param decodes sequences taking a decode step
 * @param decodeCtx the longest live context among them after this step (sets the graph's KV span)
 * @param draftTokens speculative draft tokens per decoding sequence (0 without speculation)
 * @param chunks prompt chunks prefilled in this iteration
 */
public record Iteration(int decodes, long decodeCtx, int draftTokens, List<Chunk> chunks) {
  public Iteration {
    chunks = List.copyOf(chunks);
  }

  /**
   * Part of one prompt's context-encoding pass.
   *
   * @param offset prompt tokens already in the KV cache before the chunk
   * @param tokens tokens the chunk processes
   * @param firstOfRequest the request's first pass (charged the runtime's per-request overhead)
   */
  public record Chunk(long offset, long tokens, boolean firstOfRequest) {}

  /** Sequences in the iteration (decoding plus prefilling). */
  public int sequences() {
    return decodes + chunks.size();
  }

  /** Tokens the iteration feeds the model. */
  public long tokens() {
    long t = (long) decodes * (draftTokens + 1);
    for (Chunk c : chunks) {
      t += c.tokens();
    }
    return t;
  }
}
