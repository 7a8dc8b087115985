package trnsim.core.serve;

/**
 * One request of a serving run.
 *
 * @param id position in arrival order
 * @param arrivalS arrival time, seconds from the start of the run
 * @param promptTokens prompt length
 * @param outputTokens tokens to generate (at least 1; the first comes from the prompt pass)
 */
public record Request(int id, double arrivalS, long promptTokens, long outputTokens) {
  public Request {
    if (promptTokens < 1 || outputTokens < 1 || !(arrivalS >= 0) || Double.isInfinite(arrivalS)) {
      throw new IllegalArgumentException("request " + id + ": needs arrival >= 0, prompt >= 1 and output >= 1 tokens");
    }
  }
}
