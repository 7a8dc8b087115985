package trnsim.core.config;

import trnsim.core.config.unit.Power;

/**
 * The chip's power envelope and where its energy-per-action table lives.
 *
 * @param limit sustained power limit (TDP); the clock is lowered when a workload would exceed it
 *     (see {@code trnsim.core.energy.PowerLimiter})
 * @param idle power drawn by the chip (static/leakage plus always-on logic) when doing nothing; 0
 *     (the default) means "use the energy table's {@code static_power}"; a non-zero value here
 *     overrides the table, so {@code --set chip.power.idle=150W} works for what-ifs
 * @param energyTable the chip's energy table (ERT), a path relative to the {@code configs/} folder
 *     such as {@code energy/trn2.energy.yaml}; optional until an energy report is asked for
 */
public record PowerSpec(Power limit, Power idle, String energyTable) {
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
    if (energyTable != null && (energyTable.isBlank() || !energyTable.endsWith(".yaml"))) {
      throw new ConfigFieldException("energy_table", energyTable,
          "must be a .yaml path relative to the configs folder, e.g. energy/trn2.energy.yaml");
    }
  }
}
