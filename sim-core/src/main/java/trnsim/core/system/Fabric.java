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
 *
 * <p>With a collective runtime ({@link CollectiveCosts}, from the chip's {@code collectives:}
 * block) every transfer is a DMA: it leaves through the sending rank's DMA rings (all its flows
 * share them; one flow uses at most one ring per packet), reads the source chip's HBM and writes
 * the destination chip's HBM (two touches of one HBM when both ranks sit on the same chip, which
 * is then the whole path). Without one, two ranks of a chip exchange data over a fixed
 * intra-chip bandwidth and links are the only limit.
 */
public final class Fabric {
  /** One transfer in a phase. */
  public record Flow(int src, int dst, double bytes) {}

  /**
   * A phase's time, the bytes it put on links (bytes x hops, for link energy) and the hop latency of
   * the flow that finished last (the rest of its time is bytes at its bottleneck).
   */
  public record PhaseCost(double seconds, double linkBytes, double latencySeconds) {
    public double transferSeconds() {
      return seconds - latencySeconds;
    }
  }

  private final SystemSpec system;
  private final int systems;
  private final int chips;
  private final int[] dims;
  /** Collective ranks per chip (Neuron: one per logical NeuronCore); 1 = ranks are chips. */
  private final int ranksPerChip;
  /** Bandwidth per direction between two ranks of one chip without a collective runtime. */
  private final double intraChipBytesPerSecond;
  /** The collective runtime's per-rank costs (bare: links only). */
  private final CollectiveCosts costs;

  /**
   * The fabric of {@code systems} copies of {@code hw} with ranks laid out as {@code layout}, with
   * the chip's collective runtime ({@link CollectiveCosts#of}). A chip without a
   * {@code collectives:} block gets the bare link model, and two ranks of one chip exchange data at
   * its sustained HBM bandwidth shared by its ranks.
   */
  public static Fabric of(trnsim.core.config.HardwareSpec hw, int systems, RankLayout layout) {
    int rpc = layout.ranksPerChip();
    double intra = hw.chip().hbm().sustainedBytesPerSecond() / Math.max(1, rpc);
    return new Fabric(hw.system(), systems, rpc, intra, CollectiveCosts.of(hw, layout));
  }

  /** {@link #of(trnsim.core.config.HardwareSpec, int, RankLayout)} with one rank per chip. */
  public static Fabric of(trnsim.core.config.HardwareSpec hw, int systems) {
    return of(hw, systems, new RankLayout(hw.chip().cores(), hw.chip().cores()));
  }

  /** Ranks are chips; the bare link model. */
  public Fabric(SystemSpec system, int systems) {
    this(system, systems, 1, Double.POSITIVE_INFINITY);
  }

  /** The bare link model with {@code ranksPerChip} ranks per chip. */
  public Fabric(SystemSpec system, int systems, int ranksPerChip, double intraChipBytesPerSecond) {
    this(system, systems, ranksPerChip, intraChipBytesPerSecond, CollectiveCosts.bare());
  }

