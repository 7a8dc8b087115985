package trnsim.core.config;

/**
 * One group of a mixed scale-up domain ({@code system.groups}): {@code chips} chips of the design
 * in the hardware config {@code hardware} (its chip, energy table and price per chip-hour), all on
 * the domain's one switch fabric ({@code system.topology}). Which part of a step runs on which group
 * is the workload's choice (docs/model.md, "Mixed Trainium-GPU domains").
 *
 * @param name the group's name in workload options ({@code stages=trn:40+gpu:40})
 * @param hardware the config the group's chips come from (a name under configs/hardware)
 * @param chips chips of the group
 */
public record GroupSpec(String name, String hardware, Integer chips) {
  public GroupSpec {
    Require.present(name, "name");
    if (!name.matches("[a-z][a-z0-9_-]*")) {
      throw new ConfigFieldException("name", name, "must be a lower-case word (letters, digits, - and _)");
    }
    Require.present(hardware, "hardware");
    Require.positive(chips, "chips");
  }
}
