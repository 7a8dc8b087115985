package trnsim.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import trnsim.core.api.ResultSchema;
import trnsim.core.config.ConfigFieldException;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.unit.DataSize;
import trnsim.core.config.unit.UnitException;
import trnsim.core.system.Collectives;
import trnsim.core.system.Fabric;
import trnsim.core.system.RankLayout;
import trnsim.isa.DType;

/** {@code trnsim collective}: one collective (or a size sweep) on a system, as nccom-test / nccl-tests time it. */
@Command(name = "collective", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Time a collective as the accelerator's collective runtime runs it and report algorithm and bus bandwidth,",
        "with the time split into fixed (host launch), sync (per-step issue and hop latency), transfer and reduce.",
        "Ranks are logical NeuronCores (chip.lnc physical cores each; a GPU is one rank).",
        "Algorithms: auto (the config's runtime: the 2023 Neuron runtime's ring on trn1, the current size rule",
        "  mesh < 1 MB, rdh 1-56 MB, kangaring > 56 MB on trn2/trn3; hierarchical across systems),",
        "  ring, kangaring, mesh, rdh, hierarchical."})
public final class CollectiveCommand implements Callable<Integer> {
  private final CliContext ctx;

  @picocli.CommandLine.Mixin
  HardwareOptions hardwareOptions = new HardwareOptions();

  @Option(names = "--op", defaultValue = "all-reduce", description = "all-reduce, all-gather, reduce-scatter, all-to-all or send-recv (default: ${DEFAULT-VALUE}).")
  String op;

  @Option(names = "--bytes", defaultValue = "1GiB", description = "Message size (nccl-tests convention: all-gather counts the whole output), in bytes or with a unit, e.g. 1048576 or 64MiB (default: ${DEFAULT-VALUE}).")
  String bytes;

  @Option(names = "--dtype", defaultValue = "bf16", description = "Element type: fp32, bf16, fp16, int32, uint32, int16, uint16, int8, uint8 (default: ${DEFAULT-VALUE}). Reductions cost per element.")
  String dtype;

  @Option(names = "--algo", defaultValue = "auto", description = "auto, ring, kangaring, mesh, rdh or hierarchical (default: ${DEFAULT-VALUE}).")
  String algo;

  @Option(names = "--ranks", description = "Ranks taking part (logical cores; nccom-test -r): the first N/systems of each system (default: all).")
  Integer ranks;

  @Option(names = "--lnc", description = "Physical cores per rank (overrides the chip's chip.lnc; must divide its cores).")
  Integer lnc;

  /** Most ranks one collective may span (the largest published clusters are of this order). */
  static final long MAX_RANKS = 1L << 17;

  @Option(names = "--systems", defaultValue = "1", description = "Identical systems joined by their EFA network (nccom-test -N) (default: ${DEFAULT-VALUE}).")
  int systems;

  @Option(names = "--sweep", paramLabel = "FROM:TO", description = "Size sweep, e.g. 1KiB:1GiB or 1024:1073741824: prints the latency/bandwidth curve.")
  String sweep;

  @Option(names = "--step-factor", defaultValue = "2", description = "Size factor between sweep rows (nccom-test -f) (default: ${DEFAULT-VALUE}).")
  int stepFactor;

  @Option(names = "--in-graph", description = "Time it as one collective of a compiled graph: no host launch.")
  boolean inGraph;

  @Option(names = "--raw", description = "With send-recv: a raw write between the two ranks' memories (an RDMA latency test such as ib_write_lat): wires only, no collective runtime.")
  boolean raw;

  @Option(names = "--chart", paramLabel = "FILE.png|FILE.svg",
      description = "With --sweep: draw latency and bus bandwidth against size, with the sizes where the algorithm changes.")
  java.nio.file.Path chart;

  @Option(names = "--format", defaultValue = "table", description = "table, json or csv (default: ${DEFAULT-VALUE}).")
  OutputFormat format;

  public CollectiveCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  static final List<String> KEYS = List.of("hardware", "op", "algo", "ranks", "dtype", "standalone", "bytes", "time_s",
      "algbw_gbps", "busbw_gbps", "algbw_gibps", "busbw_gibps", "steps", "fixed_s", "sync_s", "transfer_s", "reduce_s");

