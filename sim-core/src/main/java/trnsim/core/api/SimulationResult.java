package trnsim.core.api;

import trnsim.core.config.HardwareSpec;

/**
 * What {@link Simulator#run} returns for one (hardware, workload) point: a kernel workload on one
 * chip, or a whole-system step (llm-train, llm-infer). {@link ResultSchema} turns either into the
 * one result JSON every command and sweep engine writes.
 */
public sealed interface SimulationResult permits KernelRunResult, SystemRunResult {
  /** The hardware the point ran on: the input spec with its clocks as the power limit left them. */
  HardwareSpec hardware();

  /** Clock, power limit and price the point ran at. */
  OperatingPoint operating();

  /** Simulated seconds of the workload (a kernel sequence, or one step/request of a system workload). */
  double timeSeconds();
}
