package trnsim.core.config;

import java.util.Map;
import java.util.TreeMap;
import trnsim.core.config.unit.Frequency;

/**
 * The matrix engine (Trainium TensorE, a GPU's tensor cores folded into one array per core).
 *
 * @param type timing model: {@code trainium} (published NKI cost formula per matmul instruction) or
 *     {@code systolic} (a classic array whose folds fill and drain, SCALE-Sim style)
 * @param dataflow for {@code systolic}: {@code weight_stationary}, {@code output_stationary} or
 *     {@code input_stationary}; {@code trainium} is weight-stationary (any other value is rejected)
 * @param rows PE rows (the contraction/partition dimension K of one instruction)
 * @param cols PE columns (the stationary free dimension M of one instruction)
 * @param clock engine clock
 * @param minMatmulCycles minimum issue interval of a matmul (MM_INIT_LATENCY in the NKI docs)
 * @param maxMovingFree largest moving free size N of one matmul instruction (one PSUM bank)
 * @param latencyCycles pipeline latency from the end of issue until results are visible in PSUM
 * @param dtypeRates throughput multiplier per input dtype relative to bf16 (fp8: 2 means twice the
 *     MACs per cycle); a dtype absent from the map is not supported by this engine
 */
public record TensorEngineSpec(
    String type,
    String dataflow,
    Integer rows,
    Integer cols,
    Frequency clock,
    Integer minMatmulCycles,
    Integer maxMovingFree,
    Integer latencyCycles,
    Map<String, Double> dtypeRates) {
  /** Bounds of a dtype rate multiplier: wide around every published engine, narrow enough to simulate. */
  public static final double MIN_RATE = 1.0 / 64;
  public static final double MAX_RATE = 64;

  public TensorEngineSpec {
    Require.present(type, "type");
    if (!type.equals("trainium") && !type.equals("systolic")) {
      throw new ConfigFieldException("type", type, "must be 'trainium' or 'systolic'");
    }
    if (dataflow == null) {
      dataflow = "weight_stationary";
    }
    if (!dataflow.equals("weight_stationary") && !dataflow.equals("output_stationary")
        && !dataflow.equals("input_stationary")) {
      throw new ConfigFieldException("dataflow", dataflow,
          "must be weight_stationary, output_stationary or input_stationary");
    }
    if (type.equals("trainium") && !dataflow.equals("weight_stationary")) {
      // The NKI cost formula is for the physical array, which holds the stationary operand (weights).
      throw new ConfigFieldException("dataflow", dataflow,
          "the trainium array is weight_stationary; other dataflows need type: systolic");
    }
    Require.positive(rows, "rows");
    Require.positive(cols, "cols");
    Require.present(clock, "clock");
    minMatmulCycles = Require.orDefault(minMatmulCycles, 64, 0, "min_matmul_cycles");
    maxMovingFree = Require.orDefault(maxMovingFree, 512, 1, "max_moving_free");
    latencyCycles = Require.orDefault(latencyCycles, 0, 0, "latency_cycles");
    Require.present(dtypeRates, "dtype_rates");
    if (dtypeRates.isEmpty()) {
      throw new ConfigFieldException("dtype_rates", "{}", "must list at least one dtype");
    }
    for (var e : dtypeRates.entrySet()) {
      if (e.getValue() == null || !(e.getValue() >= MIN_RATE && e.getValue() <= MAX_RATE)) {
        // A multiplier of the bf16 rate: published engines span 1/4 (fp32 on Trainium) to 4 (fp4).
        throw new ConfigFieldException("dtype_rates." + e.getKey(), e.getValue(),
            "must be between 1/64 and 64 (a multiple of the bf16 rate)");
      }
    }
    dtypeRates = java.util.Collections.unmodifiableMap(new TreeMap<>(dtypeRates));
  }
}
