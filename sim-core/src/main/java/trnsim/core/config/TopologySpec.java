package trnsim.core.config;

import java.util.List;

/**
 * How the chips of a system connect.
 *
 * @param type {@code single} (one chip), {@code torus} (each chip linked to its neighbours along
 *     each of {@code dims}, wrapping around), or {@code switch} (every chip one switch hop from
 *     every other, as NeuronSwitch or NVSwitch)
 * @param dims torus extent per dimension; their product is the chip count
 * @param links for a torus, one link spec per dimension (the link to one neighbour in one
 *     direction); for a switch, one entry: each chip's port into the switch
 */
public record TopologySpec(String type, List<Integer> dims, List<LinkSpec> links) {
  public TopologySpec {
    Require.present(type, "type");
    switch (type) {
      case "single" -> {
        dims = List.of();
        links = links == null ? List.of() : List.copyOf(links);
      }
      case "torus" -> {
        Require.present(dims, "dims");
        Require.present(links, "links");
        if (dims.isEmpty()) {
          throw new ConfigFieldException("dims", dims, "a torus needs at least one dimension");
        }
        for (int i = 0; i < dims.size(); i++) {
          Require.positive(dims.get(i), "dims[" + i + "]");
        }
        if (links.size() != dims.size()) {
          throw new ConfigFieldException("links", links.size() + " entries",
              "a torus needs one link spec per dimension (" + dims.size() + ")");
        }
        dims = List.copyOf(dims);
        links = List.copyOf(links);
      }
      case "switch" -> {
        Require.present(links, "links");
        if (links.size() != 1) {
          throw new ConfigFieldException("links", links.size() + " entries",
              "a switch needs exactly one link spec (each chip's port)");
        }
        dims = dims == null ? List.of() : List.copyOf(dims);
        links = List.copyOf(links);
      }
      default -> throw new ConfigFieldException("type", type, "must be single, torus or switch");
    }
  }

  public static TopologySpec single() {
    return new TopologySpec("single", List.of(), List.of());
  }
}
