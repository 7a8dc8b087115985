package trnsim.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;

/** {@code trnsim config list|show}: what hardware is known and exactly what a run would use. */
@Command(name = "config", description = "List hardware configs or show one fully resolved.",
    mixinStandardHelpOptions = true,
    subcommands = {ConfigCommand.ListCommand.class, ConfigCommand.ShowCommand.class})
public final class ConfigCommand implements Runnable {
  private final CliContext ctx;

  public ConfigCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    // The command line built by the launcher, not a new one (whose default factory cannot build subcommands).
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing subcommand: list or show");
  }

  /** {@code trnsim config list}. */
  @Command(name = "list", description = "List the hardware configs under configs/hardware.", mixinStandardHelpOptions = true)
  public static final class ListCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Option(names = "--format", defaultValue = "table", description = "table, json or csv (default: ${DEFAULT-VALUE}).")
    OutputFormat format;

    public ListCommand(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      HardwareLoader loader = ctx.hardware();
      List<String> header = List.of("name", "chips", "cores_per_chip", "description");
      List<List<Object>> rows = new ArrayList<>();
      for (String name : loader.list()) {
        HardwareSpec s = loader.load(name, List.of()).spec();
        rows.add(List.of(name, s.totalChips(), s.chip().cores(), s.description()));
      }
      Tables.print(ctx.out(), format, header, rows);
      return ExitCodes.OK;
    }
  }

  /** {@code trnsim config show NAME [--set k=v ...]}. */
  @Command(name = "show", description = "Print a hardware config fully resolved (extends, overrides and defaults applied).",
      mixinStandardHelpOptions = true)
  public static final class ShowCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "Config name (see 'config list') or a path to a YAML file.")
    String name;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a key, e.g. --set chip.core.sbuf.size=48MiB (repeatable).")
    List<String> sets = new ArrayList<>();

    @Option(names = "--format", defaultValue = "yaml", description = "yaml or json (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--models", description = "YAML only: mark each key with the models that read it (# read by: ...).")
    boolean models;

    public ShowCommand(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() throws Exception {
      if (!format.equals("yaml") && !format.equals("json")) {
        throw new UserInputException("--format = '" + format + "': must be yaml or json");
      }
      HardwareLoader loader = ctx.hardware();
      HardwareSpec spec = loader.load(name, sets).spec();
      PrintWriter out = ctx.out();
      if (format.equals("yaml")) {
        String yaml = loader.toYaml(spec);
        out.print(models ? annotate(yaml) : yaml);
      } else {
        out.println(Json.pretty(loader.toTree(spec)));
      }
      out.flush();
      return ExitCodes.OK;
    }

    /**
     * Appends {@code # read by: ...} to every {@code key: value} line of the resolved YAML, the key
     * path found from the indentation (two spaces per level, as the renderer writes it).
     */
    static String annotate(String yaml) {
      StringBuilder sb = new StringBuilder();
      List<String> path = new ArrayList<>();
      for (String line : yaml.split("\n", -1)) {
        int indent = line.length() - line.stripLeading().length();
        String body = line.strip();
        int colon = body.indexOf(':');
        if (body.isEmpty() || body.startsWith("-") || colon <= 0 || indent % 2 != 0 || !body.substring(0, colon).matches("[a-z0-9_]+")) {
          sb.append(line).append('\n');
          continue;
        }
        int level = indent / 2;
        while (path.size() > level) {
          path.remove(path.size() - 1);
        }
        path.add(body.substring(0, colon));
        String key = String.join(".", path);
        List<String> readers = trnsim.core.config.ConfigReaders.readers(key);
        boolean leaf = colon < body.length() - 1;
        if (leaf && readers != null) {
          sb.append(line).append("   # read by: ").append(readers.isEmpty() ? "no model (" + trnsim.core.config.ConfigReaders.unreadBecause(key) + ")"
              : String.join(", ", readers));
        } else {
          sb.append(line);
        }
        sb.append('\n');
      }
      return sb.substring(0, sb.length() - 1);
    }
  }
}
