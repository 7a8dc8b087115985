package trnsim.cli;

import trnsim.core.serve.ServeWorkload;
import trnsim.isa.workload.WorkloadSpec;

/**
 * What a workload spec asks to simulate, decided once from its kind: one kernel on a chip, one
 * distributed LLM step on a system, or a serving run on a system. {@code compare} and {@code verify}
 * switch on it.
 */
sealed interface WorkloadForm {
  /** The spec as written. */
  String spec();

  /** A kernel (gemm:, copy:, layer:, ...) on one chip. */
  record Kernel(String spec) implements WorkloadForm {}

  /** An llm-train or llm-infer step on the whole system. */
  record SystemStep(String spec) implements WorkloadForm {}

  /** A stream of requests served by the system ({@code serve:}), fully parsed. */
  record Serving(String spec, ServeWorkload workload) implements WorkloadForm {}

  /** @param source where the spec came from, for error messages */
  static WorkloadForm of(String spec, String source) {
    WorkloadSpec w = WorkloadSpec.parse(spec, source);
    if (ServeWorkload.handles(w.kind())) {
      return new Serving(spec, ServeWorkload.parse(w));
    }
    return trnsim.core.system.LlmSystem.handles(w.kind()) ? new SystemStep(spec) : new Kernel(spec);
  }

  /** The form's name for messages. */
  static String describe(WorkloadForm f) {
    if (f instanceof Serving) {
      return "a serving (serve:) workload";
    }
    return f instanceof SystemStep ? "a system (llm-*) workload" : "a kernel workload";
  }
}
