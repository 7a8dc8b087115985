package trnsim.core.system;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import trnsim.core.system.Fabric.Flow;
import trnsim.isa.DType;

/**
 * Collective operations on a {@link Fabric}, with the algorithms the Neuron runtime documents
 * (trainium-facts section 3, R-INTRA, R-INTER): Ring (O(N) steps), KangaRing (rings over the pairs of
 * ranks of a chip, O(N/2) steps; two counter-rotating rings with half the data each when ranks are
 * chips), Mesh (direct, O(1) steps; two steps, across chips then within them, with several ranks per
 * chip), RDH (recursive halving / doubling in hypercube order, O(log N) steps) and Hierarchical
 * (intra-node, then inter-node on the shard, then intra-node). Several groups may run
 * the same collective at once (all tensor-parallel groups of a step, say): their flows share
 * links phase by phase.
 *
 * <p>Message size {@code bytes} follows the nccl-tests convention: the per-rank buffer for
 * all-reduce, the whole gathered (scattered) buffer for all-gather (reduce-scatter), the per-rank
 * send buffer for all-to-all, and the message for send/recv.
 *
 * <p>Time = fixed + the sum over algorithm steps of (transfer issue + hop latency + bytes at the
 * bottleneck, with the reduction of a reducing step pipelined against its transfer in two slices).
 * The fixed part is the runtime's host launch, paid by a standalone collective (nccom-test) and not
 * by one inside a compiled graph. The fabric's {@link CollectiveCosts} supply the launch, the
 * per-transfer cost, the DMA rings, HBM and the reduction rate; the bare link model (GPU configs)
 * has none of them, so only links and their latency count there.
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

  /** Algorithms; AUTO chooses as the fabric's runtime does ({@link #choose}). */
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
   * @param seconds time from start to the last rank's completion: fixed + sync + transfer + reduce
   * @param linkBytes bytes x hops put on links by all groups (for link energy)
   * @param steps communication phases on the critical path
   * @param dtype element type (it sets how many elements a reduction handles)
   * @param standalone whether the host launch was charged (a standalone collective, as nccom-test
   *     times it) or not (a collective inside a compiled graph)
   * @param fixedSeconds the runtime's host launch (standalone only)
   * @param syncSeconds per-step latency: DMA transfer issue and semaphore hand-off per peer, plus the
   *     hop latency of each step's slowest flow
   * @param transferSeconds bytes at the bottleneck (links, DMA rings, HBM) of each step
   * @param reduceSeconds reduction time not hidden behind the transfers
   */
  public record Result(Op op, Algo algo, int ranks, int groups, double bytes, double seconds, double linkBytes, long steps,
      String note, DType dtype, boolean standalone, double fixedSeconds, double syncSeconds, double transferSeconds,
      double reduceSeconds) {
    /** Algorithm bandwidth: message bytes / time. */
    public double algBandwidth() {
      return seconds > 0 ? bytes / seconds : Double.POSITIVE_INFINITY;
    }

    /** Bus bandwidth (nccl-tests): algorithm bandwidth x the op's traffic factor, comparable to link speed. */
    public double busBandwidth() {
      return algBandwidth() * op.busFactor(ranks);
    }

    Result withNote(String n) {
      return new Result(op, algo, ranks, groups, bytes, seconds, linkBytes, steps, n, dtype, standalone, fixedSeconds,
          syncSeconds, transferSeconds, reduceSeconds);
    }
  }

  /** A phase repeated {@code repeat} times (ring steps are identical); {@code reduces}: ranks reduce what they receive. */
  private record Phase(List<Flow> flows, long repeat, boolean reduces) {
    Phase(List<Flow> flows, long repeat) {
      this(flows, repeat, false);
    }
  }

  /**
   * nccom-test's element types (uint8, int8, uint16, int16, fp16, bf16, uint32, int32, fp32) and
   * trnsim's dtype names onto a {@link DType}. Only the width matters to the collective model, so the
   * unsigned types map onto the signed type of their width (uint16/int16 onto fp16).
   */
  public static DType elementType(String text) {
    String k = text.trim().toLowerCase(Locale.ROOT);
    return switch (k) {
      case "uint8", "int8" -> DType.INT8;
      case "uint16", "int16" -> DType.FP16;
      case "uint32", "int32" -> DType.INT32;
      default -> {
        try {
          yield DType.parse(k);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("unknown element type '" + text
              + "'; known: fp32, bf16, fp16, int32, uint32, int16, uint16, int8, uint8");
        }
      }
    };
  }

  /** The element type in-graph collectives default to (LLM activations and gradients). */
  public static final DType DEFAULT_DTYPE = DType.BF16;

  /**
   * The algorithm AUTO picks for one group, as the fabric's runtime does: hierarchical when the
   * group spans several nodes evenly; inside a node, ring (the 2023 runtime) or, by size, mesh below
   * 1 MB, RDH up to 56 MB for power-of-two groups and KangaRing above (R-INTRA).
   */
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
    if (!f.costs().sizeBasedAlgorithms()) {
      return Algo.RING;
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
   * {@code op} over {@code ranks} ranks (logical cores, laid out as {@code layout}) of
   * {@code systems} copies of {@code hw}, timed standalone as nccom-test runs it (host launch
   * included). The ranks are divided equally over the systems (nccom-test {@code -N}): the first
   * {@code ranks / systems} ranks of each. {@code dtype} is the element type (it matters where
   * reduction arithmetic binds).
   */
  public static Result onSystem(trnsim.core.config.HardwareSpec hw, int systems, RankLayout layout, Op op, int ranks,
      double bytes, DType dtype, Algo algo) {
    return onSystem(hw, systems, layout, op, ranks, bytes, dtype, algo, true);
  }

  /** As {@link #onSystem(trnsim.core.config.HardwareSpec, int, RankLayout, Op, int, double, DType, Algo)}; {@code standalone} false times it as inside a compiled graph. */
  public static Result onSystem(trnsim.core.config.HardwareSpec hw, int systems, RankLayout layout, Op op, int ranks,
      double bytes, DType dtype, Algo algo, boolean standalone) {
    Fabric f = Fabric.of(hw, systems, layout);
    return runOne(f, op, spread(f, ranks), bytes, algo, dtype, standalone);
  }

  /**
   * The first {@code ranks / systems} ranks of each system (all ranks of one system when there is
   * one), the way nccom-test places {@code -r} workers on {@code -N} nodes.
   */
  public static List<Integer> spread(Fabric f, int ranks) {
    int systems = f.systems();
    int perSystem = f.size() / systems;
    if (ranks < 1 || ranks > f.size()) {
      throw new IllegalArgumentException("ranks must be between 1 and " + f.size());
    }
    if (ranks % systems != 0) {
      throw new IllegalArgumentException("ranks (" + ranks + ") must divide evenly over " + systems + " systems");
    }
    List<Integer> group = new ArrayList<>();
    for (int s = 0; s < systems; s++) {
      for (int i = 0; i < ranks / systems; i++) {
        group.add(s * perSystem + i);
      }
    }
    return group;
  }

  /**
   * A raw point-to-point write of {@code bytes} from rank {@code src} to rank {@code dst}, as an
   * RDMA latency test (ib_write_lat) times it: the wires' latency and bandwidth only, no collective
   * runtime (no launch, no DMA rings, no semaphores).
   */
  public static Result rawTransfer(Fabric f, int src, int dst, double bytes) {
    Fabric.PhaseCost c = f.phaseTime(List.of(new Flow(src, dst, bytes)), false);
    return new Result(Op.SEND_RECV, Algo.MESH, 2, 1, bytes, c.seconds(), c.linkBytes(), 1, "raw write: no collective runtime",
        DType.INT8, true, 0, c.latencySeconds(), c.transferSeconds(), 0);
  }

  /** Runs {@code op} on one group inside a compiled graph, bf16. */
  public static Result runOne(Fabric f, Op op, List<Integer> group, double bytes, Algo algo) {
    return run(f, op, List.of(group), bytes, algo);
  }

  /** Runs {@code op} on one group; {@code standalone} charges the host launch. */
  public static Result runOne(Fabric f, Op op, List<Integer> group, double bytes, Algo algo, DType dtype,
      boolean standalone) {
    return run(f, op, List.of(group), bytes, algo, dtype, standalone);
  }

  /**
   * Runs {@code op} on several equal-sized groups at once (their traffic shares links), as inside a
   * compiled graph (no host launch), on bf16 elements.
   */
  public static Result run(Fabric f, Op op, List<List<Integer>> groups, double bytes, Algo algo) {
    return run(f, op, groups, bytes, algo, DEFAULT_DTYPE, false);
  }

  /**
   * Runs {@code op} on several equal-sized groups at once (their traffic shares links).
   * {@code standalone} charges the runtime's host launch (a collective launched on its own, as
   * nccom-test does); false times it as one collective of a compiled graph.
   */
  public static Result run(Fabric f, Op op, List<List<Integer>> groups, double bytes, Algo algo, DType dtype,
      boolean standalone) {
    int n = groups.get(0).size();
    for (List<Integer> g : groups) {
      if (g.size() != n) {
        throw new IllegalArgumentException("concurrent groups must have the same size");
      }
    }
    if (op == Op.SEND_RECV && n != 2) {
      throw new IllegalArgumentException("send-recv needs a group of 2 ranks");
    }
    if (!(bytes > 0) || Double.isInfinite(bytes)) {
      throw new IllegalArgumentException("message size must be positive: " + bytes);
    }
    if (n == 1) {
      return new Result(op, algo == Algo.AUTO ? Algo.MESH : algo, 1, groups.size(), bytes, 0, 0, 0, "one rank: nothing to send",
          dtype, standalone, 0, 0, 0, 0);
    }
    Algo a = algo == Algo.AUTO ? choose(f, op, groups.get(0), bytes) : algo;
    String note = "";
    if (algo == Algo.AUTO && a == Algo.KANGARING && bytes <= RDH_MAX_BYTES) {
      // RDH's size range, but the group is not a power of two: take the faster of mesh and KangaRing.
      Result mesh = run(f, op, groups, bytes, Algo.MESH, dtype, standalone);
      Result kanga = run(f, op, groups, bytes, Algo.KANGARING, dtype, standalone);
      Result best = mesh.seconds() <= kanga.seconds() ? mesh : kanga;
      return best.withNote("rdh needs a power-of-two group; chose the faster of mesh and kangaring");
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
    return cost(f, op, a, n, groups.size(), bytes, dtype, standalone, phases, note);
  }

  /** Adds up the phases: per-step issue and latency, bytes at the bottleneck, exposed reduction. */
  private static Result cost(Fabric f, Op op, Algo a, int n, int groups, double bytes, DType dtype, boolean standalone,
      List<Phase> phases, String note) {
    CollectiveCosts k = f.costs();
    double elementBytes = dtype.bits() / 8.0;
    double sync = 0;
    double transfer = 0;
    double reduce = 0;
    double linkBytes = 0;
    long steps = 0;
    double reduceScatterBytes = 0; // time of the bytes (and exposed reduction) of an all-reduce's leading reducing phases
    boolean leading = true;
    for (Phase p : phases) {
      Fabric.PhaseCost c = f.phaseTime(p.flows());
      double issue = k.issueSeconds(maxTransfersPerRank(p.flows()));
      double tx = c.transferSeconds();
      double exposed = 0;
      if (p.reduces()) {
        double tr = maxReceivedBytes(p.flows()) / elementBytes / k.reduceElementsPerSecond();
        exposed = pipelined(tx, tr) - tx;
      }
      leading &= p.reduces();
      if (leading) {
        reduceScatterBytes += (tx + exposed) * p.repeat();
      }
      sync += (issue + c.latencySeconds()) * p.repeat();
      transfer += tx * p.repeat();
      reduce += exposed * p.repeat();
      linkBytes += c.linkBytes() * p.repeat();
      steps += p.repeat();
    }
    double fixed = standalone ? launchSeconds(k, op, reduceScatterBytes) : 0;
    return new Result(op, a, n, groups, bytes, fixed + sync + transfer + reduce, linkBytes, steps, note, dtype, standalone,
        fixed, sync, transfer, reduce);
  }

  /**
   * The host launch a standalone collective pays before (and beyond) its steps. An all-reduce runs
   * as its reduce-scatter half followed by its all-gather half (R-INTRA); the runtime's setup of
   * the all-gather half, the last {@code gatherSetupSeconds} of the launch, proceeds while the
   * reduce-scatter half's bytes move (its transfers and the reduction they expose; their issue and
   * hop latency wait for the launch as any step does), so that much of the launch is hidden:
   * launch - min(gatherSetup, reduce-scatter bytes). Other operations have one half and pay the
   * whole launch. The bare model has neither.
   */
  static double launchSeconds(CollectiveCosts k, Op op, double reduceScatterBytesSeconds) {
    double hidden = op == Op.ALL_REDUCE ? Math.min(k.gatherSetupSeconds(), reduceScatterBytesSeconds) : 0;
    return k.launchSeconds() - hidden;
  }

  /**
   * A reducing step sends its chunk in two slices so that the first slice's reduction overlaps the
   * second slice's transfer (R-INTRA, R-INTER): the longer of the two, plus half of the shorter.
   */
  static double pipelined(double transferSeconds, double reduceSeconds) {
    return Math.max(transferSeconds, reduceSeconds) + Math.min(transferSeconds, reduceSeconds) / 2;
  }

  private static int maxTransfersPerRank(List<Flow> flows) {
    java.util.Map<Integer, Integer> perRank = new java.util.HashMap<>();
    int max = 0;
    for (Flow fl : flows) {
      if (fl.bytes() > 0) {
        max = Math.max(max, perRank.merge(fl.src(), 1, Integer::sum));
      }
    }
    return max;
  }

  private static double maxReceivedBytes(List<Flow> flows) {
    java.util.Map<Integer, Double> perRank = new java.util.HashMap<>();
    double max = 0;
    for (Flow fl : flows) {
      max = Math.max(max, perRank.merge(fl.dst(), fl.bytes(), Double::sum));
    }
    return max;
  }

  private static List<Phase> phases(Fabric f, Op op, Algo a, List<List<Integer>> groups, double bytes) {
    List<List<Integer>> ordered = new ArrayList<>();
    for (List<Integer> g : groups) {
      ordered.add(f.ringOrder(g));
    }
    int n = ordered.get(0).size();
    double chunk = bytes / n;
    List<Phase> out = new ArrayList<>();
    boolean scatter = op == Op.ALL_REDUCE || op == Op.REDUCE_SCATTER;
    boolean gather = op == Op.ALL_REDUCE || op == Op.ALL_GATHER;
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
        switch (a) {
          case RING, KANGARING -> {
            List<List<int[]>> pairs = a == Algo.KANGARING ? kangaPairs(f, ordered) : null;
            List<Flow> fl = pairs != null ? pairFlows(pairs, chunk) : ringFlows(ordered, chunk, a == Algo.KANGARING);
            long repeat = pairs != null ? pairs.get(0).size() - 1 : n - 1;
            if (scatter) {
              if (pairs != null) { // step 0: each primary reduces its partner's chunk with its own
                out.add(new Phase(partnerFlows(pairs, chunk), 1, true));
              }
              out.add(new Phase(fl, repeat, true));
            }
            if (gather) {
              if (pairs != null) { // step 0: partners exchange their own chunks
                out.add(new Phase(partnerFlows(pairs, chunk), 1, false));
              }
              out.add(new Phase(fl, repeat, false));
            }
          }
          case MESH -> {
            List<List<List<Integer>>> chips = chipsOf(f, ordered);
            if (chips == null) { // one rank per chip (or uneven): every rank writes to every other rank
              if (scatter) {
                out.add(new Phase(meshFlows(ordered, chunk), 1, true));
              }
              if (gather) {
                out.add(new Phase(meshFlows(ordered, chunk), 1, false));
              }
            } else { // R-INTRA's two-step mesh: inter-chip step, then within each chip
              List<List<Flow>> two = twoLevelMesh(chips, chunk);
              if (scatter) { // the mirror image of the all-gather: same transfers, reducing
                out.add(new Phase(two.get(0), 1, true));
                out.add(new Phase(two.get(1), 1, true));
              }
              if (gather) {
                out.add(new Phase(two.get(0), 1, false));
                out.add(new Phase(two.get(1), 1, false));
              }
            }
          }
          case RDH -> {
            List<List<Integer>> cube = new ArrayList<>();
            for (List<Integer> g : groups) {
              cube.add(f.cubeOrder(g));
            }
            int log = Integer.numberOfTrailingZeros(n);
            int chipBits = log - Integer.numberOfTrailingZeros(Math.max(1, ranksOnFirstChip(f, cube.get(0))));
            if (scatter) { // reduce-scatter by recursive halving: the ranks of a chip first, then across chips
              for (int k = 0; k < log; k++) {
                out.add(new Phase(rdhFlows(cube, log - 1 - k, chipBits, bytes / (2L << k)), 1, true));
              }
            }
            if (gather) { // all-gather by recursive doubling: across chips, then within each chip
              for (int k = log - 1; k >= 0; k--) {
                out.add(new Phase(rdhFlows(cube, log - 1 - k, chipBits, bytes / (2L << k)), 1, false));
              }
            }
          }
          default -> throw new IllegalStateException(a.toString());
        }
      }
    }
    return out;
  }

  /**
   * KangaRing's pairs (R-INTRA): consecutive ranks of the ring order that sit on one chip, one the
   * primary of the clockwise ring and the other of the counter-clockwise ring. Null when some rank
   * has no partner on its chip, or a group has fewer than two pairs (then KangaRing runs as two
   * counter-rotating rings over all ranks, as the runtime falls back to ring for one rank per chip).
   */
  private static List<List<int[]>> kangaPairs(Fabric f, List<List<Integer>> ordered) {
    List<List<int[]>> out = new ArrayList<>();
    for (List<Integer> g : ordered) {
      if (g.size() % 2 != 0 || g.size() < 4) {
        return null;
      }
      List<int[]> pairs = new ArrayList<>();
      for (int i = 0; i < g.size(); i += 2) {
        if (f.chipOf(g.get(i)) != f.chipOf(g.get(i + 1))) {
          return null;
        }
        pairs.add(new int[] {g.get(i), g.get(i + 1)});
      }
      out.add(pairs);
    }
    return out;
  }

  /**
   * One KangaRing step over each group's pairs (a_i, b_i) in ring order: a_i writes a chunk to
   * a_{i+1} and duplicates it to its partner b_i; b_i writes to b_{i-1} and duplicates to a_i. A
   * reduce-scatter step has the same flows (the primary reads its partner's chunk and reduces it
   * with the one received).
   */
  private static List<Flow> pairFlows(List<List<int[]>> groups, double chunk) {
    List<Flow> fl = new ArrayList<>();
    for (List<int[]> g : groups) {
      int p = g.size();
      for (int i = 0; i < p; i++) {
        int a = g.get(i)[0];
        int b = g.get(i)[1];
        fl.add(new Flow(a, g.get((i + 1) % p)[0], chunk));
        fl.add(new Flow(a, b, chunk));
        fl.add(new Flow(b, g.get((i + p - 1) % p)[1], chunk));
        fl.add(new Flow(b, a, chunk));
      }
    }
    return fl;
  }

  /** Partners of each pair swap a chunk (KangaRing's step 0). */
  private static List<Flow> partnerFlows(List<List<int[]>> groups, double chunk) {
    List<Flow> fl = new ArrayList<>();
    for (List<int[]> g : groups) {
      for (int[] p : g) {
        fl.add(new Flow(p[0], p[1], chunk));
        fl.add(new Flow(p[1], p[0], chunk));
      }
    }
    return fl;
  }

  /**
   * Each group's ranks by chip (chips in the order first met), or null when some group has one rank
   * per chip, a single chip, or an uneven number of ranks per chip.
   */
  private static List<List<List<Integer>>> chipsOf(Fabric f, List<List<Integer>> groups) {
    List<List<List<Integer>>> out = new ArrayList<>();
    for (List<Integer> g : groups) {
      java.util.Map<Integer, List<Integer>> byChip = new java.util.LinkedHashMap<>();
      for (int r : g) {
        byChip.computeIfAbsent(f.chipOf(r), x -> new ArrayList<>()).add(r);
      }
      List<List<Integer>> chips = new ArrayList<>(byChip.values());
      int k = chips.get(0).size();
      if (k < 2 || chips.size() < 2) {
        return null;
      }
      for (List<Integer> c : chips) {
        if (c.size() != k) {
          return null;
        }
      }
      out.add(chips);
    }
    return out;
  }

  /**
   * R-INTRA's mesh all-gather for k ranks per chip on G chips. Step 0: rank i of chip c writes the
   * chip's k chunks (one transfer) to rank i of every chip d with (d - c) mod k = i, so each rank
   * serves about (G-1)/k chips and receives from as many; the ranks of a chip also swap their own
   * chunks (the local reads). Step 1: each rank broadcasts what it received to the other ranks of
   * its chip. Returns the two steps' flows.
   */
  private static List<List<Flow>> twoLevelMesh(List<List<List<Integer>>> groups, double chunk) {
    List<Flow> step0 = new ArrayList<>();
    List<Flow> step1 = new ArrayList<>();
    for (List<List<Integer>> chips : groups) {
      int g = chips.size();
      int k = chips.get(0).size();
      int[][] received = new int[g][k];
      for (int c = 0; c < g; c++) {
        for (int d = 0; d < g; d++) {
          if (d != c) {
            int i = Math.floorMod(d - c, k);
            step0.add(new Flow(chips.get(c).get(i), chips.get(d).get(i), k * chunk));
            received[d][i]++;
          }
        }
        for (int i = 0; i < k; i++) {
          for (int j = 0; j < k; j++) {
            if (i != j) {
              step0.add(new Flow(chips.get(c).get(i), chips.get(c).get(j), chunk));
            }
          }
        }
      }
      for (int d = 0; d < g; d++) {
        for (int i = 0; i < k; i++) {
          for (int j = 0; j < k; j++) {
            if (i != j && received[d][i] > 0) {
              step1.add(new Flow(chips.get(d).get(i), chips.get(d).get(j), received[d][i] * k * chunk));
            }
          }
        }
      }
    }
    return List.of(step0, step1);
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

  /** Ranks of a group on the chip of its first rank (power of two when the group is). */
  private static int ranksOnFirstChip(Fabric f, List<Integer> group) {
    int k = 0;
    for (int r : group) {
      k += f.chipOf(r) == f.chipOf(group.get(0)) ? 1 : 0;
    }
    return Integer.bitCount(k) == 1 ? k : 1;
  }

  /**
   * One recursive halving / doubling step: position i of each group (in cube order) exchanges
   * {@code bytes} with the position that differs in bit {@code bit}. The low {@code chipBits} bits
   * select the chip; the ranks of a chip (the high bits: one recursive-doubling group per chip
   * index, R-INTRA) take the chip bits in rotated orders, so that they leave the chip over
   * different torus axes at each step.
   */
  private static List<Flow> rdhFlows(List<List<Integer>> groups, int bit, int chipBits, double bytes) {
    List<Flow> fl = new ArrayList<>();
    for (List<Integer> g : groups) {
      int n = g.size();
      int localGroups = n >> chipBits;
      for (int i = 0; i < n; i++) {
        int b = bit;
        if (bit < chipBits && localGroups > 1) {
          int local = i >> chipBits;
          int shift = chipBits >= localGroups ? local * chipBits / localGroups : local;
          b = (bit + shift) % chipBits;
        }
        fl.add(new Flow(g.get(i), g.get(i ^ (1 << b)), bytes));
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
    Algo intraAlgo = k == 1 ? null
        : !f.costs().sizeBasedAlgorithms() ? Algo.RING
        : Integer.bitCount(k) == 1 && bytes <= RDH_MAX_BYTES ? Algo.RDH : Algo.KANGARING;
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
