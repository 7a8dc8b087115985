package trnsim.core.energy;

import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import trnsim.core.config.ConfigException;
import trnsim.core.config.ConfigFieldException;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.unit.Power;

/**
 * An Accelergy-style energy reference table (ERT) for one chip design: the energy of one action of
 * each component class, shared by every instance of that class, plus the chip's static power.
 * Loaded from {@code configs/energy/<chip>.energy.yaml}; every value there carries its source or
 * rationale in a comment. Immutable.
 *
 * <p>Units are in the key names: {@code *_pj} values are picojoules per action (one MAC, one byte,
 * one element operation); {@code static_power} is a power with a unit ({@code 90 W}).
 *
 * @param description one line: which chip and how confident the numbers are
 * @param staticPower power drawn whenever the chip is on, whether it works or not (leakage,
 *     always-on logic, HBM refresh); charged as static power x simulated time
 * @param tensor the matrix engine: energy per MAC by tensor-engine dtype class ({@code bf16},
 *     {@code fp16}, {@code tf32}, {@code fp32}, {@code fp8}, {@code mxfp8}, {@code mxfp4}, ...)
 * @param vector Vector engine: energy per element operation
 * @param scalar Scalar (activation) engine: energy per element operation
 * @param gpsimd GpSimd engine: energy per element operation
 * @param sbuf state buffer: energy per byte read and per byte written (by DMA or compute engines)
 * @param psum partial-sum buffer: energy per byte read and written
 * @param hbm device memory: energy per byte read and written (device, PHY and controller)
 * @param dma on-chip data movement by the DMA engines: energy per byte moved
 * @param link chip-to-chip links: energy per byte sent (optional until a multi-chip model counts
 *     link bytes)
 */
public record EnergyTable(
    String description,
    Power staticPower,
    TensorEnergy tensor,
    SimdEnergy vector,
    SimdEnergy scalar,
    SimdEnergy gpsimd,
    MemoryEnergy sbuf,
    MemoryEnergy psum,
    MemoryEnergy hbm,
    TransferEnergy dma,
    TransferEnergy link) {

  public EnergyTable {
    if (description == null) {
      description = "";
    }
    present(staticPower, "static_power");
    present(tensor, "tensor");
    present(vector, "vector");
    present(scalar, "scalar");
    present(gpsimd, "gpsimd");
    present(sbuf, "sbuf");
    present(psum, "psum");
    present(hbm, "hbm");
    present(dma, "dma");
  }

  /** Energy per MAC by dtype class (the tensor-engine rate key of {@link trnsim.isa.DType}). */
  public record TensorEnergy(Map<String, Double> macPj) {
    public TensorEnergy {
      present(macPj, "mac_pj");
      if (macPj.isEmpty()) {
        throw new ConfigFieldException("mac_pj", "{}", "must list at least one dtype");
      }
      for (var e : macPj.entrySet()) {
        energy(e.getValue(), "mac_pj." + e.getKey());
      }
      macPj = Collections.unmodifiableMap(new TreeMap<>(macPj));
    }
  }

  /** Energy of one element operation of a SIMD engine (one lane, one element). */
  public record SimdEnergy(Double elementOpPj) {
    public SimdEnergy {
      energy(elementOpPj, "element_op_pj");
    }
  }

  /** Energy per byte read and per byte written. */
  public record MemoryEnergy(Double readBytePj, Double writeBytePj) {
    public MemoryEnergy {
      energy(readBytePj, "read_byte_pj");
      energy(writeBytePj, "write_byte_pj");
    }
  }

  /** Energy per byte moved. */
  public record TransferEnergy(Double bytePj) {
    public TransferEnergy {
      energy(bytePj, "byte_pj");
    }
  }

  /** Loads and validates a table; errors name the file, key path and value. */
  public static EnergyTable load(Path file) {
    Path parent = file.toAbsolutePath().getParent();
    return new HardwareLoader(parent).bindFile(file, EnergyTable.class, trnsim.core.config.ConfigReaders.ENERGY_TABLE);
  }

  private static void present(Object v, String field) {
    if (v == null) {
      throw new ConfigFieldException(field, null, "missing required key");
    }
  }

  private static void energy(Double v, String field) {
    if (v == null) {
      throw new ConfigFieldException(field, null, "missing required key");
    }
    if (!(v >= 0) || v.isInfinite()) {
      throw new ConfigFieldException(field, v, "must be a finite energy >= 0 (picojoules)");
    }
  }

  static ConfigException missing(String source, String key, String what) {
    return new ConfigException(source, key, null, what);
  }
}
