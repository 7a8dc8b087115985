package trnsim.core.system;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import trnsim.core.system.Fabric.Flow;

/**
 * Collective operations on a {@link Fabric}, with the algorithms the Neuron runtime documents
 * (trainium-facts section 3): Ring (O(N) steps), KangaRing (two counter-rotating rings, each with half
 * the data), Mesh (direct, O(1) steps), RDH (recursive halving / doubling, O(log N) steps) and
 * Hierarchical (intra-node, then inter-node on the shard, then intra-node). Several groups may run
 * the same collective at once (all tensor-parallel groups of a step, say): their flows share
 * links phase by phase.
 *
 * <p>Message size {@code bytes} follows the nccl-tests convention: the per-rank buffer for
 * all-reduce, the whole gathered (scattered) buffer for all-gather (reduce-scatter), the per-rank
 * send buffer for all-to-all, and the message for send/recv. Reduction arithmetic and the HBM
 * touches it needs are not charged (links bound these collectives).
 */
public final class Collectives {
  private Collectives() {}

  /** Collective operations. */
  public enum Op {
    ALL_REDUCE("all-reduce"), ALL_GATHER("all-gather"), REDUCE_SCATTER("reduce-scatter"), ALL_TO_ALL("all-to-all"),
    SEND_RECV("send-recv");

    private final String label;

    Op(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    /** nccl-tests bus-bandwidth factor: busbw = algbw x factor. */
    public double busFactor(int n) {
      return switch (this) {
        case ALL_REDUCE -> 2.0 * (n - 1) / n;
        case ALL_GATHER, REDUCE_SCATTER, ALL_TO_ALL -> (n - 1) / (double) n;
        case SEND_RECV -> 1.0;
      };
    }

    public static Op parse(String s) {
      for (Op o : values()) {
        if (o.label.equals(s.toLowerCase(Locale.ROOT)) || o.name().equalsIgnoreCase(s)) {
          return o;
        }
      }
      throw new IllegalArgumentException("unknown collective '" + s + "'; known: all-reduce, all-gather, reduce-scatter, all-to-all, send-recv");
    }
  }

  /** Algorithms; AUTO chooses by message size as the Neuron runtime does. */
  public enum Algo {
    AUTO, RING, KANGARING, MESH, RDH, HIERARCHICAL;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Algo parse(String s) {
      try {
        return valueOf(s.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown algorithm '" + s + "'; known: auto, ring, kangaring, mesh, rdh, hierarchical");
      }
    }
  }

  /** Neuron runtime thresholds (R-INTRA): Mesh below 1 MB, RDH up to 56 MB, KangaRing above. */
  public static final double MESH_MAX_BYTES = 1e6;
  public static final double RDH_MAX_BYTES = 56e6;

  /**
   * One collective's result.
   *
   * @param seconds time from start to the last rank's completion
   * @param linkBytes bytes x hops put on links by all groups (for link energy)
   * @param steps communication phases on the critical path
   */
  public record Result(Op op, Algo algo, int ranks, int groups, double bytes, double seconds, double linkBytes, long steps,
      String note) {
    /** Algorithm bandwidth: message bytes / time. */
    public double algBandwidth() {
      return seconds > 0 ? bytes / seconds : Double.POSITIVE_INFINITY;
    }

    /** Bus bandwidth (nccl-tests): algorithm bandwidth x the op's traffic factor, comparable to link speed. */
    public double busBandwidth() {
      return algBandwidth() * op.busFactor(ranks);
    }
  }

  /** A phase repeated {@code repeat} times (ring steps are identical). */
  private record Phase(List<Flow> flows, long repeat) {}

  /** The algorithm AUTO picks for one group. */
  public static Algo choose(Fabric f, Op op, List<Integer> group, double bytes) {
    int n = group.size();
    if (op == Op.SEND_RECV || op == Op.ALL_TO_ALL) {
      return Algo.MESH;
    }
    boolean crossesSystems = false;
    for (int r : group) {
      crossesSystems |= !f.sameSystem(r, group.get(0));
    }
    if (crossesSystems && hierarchicalShape(f, group) > 0) {
      return Algo.HIERARCHICAL;
    }
    if (bytes < MESH_MAX_BYTES) {
      return Algo.MESH;
    }
    if (bytes <= RDH_MAX_BYTES && Integer.bitCount(n) == 1) {
      return Algo.RDH;
    }
    return Algo.KANGARING;
  }

