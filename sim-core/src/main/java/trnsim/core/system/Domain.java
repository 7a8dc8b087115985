package trnsim.core.system;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import trnsim.core.config.ConfigException;
import trnsim.core.config.GroupSpec;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.SystemSpec;

/**
 * The scale-up domain a system workload runs on: one chip design ({@link Uniform}), or groups of
 * different designs on one NVLink-class switch ({@link Mixed}: NVLink Fusion, Trainium chips and
 * GPUs side by side), where the workload places each part of a step on a group ({@link Placement}).
 */
public sealed interface Domain permits Domain.Uniform, Domain.Mixed {
  /** The config the domain was read from. */
  HardwareSpec hw();

  /** Every chip of the same design: {@link LlmTraining} and {@link LlmInference} as they are. */
  record Uniform(HardwareSpec hw) implements Domain {}

  /**
   * A mixed domain.
   *
   * @param hw the domain's config (its switch link carries every transfer, within a group and between groups)
   * @param groups the groups in config order
   */
  record Mixed(HardwareSpec hw, List<Group> groups) implements Domain {
    public Mixed {
      groups = List.copyOf(groups);
    }

    /** The group named {@code name}, or null. */
    public Group group(String name) {
      return groups.stream().filter(g -> g.name().equals(name)).findFirst().orElse(null);
    }

    public List<String> names() {
      return groups.stream().map(Group::name).toList();
    }

    /** Index of a group's first chip on the domain's switch (groups are numbered in config order). */
    public int firstChip(Group g) {
      int at = 0;
      for (Group x : groups) {
        if (x == g) {
          return at;
        }
        at += x.chips();
      }
      throw new IllegalArgumentException("not a group of this domain: " + g.name());
    }

    public boolean projection() {
      return hw.isProjection() || groups.stream().anyMatch(g -> g.hw().isProjection());
    }
  }

  /**
   * One group as a system of its own: the group's chip design (chip, energy table, price per
   * chip-hour, projection flag from its config) with {@code chips} chips on the domain's switch link.
   */
  record Group(String name, HardwareSpec hw, int chips) {}

  /**
   * The domain of {@code hw}: {@link Uniform} unless its system has groups; each group's config is
   * read by {@code configs} (by name) and must itself be one chip design.
   */
  static Domain of(HardwareSpec hw, Function<String, HardwareSpec> configs) {
    SystemSpec sys = hw.system();
    if (!sys.mixed()) {
      return new Uniform(hw);
    }
    List<Group> groups = new ArrayList<>();
    for (GroupSpec g : sys.groups()) {
      HardwareSpec src;
      try {
        src = configs.apply(g.hardware());
      } catch (ConfigException e) {
        throw new ConfigException(hw.name(), "system.groups." + g.name() + ".hardware", g.hardware(), e.reason());
      }
      if (src.system().mixed()) {
        throw new ConfigException(hw.name(), "system.groups." + g.name() + ".hardware", g.hardware(),
            "is itself a mixed domain; a group's config must be one chip design");
      }
      groups.add(new Group(g.name(), onDomain(hw, src, g), g.chips()));
    }
    return new Mixed(hw, groups);
  }

  /** {@code src}'s chip with {@code g.chips()} chips on {@code domain}'s switch, at {@code src}'s price per chip-hour. */
  private static HardwareSpec onDomain(HardwareSpec domain, HardwareSpec src, GroupSpec g) {
    SystemSpec d = domain.system();
    int perNode = g.chips() % d.chipsPerNode() == 0 ? d.chipsPerNode() : g.chips();
    double perChip = src.system().pricePerChipHourUsd();
    Double price = Double.isFinite(perChip) ? perChip * perNode : null;
    SystemSpec sys = new SystemSpec(g.chips(), perNode, d.topology(), d.network(), price);
    return new HardwareSpec(src.name(), src.description(), src.chip(), sys, src.runtime(), src.isProjection());
  }
}
