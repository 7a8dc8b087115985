package trnsim.core.system;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import trnsim.core.config.ConfigException;
import trnsim.core.config.LinkSpec;
import trnsim.core.config.SystemSpec;
import trnsim.core.config.TopologySpec;

/**
 * The links of one or more identical systems as a graph of directed links, each with a bandwidth
 * per direction and a latency per hop. Chip {@code g} is chip {@code g % chips} of system
 * {@code g / chips}. Inside a system traffic follows the scale-up topology: on a torus, dimension
 * order routing along the shorter way round each ring (one link per hop; half-way round, even
 * coordinates go up and odd ones down); on a switch, the
 * sender's port up and the receiver's port down (one hop). Between systems it goes through the
 * sender's and the receiver's network (EFA) ports.
 *
 * <p>Traffic that shares a link shares its bandwidth: {@link #phaseTime} charges every flow of a
 * phase the load of the most loaded link on its path (max-min fair share on the bottleneck), plus
 * the latency of its hops. Immutable.
 */
public final class Fabric {
  /** One transfer in a phase. */
  public record Flow(int src, int dst, double bytes) {}

  /** A phase's time and the bytes it put on links (bytes x hops, for link energy). */
  public record PhaseCost(double seconds, double linkBytes) {}

  private final SystemSpec system;
  private final int systems;
  private final int chips;
  private final int[] dims;
  /** Collective ranks per chip (Neuron: one per logical NeuronCore); 1 = ranks are chips. */
  private final int ranksPerChip;
  /** Bandwidth per direction between two ranks of one chip (their traffic crosses the chip's HBM). */
  private final double intraChipBytesPerSecond;

  /**
   * The fabric of {@code systems} copies of {@code hw} with ranks laid out as {@code layout}.
   * Ranks of one chip exchange data through its HBM: each direction at the chip's sustained HBM
   * bandwidth shared by its ranks (a simplification refined by the collective model).
   */
  public static Fabric of(trnsim.core.config.HardwareSpec hw, int systems, RankLayout layout) {
    int rpc = layout.ranksPerChip();
    double intra = hw.chip().hbm().sustainedBytesPerSecond() / Math.max(1, rpc);
    return new Fabric(hw.system(), systems, rpc, intra);
  }

  /** Ranks are chips. */
  public Fabric(SystemSpec system, int systems) {
    this(system, systems, 1, Double.POSITIVE_INFINITY);
  }

  /**
   * Ranks are the {@code ranksPerChip} logical cores of each chip: rank {@code r} sits on chip
   * {@code r / ranksPerChip}. Two ranks of one chip exchange data at {@code intraChipBytesPerSecond}
   * per direction without touching any link.
   */
  public Fabric(SystemSpec system, int systems, int ranksPerChip, double intraChipBytesPerSecond) {
    if (systems < 1) {
      throw new IllegalArgumentException("systems must be >= 1");
    }
    if (ranksPerChip < 1) {
      throw new IllegalArgumentException("ranks per chip must be >= 1");
    }
    this.ranksPerChip = ranksPerChip;
    this.intraChipBytesPerSecond = intraChipBytesPerSecond;
    this.system = system;
    this.systems = systems;
    this.chips = system.chips();
    this.dims = system.topology().dims().stream().mapToInt(Integer::intValue).toArray();
    if (systems > 1 && system.network() == null) {
      throw new ConfigException("system", "network", null, "needed to connect " + systems + " systems (EFA bandwidth and latency)");
    }
  }

  public SystemSpec system() {
    return system;
  }

  /** Total ranks over all systems (chips when ranks are chips). */
  public int size() {
    return chips * systems * ranksPerChip;
  }

  /** Total chips over all systems. */
  public int chipCount() {
    return chips * systems;
  }

  public int ranksPerChip() {
    return ranksPerChip;
  }

  /** The chip a rank sits on. */
  public int chipOf(int rank) {
    return rank / ranksPerChip;
  }

  public int systems() {
    return systems;
  }

  public String topologyType() {
    return system.topology().type();
  }

  /** Chips that sit in the same scale-up domain (one system's fabric). */
  public boolean sameSystem(int a, int b) {
    return chipOf(a) / chips == chipOf(b) / chips;
  }

  /** The node (rented instance/server) a rank belongs to, counted over all systems. */
  public int node(int g) {
    return chipOf(g) / system.chipsPerNode();
  }

  private int[] coords(int local) {
    int[] c = new int[dims.length];
    for (int d = 0; d < dims.length; d++) {
      c[d] = local % dims[d];
      local /= dims[d];
    }
    return c;
  }

  private int index(int[] c) {
    int idx = 0;
    for (int d = dims.length - 1; d >= 0; d--) {
      idx = idx * dims[d] + c[d];
    }
    return idx;
  }