  @Override
  public Integer call() {
    Collectives.Op o;
    Collectives.Algo a;
    try {
      o = Collectives.Op.parse(op);
    } catch (IllegalArgumentException e) {
      throw new UserInputException("--op = '" + op + "': " + e.getMessage().replaceFirst("^unknown collective '[^']*'; ", "unknown; "));
    }
    try {
      a = Collectives.Algo.parse(algo);
    } catch (IllegalArgumentException e) {
      throw new UserInputException("--algo = '" + algo + "': " + e.getMessage().replaceFirst("^unknown algorithm '[^']*'; ", "unknown; "));
    }
    DType dt = elementType(dtype);
    if (systems < 1) {
      throw new UserInputException("--systems = '" + systems + "': must be at least 1");
    }
    if (stepFactor < 2) {
      throw new UserInputException("--step-factor = '" + stepFactor + "': must be at least 2");
    }
    if (raw && o != Collectives.Op.SEND_RECV) {
      throw new UserInputException("--raw: only with --op send-recv (a raw point-to-point write)");
    }
    HardwareSpec hw = hardwareOptions.load(ctx.simulator());
    RankLayout layout;
    try {
      layout = RankLayout.of(hw.chip(), lnc);
    } catch (ConfigFieldException e) {
      throw new UserInputException("--lnc = '" + lnc + "': " + e.getMessage());
    }
    long perSystem = Fabric.of(hw, 1, layout).size();
    if (perSystem * systems > MAX_RANKS) {
      // Checked before the fabric is built: a million systems exhausted the heap.
      throw new UserInputException("--systems = '" + systems + "': " + perSystem * systems + " ranks; at most " + MAX_RANKS
          + " in one collective");
    }
    Fabric f = Fabric.of(hw, systems, layout);
    if (f.size() < 2) {
      throw new UserInputException("--hardware = '" + hardwareOptions.name + "': " + f.size()
          + " rank has nothing to exchange; use a system such as trn2-48xl, or a chip with several logical cores");
    }
    int n = ranks == null ? f.size() : ranks;
    if (o == Collectives.Op.SEND_RECV && ranks == null) {
      n = 2;
    }
    if (n < 2 || n > f.size()) {
      throw new UserInputException("--ranks = '" + n + "': must be between 2 and " + f.size() + " (logical cores of "
          + hw.name() + (systems > 1 ? " x" + systems : "") + " at " + layout.lnc() + " cores per rank)");
    }
    if (o == Collectives.Op.SEND_RECV && n != 2) {
      throw new UserInputException("--ranks = '" + n + "': send-recv takes 2 ranks");
    }
    if (n % systems != 0) {
      throw new UserInputException("--ranks = '" + n + "': must divide evenly over --systems " + systems);
    }
    if (chart != null && sweep == null) {
      throw new UserInputException("--chart = '" + chart + "': needs --sweep FROM:TO (a curve of sizes)");
    }
    if (chart != null) {
      Charts.format(chart, "--chart");
    }
    List<Integer> group = Collectives.spread(f, n);
    List<Long> sizes = sizes();
    List<Map<String, Object>> rows = new ArrayList<>();
    for (long s : sizes) {
      Collectives.Result r;
      try {
        r = raw ? Collectives.rawTransfer(f, group.get(0), group.get(1), s)
            : Collectives.runOne(f, o, group, s, a, dt, !inGraph);
      } catch (IllegalArgumentException e) {
        throw new UserInputException("--op = '" + op + "': " + e.getMessage());
      }
      rows.add(row(hw, r, s));
    }
    if (chart != null) {
      Charts.save(sweepChart(rows), chart, "--chart");
    }
    print(rows);
    return ExitCodes.OK;
  }

  private List<Long> sizes() {
    List<Long> sizes = new ArrayList<>();
    if (sweep == null) {
      sizes.add(size("--bytes", bytes));
      return sizes;
    }
    String[] p = sweep.split(":");
    if (p.length != 2) {
      throw new UserInputException("--sweep = '" + sweep + "': expected FROM:TO such as 1KiB:1GiB");
    }
    long from = size("--sweep", p[0]);
    long to = size("--sweep", p[1]);
    if (to < from) {
      throw new UserInputException("--sweep = '" + sweep + "': FROM must not exceed TO");
    }
    for (long s = from; s <= to; s = Math.multiplyExact(s, (long) stepFactor)) {
      sizes.add(s);
      if (s > Long.MAX_VALUE / stepFactor) {
        break;
      }
    }
    if (sizes.size() > 200) {
      throw new UserInputException("--sweep = '" + sweep + "': " + sizes.size() + " rows; use a larger --step-factor");
    }
    return sizes;
  }

  private Map<String, Object> row(HardwareSpec hw, Collectives.Result r, long s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("hardware", hw.name() + (systems > 1 ? " x" + systems : ""));
    m.put("op", r.op().label());
    m.put("algo", raw ? "raw" : r.algo().label());
    m.put("ranks", r.ranks());
    m.put("dtype", dtype.toLowerCase(Locale.ROOT));
    m.put("standalone", !inGraph && !raw);
    m.put("bytes", s);
    m.put("time_s", r.seconds());
    m.put("algbw_gbps", r.algBandwidth() / 1e9);
    m.put("busbw_gbps", r.busBandwidth() / 1e9);
    m.put("algbw_gibps", r.algBandwidth() / (1L << 30));
    m.put("busbw_gibps", r.busBandwidth() / (1L << 30));
    m.put("steps", r.steps());
    m.put("fixed_s", r.fixedSeconds());
    m.put("sync_s", r.syncSeconds());
    m.put("transfer_s", r.transferSeconds());
    m.put("reduce_s", r.reduceSeconds());
    if (!r.note().isEmpty()) {
      m.put("note", r.note());
    }
    return m;
  }