  /**
   * {@code op} over the first {@code ranks} ranks (logical cores, laid out as {@code layout}) of
   * {@code systems} copies of {@code hw}: the entry point for a standalone collective, as
   * nccom-test runs one. {@code dtype} is the element type (it matters where reduction arithmetic
   * binds).
   */
  public static Result onSystem(trnsim.core.config.HardwareSpec hw, int systems, RankLayout layout, Op op, int ranks,
      double bytes, trnsim.isa.DType dtype, Algo algo) {
    Fabric f = Fabric.of(hw, systems, layout);
    if (ranks < 1 || ranks > f.size()) {
      throw new IllegalArgumentException("ranks must be between 1 and " + f.size());
    }
    List<Integer> group = new ArrayList<>();
    for (int i = 0; i < ranks; i++) {
      group.add(i);
    }
    return runOne(f, op, group, bytes, algo);
  }

  /** Runs {@code op} on one group. */
  public static Result runOne(Fabric f, Op op, List<Integer> group, double bytes, Algo algo) {
    return run(f, op, List.of(group), bytes, algo);
  }

  /** Runs {@code op} on several equal-sized groups at once (their traffic shares links). */
  public static Result run(Fabric f, Op op, List<List<Integer>> groups, double bytes, Algo algo) {
    int n = groups.get(0).size();
    for (List<Integer> g : groups) {
      if (g.size() != n) {
        throw new IllegalArgumentException("concurrent groups must have the same size");
      }
    }
    if (op == Op.SEND_RECV && n != 2) {
      throw new IllegalArgumentException("send-recv needs a group of 2 ranks");
    }
    if (n == 1) {
      return new Result(op, algo == Algo.AUTO ? Algo.MESH : algo, 1, groups.size(), bytes, 0, 0, 0, "one rank: nothing to send");
    }
    Algo a = algo == Algo.AUTO ? choose(f, op, groups.get(0), bytes) : algo;
    String note = "";
    if (algo == Algo.AUTO && a == Algo.KANGARING && bytes <= RDH_MAX_BYTES) {
      // RDH's size range, but the group is not a power of two: take the faster of mesh and KangaRing.
      Result mesh = run(f, op, groups, bytes, Algo.MESH);
      Result kanga = run(f, op, groups, bytes, Algo.KANGARING);
      Result best = mesh.seconds() <= kanga.seconds() ? mesh : kanga;
      return new Result(op, best.algo(), n, groups.size(), bytes, best.seconds(), best.linkBytes(), best.steps(),
          "rdh needs a power-of-two group; chose the faster of mesh and kangaring");
    }
    if (a == Algo.RDH && Integer.bitCount(n) != 1) {
      a = Algo.RING;
      note = "rdh needs a power-of-two group; fell back to ring";
    }
    if (a == Algo.HIERARCHICAL && hierarchicalShape(f, groups.get(0)) <= 0) {
      a = Algo.RING;
      note = "hierarchical needs the group spread evenly over several nodes; fell back to ring";
    }
    if (op == Op.SEND_RECV || op == Op.ALL_TO_ALL) {
      a = Algo.MESH;
    }
    List<Phase> phases = a == Algo.HIERARCHICAL ? hierarchical(f, op, groups, bytes) : phases(f, op, a, groups, bytes);
    double t = 0;
    double linkBytes = 0;
    long steps = 0;
    for (Phase p : phases) {
      Fabric.PhaseCost c = f.phaseTime(p.flows());
      t += c.seconds() * p.repeat();
      linkBytes += c.linkBytes() * p.repeat();
      steps += p.repeat();
    }
    return new Result(op, a, n, groups.size(), bytes, t, linkBytes, steps, note);
  }

  private static List<Phase> phases(Fabric f, Op op, Algo a, List<List<Integer>> groups, double bytes) {
    List<List<Integer>> ordered = new ArrayList<>();
    for (List<Integer> g : groups) {
      ordered.add(f.ringOrder(g));
    }
    int n = ordered.get(0).size();
    double chunk = bytes / n;
    List<Phase> out = new ArrayList<>();
    switch (op) {
      case SEND_RECV -> {
        List<Flow> fl = new ArrayList<>();
        for (List<Integer> g : groups) {
          fl.add(new Flow(g.get(0), g.get(1), bytes));
        }
        out.add(new Phase(fl, 1));
      }
      case ALL_TO_ALL -> out.add(new Phase(meshFlows(ordered, chunk), 1));
      default -> {
        int halves = op == Op.ALL_REDUCE ? 2 : 1;
        switch (a) {
          case RING -> out.add(new Phase(ringFlows(ordered, chunk, false), (long) halves * (n - 1)));
          case KANGARING -> out.add(new Phase(ringFlows(ordered, chunk, true), (long) halves * (n - 1)));
          case MESH -> out.add(new Phase(meshFlows(ordered, chunk), halves));
          case RDH -> {
            int log = Integer.numberOfTrailingZeros(n);
            if (op != Op.ALL_GATHER) { // reduce-scatter by recursive halving
              for (int k = 0; k < log; k++) {
                out.add(new Phase(xorFlows(ordered, n >> (k + 1), bytes / (2L << k)), 1));
              }
            }
            if (op != Op.REDUCE_SCATTER) { // all-gather by recursive doubling
              for (int k = log - 1; k >= 0; k--) {
                out.add(new Phase(xorFlows(ordered, n >> (k + 1), bytes / (2L << k)), 1));
              }
            }
          }
          default -> throw new IllegalStateException(a.toString());
        }
      }
    }
    return out;
  }

