package trnsim.core.config;

/**
 * A fully resolved hardware description: one chip design plus the system it is deployed in. A
 * config without a {@code system:} block describes a single chip.
 *
 * @param name the config's name (its file name without {@code .yaml})
 * @param description one line for listings
 * @param chip the chip design
 * @param system how many chips, how they connect and what they cost; single chip if absent
 * @param runtime per-execution costs of the software runtime (none if absent)
 * @param projection true for a config whose numbers are projected from announcements rather than
 *     sourced (e.g. {@code trn4-projection}); every report that uses it says so
 */
public record HardwareSpec(String name, String description, ChipSpec chip, SystemSpec system, RuntimeSpec runtime,
    Boolean projection) {
  public HardwareSpec {
    if (projection == null) {
      projection = false;
    }
    Require.present(name, "name");
    if (description == null) {
      description = "";
    }
    Require.present(chip, "chip");
    if (system == null) {
      system = SystemSpec.singleChip();
    }
    if (runtime == null) {
      runtime = RuntimeSpec.none();
    }
  }

  /** Without a runtime block. */
  public HardwareSpec(String name, String description, ChipSpec chip, SystemSpec system) {
    this(name, description, chip, system, null, false);
  }

  /** A sourced (not projected) config. */
  public HardwareSpec(String name, String description, ChipSpec chip, SystemSpec system, RuntimeSpec runtime) {
    this(name, description, chip, system, runtime, false);
  }

  /** Whether the config is a projection (see {@link #projection}). */
  public boolean isProjection() {
    return projection;
  }

  public int totalChips() {
    return system.chips();
  }

  public int totalCores() {
    return system.chips() * chip.cores();
  }
}
