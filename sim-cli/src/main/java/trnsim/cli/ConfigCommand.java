package trnsim.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import trnsim.core.config.ConfigReaders;
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
     * Appends {@code # read by: ...} to every leaf {@code key: value} line of the resolved YAML (and
     * to the header of a list of numbers), the key path found from the indentation (two spaces per
     * level, as the renderer writes it; a list item {@code - } opens one level, its key gets {@code []}).
     */
    static String annotate(String yaml) {
      StringBuilder sb = new StringBuilder();
      List<String> path = new ArrayList<>();
      String[] lines = yaml.split("\n", -1);
      for (int i = 0; i < lines.length; i++) {
        String line = lines[i];
        int indent = line.length() - line.stripLeading().length();
        String body = line.strip();
        boolean item = body.startsWith("- ");
        if (item) {
          indent += 2;
          body = body.substring(2);
        }
        int colon = body.indexOf(':');
        if (body.isEmpty() || colon <= 0 || indent % 2 != 0 || !body.substring(0, colon).matches("[a-z0-9_]+")) {
          sb.append(line).append('\n');
          continue;
        }
        int level = indent / 2;
        while (path.size() > level) {
          path.remove(path.size() - 1);
        }
        if (item && !path.isEmpty() && !path.get(path.size() - 1).endsWith("[]")) {
          path.set(path.size() - 1, path.get(path.size() - 1) + "[]");
        }
        path.add(body.substring(0, colon));
        String key = String.join(".", path);
        boolean leaf = colon < body.length() - 1;
        boolean numberList = !leaf && i + 1 < lines.length && lines[i + 1].strip().startsWith("- ")
            && !lines[i + 1].strip().contains(": ");
        boolean emptyList = body.endsWith(": []");
        List<String> readers = ConfigReaders.readers(leaf && !emptyList ? key : key + "[]");
        sb.append(line);
        if ((leaf || numberList) && readers != null) {
          sb.append("   # read by: ").append(readers.isEmpty() ? "no model (" + ConfigReaders.unreadBecause(key) + ")"
              : String.join(", ", readers));
        }
        sb.append('\n');
      }
      return sb.substring(0, sb.length() - 1);
    }
  }
}
