package trnsim.core.config;

/**
 * A deployable system: instances (nodes) of chips, the scale-up topology between them, the
 * scale-out network between nodes, and the price.
 *
 * @param chips total chips in the system
 * @param chipsPerNode chips per instance/server (the unit that is rented)
 * @param topology the scale-up fabric between all {@code chips}
 * @param network scale-out link per chip between nodes (EFA), if any
 * @param pricePerNodeHourUsd on-demand price of one node per hour, in US dollars (null if unknown)
 * @param groups for a mixed domain (NVLink Fusion: Trainium chips and GPUs on one switch), the
 *     groups of chips by design, whose chips add up to {@code chips}; empty for one chip design
 */
public record SystemSpec(
    Integer chips, Integer chipsPerNode, TopologySpec topology, LinkSpec network, Double pricePerNodeHourUsd,
    java.util.List<GroupSpec> groups) {
  /** A system of one chip design. */
  public SystemSpec(Integer chips, Integer chipsPerNode, TopologySpec topology, LinkSpec network, Double pricePerNodeHourUsd) {
    this(chips, chipsPerNode, topology, network, pricePerNodeHourUsd, null);
  }

  public SystemSpec {
    Require.positive(chips, "chips");
    chipsPerNode = chipsPerNode == null ? chips : Require.positive(chipsPerNode, "chips_per_node");
    if (chips % chipsPerNode != 0) {
      throw new ConfigFieldException("chips_per_node", chipsPerNode, "must divide chips (" + chips + ")");
    }
    if (topology == null) {
      if (chips != 1) {
        throw new ConfigFieldException("topology", null, "missing required key (system has " + chips + " chips)");
      }
      topology = TopologySpec.single();
    }
    if (topology.type().equals("torus")) {
      int product = topology.dims().stream().reduce(1, (a, b) -> a * b);
      if (product != chips) {
        throw new ConfigFieldException("topology.dims", topology.dims(),
            "torus has " + product + " positions but the system has " + chips + " chips");
      }
    }
    groups = groups == null ? java.util.List.of() : java.util.List.copyOf(groups);
    if (!groups.isEmpty()) {
      checkGroups(chips, topology, groups);
    }
    if (pricePerNodeHourUsd != null && !(pricePerNodeHourUsd > 0 && pricePerNodeHourUsd < 1e12)) {
      // 1e309 parses as Infinity: refused with the rest of the out-of-range prices.
      throw new ConfigFieldException("price_per_node_hour_usd", pricePerNodeHourUsd, "must be a positive finite price below 1e12 USD");
    }
  }

  /** Mixed domains are one switch (every chip one hop from every other), with unique group names adding up to the chips. */
  private static void checkGroups(int chips, TopologySpec topology, java.util.List<GroupSpec> groups) {
    if (!topology.type().equals("switch")) {
      throw new ConfigFieldException("topology.type", topology.type(), "a mixed domain (groups) must be one switch fabric");
    }
    java.util.Set<String> names = new java.util.HashSet<>();
    int sum = 0;
    for (GroupSpec g : groups) {
      if (!names.add(g.name())) {
        throw new ConfigFieldException("groups", g.name(), "group name given twice");
      }
      sum += g.chips();
    }
    if (groups.size() < 2) {
      throw new ConfigFieldException("groups", groups.size() + " group", "a mixed domain needs at least two groups");
    }
    if (sum != chips) {
      throw new ConfigFieldException("groups", sum + " chips", "the groups' chips must add up to chips (" + chips + ")");
    }
  }

  /** Whether the system mixes chip designs ({@link #groups}). */
  public boolean mixed() {
    return !groups.isEmpty();
  }

  public static SystemSpec singleChip() {
    return new SystemSpec(1, 1, TopologySpec.single(), null, null);
  }

  public int nodes() {
    return chips / chipsPerNode;
  }

  /** Price per chip-hour in US dollars, or NaN when no price is configured. */
  public double pricePerChipHourUsd() {
    return pricePerNodeHourUsd == null ? Double.NaN : pricePerNodeHourUsd / chipsPerNode;
  }
}