  /**
   * Ranks are the {@code ranksPerChip} logical cores of each chip: rank {@code r} sits on chip
   * {@code r / ranksPerChip}. Two ranks of one chip exchange data at {@code intraChipBytesPerSecond}
   * per direction without touching any link, unless {@code costs} models DMA (then through the
   * chip's HBM and the sender's DMA rings).
   */
  public Fabric(SystemSpec system, int systems, int ranksPerChip, double intraChipBytesPerSecond,
      CollectiveCosts costs) {
    if (systems < 1) {
      throw new IllegalArgumentException("systems must be >= 1");
    }
    if (ranksPerChip < 1) {
      throw new IllegalArgumentException("ranks per chip must be >= 1");
    }
    this.ranksPerChip = ranksPerChip;
    this.intraChipBytesPerSecond = intraChipBytesPerSecond;
    this.costs = costs;
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

  /** The collective runtime's costs this fabric charges (bare: links only). */
  public CollectiveCosts costs() {
    return costs;
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

  /**
   * The ranks of a group in hypercube order, for recursive halving / doubling (R-INTRA: the 2D torus
   * seen as a 4D hypercube): a chip's label is the Gray code of its coordinate in each torus
   * dimension, so on rings of 2 or 4 chips flipping one label bit moves to a torus neighbour; the
   * rank's index on its chip forms the high bits, so that halving starts with the exchange between
   * the ranks of one chip (RDH reduce-scatter's intra-chip stage) and doubling ends with it.
   */
  public List<Integer> cubeOrder(List<Integer> group) {
    List<Integer> g = new ArrayList<>(group);
    g.sort(Comparator.comparingLong(this::cubeKey));
    return g;
  }

  private long cubeKey(int rank) {
    int g = chipOf(rank);
    long label = g % chips;
    if (topologyType().equals("torus")) {
      int[] c = coords(g % chips);
      label = 0;
      for (int d = dims.length - 1; d >= 0; d--) {
        label = label * dims[d] + (c[d] ^ (c[d] >> 1));
      }
    }
    int local = rank % ranksPerChip;
    long systemIndex = g / chips;
    return ((long) local * systems + systemIndex) * chips + label;
  }

  /** The ranks of a group in ring order (neighbours on the topology where it allows). */
  public List<Integer> ringOrder(List<Integer> group) {
    List<Integer> g = new ArrayList<>(group);
    g.sort(Comparator.comparingLong(this::snakeKey));
    return g;
  }

  /**
   * A directed link: identity, bandwidth per direction (bytes/s), latency (s), and whether it is a
   * wire (NeuronLink, switch port, EFA; counted in link bytes) or a resource inside a chip (DMA
   * rings, HBM, the intra-chip path).
   */
  record Link(long id, double bytesPerSecond, double latency, boolean wire) {
    Link(long id, double bytesPerSecond, double latency) {
      this(id, bytesPerSecond, latency, true);
    }
  }

  private long efaBase() {
    return 64L * chipCount();
  }

  private long intraBase() {
    return efaBase() + 2L * chipCount();
  }

  private long dmaBase() {
    return intraBase() + 2L * size();
  }

  private long hbmBase() {
    return dmaBase() + size();
  }

  /** The route of a collective transfer: with DMA modelled, the sender's rings and both HBMs around the wires. */
  List<Link> path(int srcRank, int dstRank) {
    List<Link> wires = wirePath(srcRank, dstRank);
    if (!costs.modelsDma() || srcRank == dstRank) {
      return wires;
    }
    List<Link> p = new ArrayList<>(wires.size() + 3);
    p.add(new Link(dmaBase() + srcRank, costs.rankBytesPerSecond(), 0, false));
    p.add(new Link(hbmBase() + chipOf(srcRank), costs.hbmBytesPerSecond(), 0, false));
    p.addAll(wires);
    p.add(new Link(hbmBase() + chipOf(dstRank), costs.hbmBytesPerSecond(), 0, false));
    return p;
  }

  /** The wires between two ranks (for ranks of one chip without DMA modelled: the intra-chip path). */
  List<Link> wirePath(int srcRank, int dstRank) {
    List<Link> p = new ArrayList<>();
    if (srcRank == dstRank) {
      return p;
    }
    int src = chipOf(srcRank);
    int dst = chipOf(dstRank);
    if (src == dst) {
      if (!costs.modelsDma()) {
        // Two ranks of one chip, no collective runtime: a fixed intra-chip bandwidth, no link.
        p.add(new Link(intraBase() + 2L * srcRank, intraChipBytesPerSecond, 0, false));
        p.add(new Link(intraBase() + 2L * dstRank + 1, intraChipBytesPerSecond, 0, false));
      }
      return p;
    }
    if (!sameSystem(srcRank, dstRank)) {
      LinkSpec n = system.network();
      double bw = n.bandwidth().bytesPerSecond();
      // EFA: sender's NIC up, receiver's NIC down; the hop latency charged once.
      p.add(new Link(efaBase() + 2L * src, bw, n.latency().seconds()));
      p.add(new Link(efaBase() + 2L * dst + 1, bw, 0));
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

  /** Wires (NeuronLink or switch hops, EFA ports) between two ranks. */
  public int hops(int srcRank, int dstRank) {
    int n = 0;
    for (Link l : wirePath(srcRank, dstRank)) {
      n += l.wire() ? 1 : 0;
    }
    return n;
  }

  /**
   * Time of one phase in which all flows start together: each flow takes its path's latency plus
   * its bytes at the fair share of its most loaded link, and no less than its bytes at the DMA rings
   * its size can use ({@link CollectiveCosts#flowBytesPerSecond}); the phase ends with its slowest
   * flow.
   */
  public PhaseCost phaseTime(List<Flow> flows) {
    return phaseTime(flows, true);
  }

  /**
   * As {@link #phaseTime(List)}; with {@code viaRuntime} false the flows are raw writes between
   * memories (an RDMA write as ib_write_lat times it): wires only, no DMA rings, no HBM.
   */
  public PhaseCost phaseTime(List<Flow> flows, boolean viaRuntime) {
    Map<Long, Double> load = new HashMap<>();
    List<List<Link>> paths = new ArrayList<>(flows.size());
    double linkBytes = 0;
    for (Flow f : flows) {
      List<Link> p = viaRuntime ? path(f.src(), f.dst()) : wirePath(f.src(), f.dst());
      paths.add(p);
      for (Link l : p) {
        load.merge(l.id(), f.bytes(), Double::sum);
        linkBytes += l.wire() ? f.bytes() : 0;
      }
    }
    double worst = 0;
    double worstLatency = 0;
    for (int i = 0; i < flows.size(); i++) {
      double lat = 0;
      double transfer = viaRuntime ? flows.get(i).bytes() / costs.flowBytesPerSecond(flows.get(i).bytes()) : 0;
      for (Link l : paths.get(i)) {
        lat += l.latency();
        transfer = Math.max(transfer, load.get(l.id()) / l.bytesPerSecond());
      }
      if (lat + transfer > worst) {
        worst = lat + transfer;
        worstLatency = lat;
      }
    }
    return new PhaseCost(worst, linkBytes, worstLatency);
  }
}
