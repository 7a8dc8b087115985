package trnsim.core.config;

import trnsim.core.config.unit.Power;

/**
 * The chip's power envelope.
 *
 * @param limit sustained power limit (TDP); the clock is lowered when a workload would exceed it
 * @param idle power drawn by the chip (static/leakage plus always-on logic) when doing nothing
 */
public record PowerSpec(Power limit, Power idle) {
  public PowerSpec {
    Require.present(limit, "limit");
    if (limit.milliwatts() == 0) {
      throw new ConfigFieldException("limit", limit, "must be greater than zero");
    }
    if (idle == null) {
      idle = new Power(0);
    }
    if (idle.milliwatts() >= limit.milliwatts()) {
      throw new ConfigFieldException("idle", idle, "must be below the power limit " + limit);
    }
  }
}
