package trnsim.core.api;

import trnsim.core.config.HardwareSpec;
import trnsim.core.system.LlmResult;

/** A distributed LLM step (llm-train, llm-infer) on the whole system, at the clock its power limit allows. */
public record SystemRunResult(LlmResult result, OperatingPoint operating, HardwareSpec hardware)
    implements SimulationResult {

  @Override
  public double timeSeconds() {
    return result.seconds();
  }
}
