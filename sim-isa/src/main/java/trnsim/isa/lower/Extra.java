package trnsim.isa.lower;

import java.util.List;
import java.util.function.Function;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadSpec;

/** Further workload kinds (attention, softmax, norms, layers); returns null for unknown kinds. */
final class Extra {
  static final List<String> KINDS = List.of();

  private Extra() {}

  static LoweredWorkload lower(TargetSpec t, WorkloadSpec w, Function<String, ModelShape> models) {
    return null;
  }
}
