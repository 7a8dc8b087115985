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
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.unit.DataSize;
import trnsim.core.config.unit.UnitException;
import trnsim.core.system.Collectives;
import trnsim.core.system.Fabric;

/** {@code trnsim collective}: one collective (or a size sweep) on a system's topology. */
@Command(name = "collective", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Time a collective on a system's interconnect and report algorithm and bus bandwidth.",
        "Algorithms: auto (Neuron runtime default: mesh < 1 MB, rdh 1-56 MB, kangaring > 56 MB, hierarchical across systems),",
        "  ring, kangaring, mesh, rdh, hierarchical."})
public final class CollectiveCommand implements Callable<Integer> {
  private final CliContext ctx;

  @picocli.CommandLine.Mixin
  HardwareOptions hardwareOptions = new HardwareOptions();


  @Option(names = "--op", defaultValue = "all-reduce", description = "all-reduce, all-gather, reduce-scatter, all-to-all or send-recv (default: ${DEFAULT-VALUE}).")
  String op;

  @Option(names = "--bytes", defaultValue = "1GiB", description = "Message size (nccl-tests convention), e.g. 64MiB (default: ${DEFAULT-VALUE}).")
  String bytes;

  @Option(names = "--algo", defaultValue = "auto", description = "auto, ring, kangaring, mesh, rdh or hierarchical (default: ${DEFAULT-VALUE}).")
  String algo;

  @Option(names = "--ranks", description = "Chips taking part: the first N of the system (default: all chips of all systems).")
  Integer ranks;

  @Option(names = "--systems", defaultValue = "1", description = "Identical systems joined by their EFA network (default: ${DEFAULT-VALUE}).")
  int systems;

  @Option(names = "--sweep", paramLabel = "FROM:TO", description = "Size sweep, x2 per row, e.g. 1KiB:1GiB: prints the latency/bandwidth curve.")
  String sweep;


  @Option(names = "--format", defaultValue = "table", description = "table, json or csv (default: ${DEFAULT-VALUE}).")
  OutputFormat format;

  public CollectiveCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  static final List<String> KEYS = List.of("hardware", "op", "algo", "ranks", "bytes", "time_s", "algbw_gbps", "busbw_gbps", "steps");

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
    if (systems < 1) {
      throw new UserInputException("--systems = '" + systems + "': must be at least 1");
    }
    HardwareSpec hw = hardwareOptions.load(new Workbench(ctx));
    if (hw.totalChips() * systems < 2) {
      throw new UserInputException("--hardware = '" + hardwareOptions.name + "': a single chip has no interconnect; use a system such as trn2-48xl");
    }
    Fabric f = new Fabric(hw.system(), systems);
    int n = ranks == null ? f.size() : ranks;
    if (n < 2 || n > f.size()) {
      throw new UserInputException("--ranks = '" + n + "': must be between 2 and " + f.size());
    }
    if (o == Collectives.Op.SEND_RECV && n != 2) {
      if (ranks != null) {
        throw new UserInputException("--ranks = '" + n + "': send-recv takes 2 ranks");
      }
      n = 2;
    }
    List<Integer> group = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      group.add(i);
    }
    List<Long> sizes = new ArrayList<>();
    if (sweep != null) {
      String[] p = sweep.split(":");
      if (p.length != 2) {
        throw new UserInputException("--sweep = '" + sweep + "': expected FROM:TO such as 1KiB:1GiB");
      }
      long from = size("--sweep", p[0]);
      long to = size("--sweep", p[1]);
      if (to < from) {
        throw new UserInputException("--sweep = '" + sweep + "': FROM must not exceed TO");
      }
      for (long s = from; s <= to; s *= 2) {
        sizes.add(s);
      }
    } else {
      sizes.add(size("--bytes", bytes));
    }
    List<Map<String, Object>> rows = new ArrayList<>();
    for (long s : sizes) {
      Collectives.Result r;
      try {
        r = Collectives.runOne(f, o, group, s, a);
      } catch (IllegalArgumentException e) {
        throw new UserInputException("--op = '" + op + "': " + e.getMessage());
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("hardware", hw.name() + (systems > 1 ? " x" + systems : ""));
      m.put("op", o.label());
      m.put("algo", r.algo().label());
      m.put("ranks", r.ranks());
      m.put("bytes", s);
      m.put("time_s", r.seconds());
      m.put("algbw_gbps", r.algBandwidth() / 1e9);
      m.put("busbw_gbps", r.busBandwidth() / 1e9);
      m.put("steps", r.steps());
      if (!r.note().isEmpty()) {
        m.put("note", r.note());
      }
      rows.add(m);
    }
    print(rows);
    return ExitCodes.OK;
  }

  private static long size(String option, String text) {
    try {
      return DataSize.parse(text.trim()).bytes();
    } catch (UnitException e) {
      throw new UserInputException(option + " = '" + text + "': " + e.getMessage());
    }
  }

  private void print(List<Map<String, Object>> rows) {
    PrintWriter out = ctx.out();
    switch (format) {
      case json -> out.println(Json.pretty(rows.size() == 1 ? rows.get(0) : rows));
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
        out.printf(Locale.ROOT, "%s over %s ranks of %s%n", first.get("op"), first.get("ranks"), first.get("hardware"));
        double maxBus = 0;
        for (var m : rows) {
          maxBus = Math.max(maxBus, (Double) m.get("busbw_gbps"));
        }
        List<List<Object>> r = new ArrayList<>();
        for (var m : rows) {
          double bus = (Double) m.get("busbw_gbps");
          int bar = maxBus > 0 ? (int) Math.round(30 * bus / maxBus) : 0;
          r.add(List.of(DataSize.ofBytes((Long) m.get("bytes")).toString(), m.get("algo"),
              Reports.seconds((Double) m.get("time_s")), String.format(Locale.ROOT, "%.2f", (Double) m.get("algbw_gbps")),
              String.format(Locale.ROOT, "%.2f", bus), "#".repeat(bar)));
        }
        out.print(Tables.text(List.of("size", "algo", "time", "algbw GB/s", "busbw GB/s", "busbw"), r));
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
}
