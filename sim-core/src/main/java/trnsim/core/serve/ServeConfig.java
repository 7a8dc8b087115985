package trnsim.core.serve;

/**
 * How requests are served.
 *
 * @param scheduler how iterations are formed
 * @param maxBatch most sequences running on a replica at once (vLLM max_num_seqs)
 * @param tokenBudget most tokens one iteration feeds the model (vLLM max_num_batched_tokens; Sarathi's chunk size)
 * @param replicas independent model replicas
 * @param dispatch how an arriving request picks its replica
 * @param kvTokensPerReplica KV-cache capacity of one replica, tokens
 * @param speculative speculative decoding, or null
 * @param seed seeds the generator of speculative acceptances
 */
public record ServeConfig(Scheduler scheduler, int maxBatch, long tokenBudget, int replicas, Dispatch dispatch, long kvTokensPerReplica,
    Speculative speculative, long seed) {
  /** KV cache is allocated in blocks of this many tokens (vLLM's default block size). */
  public static final int BLOCK_TOKENS = 16;

  public ServeConfig {
    if (maxBatch < 1 || tokenBudget < 1 || replicas < 1 || kvTokensPerReplica < BLOCK_TOKENS) {
      throw new IllegalArgumentException("max batch, token budget and replicas must be positive and the KV cache hold a block");
    }
  }

  public enum Scheduler {
    /**
     * vLLM's (v0) default: an iteration either prefills waiting requests (whole prompts, first come
     * first served, while the token budget, batch and KV cache allow) or, when none can start,
     * decodes every running request; a prefill iteration stalls the running decodes.
     */
    VLLM,
    /**
     * Sarathi-Serve: every iteration decodes every running request and fills the rest of the token
     * budget with prompt chunks (continuing partly prefilled prompts first), so decodes never stall.
     */
    SARATHI
  }

  public enum Dispatch {
    /** request i goes to replica i mod replicas */
    ROUND_ROBIN,
    /** the replica with the fewest unfinished requests (lowest index on ties) */
    LEAST_LOADED
  }

  /**
   * Speculative decoding: a draft model proposes {@code k} tokens per step, the target verifies them
   * in one pass; each draft token is accepted with probability {@code accept} independently until the
   * first rejection, and the verify pass yields one more token, so a step yields
   * {@code (1 - accept^(k+1)) / (1 - accept)} tokens on average.
   */
  public record Speculative(String draft, int k, double accept) {
    public double expectedTokensPerStep() {
      return accept >= 1 ? k + 1 : (1 - Math.pow(accept, k + 1)) / (1 - accept);
    }
  }
}