  /**
   * Position of a chip on a snake (reflected mixed-radix Gray) walk of its system's torus: chips
   * adjacent in this order are torus neighbours, and on an even torus the walk closes into a ring.
   */
  long snakeKey(int rank) {
    return chipSnakeKey(chipOf(rank)) * ranksPerChip + rank % ranksPerChip;
  }

  private long chipSnakeKey(int g) {
    long key = g / chips;
    if (!topologyType().equals("torus")) {
      return key * chips + g % chips;
    }
    int[] c = coords(g % chips);
    long pos = 0;
    int sumAbove = 0;
    for (int d = dims.length - 1; d >= 0; d--) {
      int v = (sumAbove % 2 == 1) ? dims[d] - 1 - c[d] : c[d];
      pos = pos * dims[d] + v;
      sumAbove += v;
    }
    return key * chips + pos;
  }

  /** The ranks of a group in ring order (neighbours on the topology where it allows). */
  public List<Integer> ringOrder(List<Integer> group) {
    List<Integer> g = new ArrayList<>(group);
    g.sort(Comparator.comparingLong(this::snakeKey));
    return g;
  }

  /** A directed link: identity, bandwidth per direction (bytes/s) and latency (s). */
  record Link(long id, double bytesPerSecond, double latency) {}

  List<Link> path(int srcRank, int dstRank) {
    List<Link> p = new ArrayList<>();
    if (srcRank == dstRank) {
      return p;
    }
    int src = chipOf(srcRank);
    int dst = chipOf(dstRank);
    long total = chipCount();
    if (src == dst) {
      // Two ranks of one chip: the DMA moves the data through the chip's HBM, no link.
      long base = 4L * total * 8 + 2L * total;
      p.add(new Link(base + 2L * srcRank, intraChipBytesPerSecond, 0));
      p.add(new Link(base + 2L * dstRank + 1, intraChipBytesPerSecond, 0));
      return p;
    }
    if (src / chips != dst / chips) { // chips (not ranks) of different systems
      LinkSpec n = system.network();
      double bw = n.bandwidth().bytesPerSecond();
      // EFA: sender's NIC up, receiver's NIC down; the hop latency charged once.
      p.add(new Link(4L * total * 8 + 2L * src, bw, n.latency().seconds()));
      p.add(new Link(4L * total * 8 + 2L * dst + 1, bw, 0));
      return p;
    }
    TopologySpec t = system.topology();
    switch (t.type()) {
      case "switch" -> {
        LinkSpec l = t.links().get(0);
        double bw = l.bandwidth().bytesPerSecond();
        p.add(new Link(2L * src, bw, l.latency().seconds()));
        p.add(new Link(2L * dst + 1, bw, 0));
      }
      case "torus" -> {
        int base = src - src % chips;
        int[] c = coords(src % chips);
        int[] target = coords(dst % chips);
        for (int d = 0; d < dims.length; d++) {
          LinkSpec l = t.links().get(d);
          int n = dims[d];
          int fwd = Math.floorMod(target[d] - c[d], n);
          // Shorter way round; at a tie (half-way round) even coordinates go up and odd ones down, so that
          // opposite partners (recursive halving at distance n/2) use both directions of the ring.
          int dir = fwd < n - fwd ? 1 : fwd > n - fwd ? -1 : (c[d] % 2 == 0 ? 1 : -1);
          int hops = Math.min(fwd, n - fwd);
          for (int h = 0; h < hops; h++) {
            int from = base + index(c);
            long id = ((long) from * dims.length + d) * 2 + (dir > 0 ? 0 : 1);
            p.add(new Link(id, l.bandwidth().bytesPerSecond(), l.latency().seconds()));
            c[d] = Math.floorMod(c[d] + dir, n);
          }
        }
      }
      default -> throw new ConfigException("system", "topology.type", t.type(),
          "a single chip has no links; collectives need a system with several chips");
    }
    return p;
  }

  /** Hops between two chips (links on the path). */
  public int hops(int src, int dst) {
    return path(src, dst).size();
  }

  /**
   * Time of one phase in which all flows start together: each flow takes its path's latency plus
   * its bytes at the fair share of its most loaded link; the phase ends with its slowest flow.
   */
  public PhaseCost phaseTime(List<Flow> flows) {
    Map<Long, Double> load = new HashMap<>();
    List<List<Link>> paths = new ArrayList<>(flows.size());
    double linkBytes = 0;
    for (Flow f : flows) {
      List<Link> p = path(f.src(), f.dst());
      paths.add(p);
      for (Link l : p) {
        load.merge(l.id(), f.bytes(), Double::sum);
      }
      linkBytes += f.bytes() * p.size();
    }
    double worst = 0;
    for (int i = 0; i < flows.size(); i++) {
      double lat = 0;
      double transfer = 0;
      for (Link l : paths.get(i)) {
        lat += l.latency();
        transfer = Math.max(transfer, load.get(l.id()) / l.bytesPerSecond());
      }
      worst = Math.max(worst, lat + transfer);
    }
    return new PhaseCost(worst, linkBytes);
  }
}
