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
 */
public record SystemSpec(
    Integer chips, Integer chipsPerNode, TopologySpec topology, LinkSpec network, Double pricePerNodeHourUsd) {
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
    if (pricePerNodeHourUsd != null && !(pricePerNodeHourUsd > 0 && pricePerNodeHourUsd < 1e12)) {
      // 1e309 parses as Infinity: refused with the rest of the out-of-range prices.
      throw new ConfigFieldException("price_per_node_hour_usd", pricePerNodeHourUsd, "must be a positive finite price below 1e12 USD");
    }
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
