package trnsim.core.scalesim;

/**
 * Which operand a systolic array holds in its PEs while the others stream, named as SCALE-Sim names
 * them ({@code ws}, {@code os}, {@code is}) and as trnsim's {@code chip.core.tensor.dataflow} does.
 *
 * <p>In SCALE-Sim's GEMM terms (ifmap M x K, filter K x N, ofmap M x N; for a convolution M is the
 * output pixels, K the window, N the filters), the spatial and temporal dimensions are:
 * weight stationary keeps the filter (K rows x N columns) and streams the M ifmap rows; output
 * stationary keeps the outputs (M x N) and streams K; input stationary keeps the ifmap (K x M)
 * and streams the N filters (SCALE-Sim v2, topology_utils.calc_spatio_temporal_params).
 */
public enum SystolicDataflow {
  WEIGHT_STATIONARY("ws", "weight_stationary"),
  OUTPUT_STATIONARY("os", "output_stationary"),
  INPUT_STATIONARY("is", "input_stationary");

  private final String scaleSimName;
  private final String configName;

  SystolicDataflow(String scaleSimName, String configName) {
    this.scaleSimName = scaleSimName;
    this.configName = configName;
  }

  public String scaleSimName() {
    return scaleSimName;
  }

  public String configName() {
    return configName;
  }

  /** By SCALE-Sim's short name or trnsim's config name; null when neither. */
  public static SystolicDataflow byName(String name) {
    for (SystolicDataflow d : values()) {
      if (d.scaleSimName.equalsIgnoreCase(name) || d.configName.equalsIgnoreCase(name)) {
        return d;
      }
    }
    return null;
  }
}
