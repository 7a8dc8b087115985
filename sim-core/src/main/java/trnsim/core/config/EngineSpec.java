package trnsim.core.config;

import trnsim.core.config.unit.Frequency;

/**
 * A SIMD engine with one lane per SBUF partition (Vector, Scalar/Activation, GpSimd).
 *
 * <p>Instruction occupancy is {@code startCycles + max(minIiCycles, N / rate)} where N is the free
 * size per partition and {@code rate} the elements per lane per cycle of the instruction's class:
 * one-input or two-input, 16-bit or 32-bit data (the NKI "perf modes" make 16-bit one-input ops up
 * to 4x faster on NC-v3). {@code latencyCycles} is added before dependents may start, not to the
 * engine's occupancy. {@code maxSbufFreeElements} and {@code maxPsumFreeElements} bound the free size
 * of one operand by where it lives (absent: no limit).
 */
public record EngineSpec(
    Frequency clock,
    Integer lanes,
    Integer minIiCycles,
    Integer startCycles,
    Integer latencyCycles,
    Double unary16Rate,
    Double binary16Rate,
    Double unary32Rate,
    Double binary32Rate,
    Integer maxSbufFreeElements,
    Integer maxPsumFreeElements) {
  public EngineSpec {
    Require.present(clock, "clock");
    Require.positive(lanes, "lanes");
    minIiCycles = Require.orDefault(minIiCycles, 64, 0, "min_ii_cycles");
    startCycles = Require.orDefault(startCycles, 0, 0, "start_cycles");
    latencyCycles = Require.orDefault(latencyCycles, 0, 0, "latency_cycles");
    unary16Rate = rate(unary16Rate, 1.0, "unary16_rate");
    binary16Rate = rate(binary16Rate, 0.5, "binary16_rate");
    unary32Rate = rate(unary32Rate, 1.0, "unary32_rate");
    binary32Rate = rate(binary32Rate, 0.5, "binary32_rate");
    maxSbufFreeElements = Require.orDefault(maxSbufFreeElements, Integer.MAX_VALUE, 1, "max_sbuf_free_elements");
    maxPsumFreeElements = Require.orDefault(maxPsumFreeElements, Integer.MAX_VALUE, 1, "max_psum_free_elements");
  }

  private static double rate(Double v, double dflt, String field) {
    return v == null ? dflt : Require.positive(v, field);
  }
}
