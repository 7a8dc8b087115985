package trnsim.core.config;

/**
 * A fully resolved hardware description: one chip design plus the system it is deployed in. A
 * config without a {@code system:} block describes a single chip.
 *
 * @param name the config's name (its file name without {@code .yaml})
 * @param description one line for listings
 * @param chip the chip design
 * @param system how many chips, how they connect and what they cost; single chip if absent
 */
public record HardwareSpec(String name, String description, ChipSpec chip, SystemSpec system) {
  public HardwareSpec {
    Require.present(name, "name");
    if (description == null) {
      description = "";
    }
    Require.present(chip, "chip");
    if (system == null) {
      system = SystemSpec.singleChip();
    }
  }

  public int totalChips() {
    return system.chips();
  }

  public int totalCores() {
    return system.chips() * chip.cores();
  }
}
