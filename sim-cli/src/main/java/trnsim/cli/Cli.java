package trnsim.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import trnsim.core.config.ConfigException;

/**
 * Builds the picocli command line. {@link #newCommandLine} is the one factory that both the launcher
 * and the tests use, so tests exercise exactly what users run.
 */
public final class Cli {
  private Cli() {}

  /** Runs trnsim with the process's standard streams. */
  public static int execute(String... args) {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    return newCommandLine(out, err, defaultHome()).execute(args);
  }

  /**
   * The command line with its output streams and the trnsim home (the folder holding {@code configs/}).
   */
  public static CommandLine newCommandLine(PrintWriter out, PrintWriter err, Path home) {
    CliContext ctx = new CliContext(home, out, err);
    CommandLine cl = new CommandLine(new TrnsimCommand(), new ContextFactory(ctx));
    cl.setOut(out);
    cl.setErr(err);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionStrategy(new CommandLine.RunLast() {
      @Override
      public int execute(CommandLine.ParseResult parseResult) {
        applyVerbosity(parseResult);
        return super.execute(parseResult);
      }
    });
    cl.setParameterExceptionHandler((ex, args) -> {
      // One line: the problem, a suggestion if picocli has one, and where to get help.
      CommandLine c = ex.getCommandLine();
      String hint = "";
      if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
        hint = " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)";
      }
      c.getErr().println("error: " + ex.getMessage().replace('\n', ' ').strip() + hint
          + "; see '" + c.getCommandSpec().qualifiedName() + " --help'");
      c.getErr().flush();
      return ExitCodes.BAD_INPUT;
    });
    cl.setExecutionExceptionHandler((ex, c, parseResult) -> {
      PrintWriter e = c.getErr();
      if (ex instanceof ConfigException || ex instanceof UserInputException
          || ex instanceof trnsim.isa.workload.WorkloadException
          || ex instanceof trnsim.isa.ProgramException
          || ex instanceof trnsim.core.engine.SimulationLimitException) {
        e.println("error: " + ex.getMessage());
        e.flush();
        return ExitCodes.BAD_INPUT;
      }
      if (ex instanceof java.io.UncheckedIOException io) {
        e.println("error: I/O: " + io.getCause().getMessage());
        e.flush();
        return ExitCodes.BAD_INPUT;
      }
      e.println("internal error: " + ex.getClass().getName() + (ex.getMessage() == null ? "" : ": " + ex.getMessage()));
      if (LoggerFactory.getLogger(Cli.class).isDebugEnabled()) {
        ex.printStackTrace(e);
      } else {
        e.println("(run with -v for the stack trace; please report this as a bug)");
      }
      e.flush();
      return ExitCodes.INTERNAL;
    });
    return cl;
  }

  private static void applyVerbosity(CommandLine.ParseResult pr) {
    boolean verbose = false;
    for (CommandLine.ParseResult p = pr; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("-v")) {
        verbose = true;
      }
    }
    org.slf4j.Logger root = LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    if (root instanceof Logger lb) {
      lb.setLevel(verbose ? Level.DEBUG : Level.WARN);
    }
  }

  /** The trnsim home: {@code -Dtrnsim.home}, else the nearest ancestor of the working directory with {@code configs/hardware}. */
  public static Path defaultHome() {
    String prop = System.getProperty("trnsim.home");
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop).toAbsolutePath().normalize();
    }
    Path p = Path.of("").toAbsolutePath();
    for (Path q = p; q != null; q = q.getParent()) {
      if (Files.isDirectory(q.resolve("configs").resolve("hardware"))) {
        return q;
      }
    }
    return p;
  }

  /** Gives every command that declares a {@code CliContext} constructor the shared context. */
  private static final class ContextFactory implements CommandLine.IFactory {
    private final CliContext ctx;
    private final CommandLine.IFactory fallback = CommandLine.defaultFactory();

    ContextFactory(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public <K> K create(Class<K> cls) throws Exception {
      try {
        return cls.getDeclaredConstructor(CliContext.class).newInstance(ctx);
      } catch (NoSuchMethodException e) {
        return fallback.create(cls);
      }
    }
  }
}