  private static List<Flow> ringFlows(List<List<Integer>> groups, double chunk, boolean both) {
    List<Flow> fl = new ArrayList<>();
    for (List<Integer> g : groups) {
      int n = g.size();
      for (int i = 0; i < n; i++) {
        if (both) {
          fl.add(new Flow(g.get(i), g.get((i + 1) % n), chunk / 2));
          fl.add(new Flow(g.get(i), g.get((i + n - 1) % n), chunk / 2));
        } else {
          fl.add(new Flow(g.get(i), g.get((i + 1) % n), chunk));
        }
      }
    }
    return fl;
  }

  private static List<Flow> meshFlows(List<List<Integer>> groups, double chunk) {
    List<Flow> fl = new ArrayList<>();
    for (List<Integer> g : groups) {
      for (int s : g) {
        for (int d : g) {
          if (s != d) {
            fl.add(new Flow(s, d, chunk));
          }
        }
      }
    }
    return fl;
  }

  private static List<Flow> xorFlows(List<List<Integer>> groups, int distance, double bytes) {
    List<Flow> fl = new ArrayList<>();
    for (List<Integer> g : groups) {
      for (int i = 0; i < g.size(); i++) {
        fl.add(new Flow(g.get(i), g.get(i ^ distance), bytes));
      }
    }
    return fl;
  }

  /**
   * Ranks per node when the group is spread evenly over at least two nodes (systems count as
   * nodes when there are several), else 0.
   */
  static int hierarchicalShape(Fabric f, List<Integer> group) {
    java.util.Map<Integer, Integer> perNode = new java.util.TreeMap<>();
    for (int r : group) {
      perNode.merge(nodeOf(f, r), 1, Integer::sum);
    }
    if (perNode.size() < 2) {
      return 0;
    }
    int k = perNode.values().iterator().next();
    for (int v : perNode.values()) {
      if (v != k) {
        return 0;
      }
    }
    return k;
  }

  private static int nodeOf(Fabric f, int r) {
    return f.systems() > 1 ? f.chipOf(r) / f.system().chips() : f.node(r);
  }

  /** Intra-node part, inter-node part on the 1/k shard, intra-node part (for all-reduce). */
  private static List<Phase> hierarchical(Fabric f, Op op, List<List<Integer>> groups, double bytes) {
    List<List<Integer>> intra = new ArrayList<>();
    List<List<Integer>> inter = new ArrayList<>();
    for (List<Integer> g : groups) {
      java.util.Map<Integer, List<Integer>> byNode = new java.util.TreeMap<>();
      for (int r : f.ringOrder(g)) {
        byNode.computeIfAbsent(nodeOf(f, r), x -> new ArrayList<>()).add(r);
      }
      List<List<Integer>> nodes = new ArrayList<>(byNode.values());
      intra.addAll(nodes);
      int k = nodes.get(0).size();
      for (int i = 0; i < k; i++) {
        List<Integer> peers = new ArrayList<>();
        for (List<Integer> nd : nodes) {
          peers.add(nd.get(i));
        }
        inter.add(peers);
      }
    }
    int k = intra.get(0).size();
    List<Phase> out = new ArrayList<>();
    Algo intraAlgo = k == 1 ? null : (Integer.bitCount(k) == 1 && bytes <= RDH_MAX_BYTES ? Algo.RDH : Algo.KANGARING);
    Algo interAlgo = Algo.RING;
    switch (op) {
      case ALL_REDUCE -> {
        if (intraAlgo != null) {
          out.addAll(phases(f, Op.REDUCE_SCATTER, intraAlgo, intra, bytes));
        }
        out.addAll(phases(f, Op.ALL_REDUCE, interAlgo, inter, bytes / k));
        if (intraAlgo != null) {
          out.addAll(phases(f, Op.ALL_GATHER, intraAlgo, intra, bytes));
        }
      }
      case REDUCE_SCATTER -> {
        if (intraAlgo != null) {
          out.addAll(phases(f, Op.REDUCE_SCATTER, intraAlgo, intra, bytes));
        }
        out.addAll(phases(f, Op.REDUCE_SCATTER, interAlgo, inter, bytes / k));
      }
      case ALL_GATHER -> {
        out.addAll(phases(f, Op.ALL_GATHER, interAlgo, inter, bytes / k));
        if (intraAlgo != null) {
          out.addAll(phases(f, Op.ALL_GATHER, intraAlgo, intra, bytes));
        }
      }
      default -> throw new IllegalStateException(op.toString());
    }
    return out;
  }
}