  /**
   * The sweep as two panels over message size: time (log) and bus bandwidth, with a dashed line
   * between each pair of sizes whose algorithm differs (at their geometric mean), labelled with the new one.
   */
  static Figure.Xy sweepChart(List<Map<String, Object>> rows) {
    List<Double> xs = new ArrayList<>();
    List<Double> ts = new ArrayList<>();
    List<Double> bw = new ArrayList<>();
    List<Figure.Marker> switches = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      var m = rows.get(i);
      xs.add(((Long) m.get("bytes")).doubleValue());
      ts.add((Double) m.get("time_s") * 1e6);
      bw.add((Double) m.get("busbw_gbps"));
      if (i > 0 && !m.get("algo").equals(rows.get(i - 1).get("algo"))) {
        switches.add(new Figure.Marker(Math.sqrt(xs.get(i) * xs.get(i - 1)), "-> " + m.get("algo")));
      }
    }
    var first = rows.get(0);
    String name = first.get("op") + " over " + first.get("ranks") + " ranks of " + first.get("hardware") + ", " + first.get("dtype");
    return new Figure.Xy(name, Figure.Axis.of("message size", Figure.Scale.LOG2, Figure.Format.BYTES), List.of(
        new Figure.Panel(Figure.Axis.of("time (us)", Figure.Scale.LOG10, Figure.Format.NUMBER),
            List.of(new Figure.Series("time", xs, ts, true, true))),
        new Figure.Panel(Figure.Axis.of("bus bandwidth (GB/s)", Figure.Scale.LINEAR, Figure.Format.NUMBER),
            List.of(new Figure.Series("bus bandwidth", xs, bw, true, true)))), switches);
  }

  /** nccom-test's element types onto trnsim's ({@link Collectives#elementType}). */
  static DType elementType(String text) {
    try {
      return Collectives.elementType(text);
    } catch (IllegalArgumentException e) {
      throw new UserInputException("--dtype = '" + text + "': unknown; known: fp32, bf16, fp16, int32, uint32, int16, uint16, int8, uint8");
    }
  }

  /** A size in bytes: a plain byte count (as nccom-test and nccl-tests take it) or a number with a unit. */
  static long size(String option, String text) {
    String t = text.trim();
    try {
      return DataSize.parse(t.matches("\\d+") ? t + " B" : t).bytes();
    } catch (UnitException e) {
      throw new UserInputException(option + " = '" + text + "': " + e.getMessage());
    }
  }

  private void print(List<Map<String, Object>> rows) {
    PrintWriter out = ctx.out();
    switch (format) {
      case json -> {
        List<Map<String, Object>> stamped = rows.stream().map(ResultSchema::stamped).toList();
        out.println(Json.pretty(stamped.size() == 1 ? stamped.get(0) : stamped));
      }
      case csv -> {
        List<List<Object>> r = new ArrayList<>();
        for (var m : rows) {
          List<Object> row = new ArrayList<>();
          for (String k : KEYS) {
            row.add(m.get(k));
          }
          r.add(row);
        }
        out.print(Tables.csv(KEYS, r));
      }
      case table -> {
        var first = rows.get(0);
        out.printf(Locale.ROOT, "%s over %s ranks of %s, %s, %s%n", first.get("op"), first.get("ranks"), first.get("hardware"),
            first.get("dtype"), raw ? "raw write (no collective runtime)"
                : inGraph ? "inside a compiled graph (no host launch)" : "standalone (host launch included)");
        double maxBus = 0;
        for (var m : rows) {
          maxBus = Math.max(maxBus, (Double) m.get("busbw_gbps"));
        }
        List<List<Object>> r = new ArrayList<>();
        for (var m : rows) {
          double bus = (Double) m.get("busbw_gbps");
          int bar = maxBus > 0 ? (int) Math.round(20 * bus / maxBus) : 0;
          r.add(List.of(DataSize.ofBytes((Long) m.get("bytes")).toString(), m.get("algo"),
              Reports.seconds((Double) m.get("time_s")), fmt(m.get("algbw_gbps")), fmt(bus), fmt(m.get("busbw_gibps")),
              Reports.seconds((Double) m.get("fixed_s")), Reports.seconds((Double) m.get("sync_s")),
              Reports.seconds((Double) m.get("transfer_s")), Reports.seconds((Double) m.get("reduce_s")), "#".repeat(bar)));
        }
        out.print(Tables.text(List.of("size", "algo", "time", "algbw GB/s", "busbw GB/s", "busbw GiB/s", "fixed", "sync",
            "transfer", "reduce", "busbw"), r));
        for (var m : rows) {
          if (m.containsKey("note")) {
            out.println("note: " + m.get("note"));
            break;
          }
        }
      }
    }
    out.flush();
  }

  private static String fmt(Object v) {
    return String.format(Locale.ROOT, "%.2f", (Double) v);
  }
}
