package trnsim.cli;

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
    giveEverySubcommandTheVersion(cl);
    cl.setExecutionStrategy(new CommandLine.RunLast() {
      @Override
      public int execute(CommandLine.ParseResult parseResult) {
        applyVerbosity(parseResult);
        int code = super.execute(parseResult);
        return checkStdout(ctx, code);
      }
    });
    cl.setParameterExceptionHandler((ex, args) -> {
      // One line: the problem, a suggestion if picocli has one, and where to get help.
      CommandLine c = ex.getCommandLine();
      String hint = "";
      if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
        hint = " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)";
      }
      c.getErr().println("error: " + printable(ex.getMessage().replace('\n', ' ').strip()) + hint
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
        e.println("error: " + printable(ex.getMessage()));
        e.flush();
        return ExitCodes.BAD_INPUT;
      }
      if (ex instanceof java.io.UncheckedIOException io) {
        String what = io.getMessage() != null && io.getMessage().startsWith("cannot ") ? io.getMessage() : AtomicFiles.reason(io.getCause());
        e.println("error: " + optionWriting(parseResult, what) + ": " + printable(what));
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

  /**
   * A report that could not be written to standard output (a full disk, a closed pipe) is a failure:
   * PrintWriter swallows write errors, so they are checked once the command has finished.
   */
  static int checkStdout(CliContext ctx, int code) {
    if (ctx.out().checkError()) {
      ctx.err().println("error: standard output: write failed (disk full or output closed); the report is incomplete");
      ctx.err().flush();
      return code == ExitCodes.OK || code == ExitCodes.CLAIM_FAILED ? ExitCodes.BAD_INPUT : code;
    }
    return code;
  }

  /** Longest error line printed; a 1 MB value is cut, not echoed whole. */
  static final int MAX_MESSAGE_CHARS = 400;

  /**
   * An error message as one printable line: control characters (NUL, ESC, newlines) are shown as
   * {@code \\xNN} or {@code \\uNNNN} escapes so they cannot drive the terminal, and a message longer
   * than {@value #MAX_MESSAGE_CHARS} characters is cut with its length stated.
   */
  static String printable(String message) {
    if (message == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < message.length() && sb.length() < MAX_MESSAGE_CHARS; i++) {
      char ch = message.charAt(i);
      if (ch < 0x20 || ch == 0x7f) {
        sb.append(String.format(java.util.Locale.ROOT, "\\x%02x", (int) ch));
      } else if (Character.isISOControl(ch) || Character.getType(ch) == Character.FORMAT
          || Character.isSurrogate(ch) && !(Character.isHighSurrogate(ch) && i + 1 < message.length()
              && Character.isLowSurrogate(message.charAt(i + 1)))
          || Character.isLowSurrogate(ch) && !(i > 0 && Character.isHighSurrogate(message.charAt(i - 1)))) {
        sb.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) ch));
      } else {
        sb.append(ch);
      }
    }
    if (sb.length() >= MAX_MESSAGE_CHARS && sb.length() < message.length()) {
      sb.setLength(MAX_MESSAGE_CHARS - 3);
      sb.append("... (message of ").append(message.length()).append(" characters cut)");
    }
    return sb.toString();
  }

  /** The option whose path a failed write names ({@code --trace}), else {@code I/O}. */
  static String optionWriting(CommandLine.ParseResult pr, String message) {
    for (CommandLine.ParseResult p = pr; p != null; p = p.subcommand()) {
      for (CommandLine.Model.OptionSpec o : p.matchedOptions()) {
        Object v = o.getValue();
        if (v != null && (message.startsWith("cannot write " + v + ": ")
            || message.startsWith("cannot write " + v + java.io.File.separator))) {
          return o.longestName();
        }
      }
    }
    return "I/O";
  }

  /** {@code -V} on a subcommand prints the same version as {@code trnsim -V} (it printed nothing). */
  private static void giveEverySubcommandTheVersion(CommandLine cl) {
    for (CommandLine sub : cl.getSubcommands().values()) {
      if (sub.getCommandSpec().versionProvider() == null) {
        sub.getCommandSpec().versionProvider(new VersionProvider());
      }
      giveEverySubcommandTheVersion(sub);
    }
  }

  private static void applyVerbosity(CommandLine.ParseResult pr) {
    boolean verbose = false;
    for (CommandLine.ParseResult p = pr; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("-v")) {
        verbose = true;
      }
    }
    org.slf4j.Logger root = LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    // By name first: under spark-submit the logging is the cluster's (log4j), and logback's classes
    // are not on the class path at all.
    if (root.getClass().getName().equals("ch.qos.logback.classic.Logger")) {
      Logback.setLevel(root, verbose);
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

  /** Loaded only when logback is the SLF4J provider. */
  private static final class Logback {
    static void setLevel(org.slf4j.Logger root, boolean verbose) {
      ((ch.qos.logback.classic.Logger) root).setLevel(verbose ? ch.qos.logback.classic.Level.DEBUG : ch.qos.logback.classic.Level.WARN);
    }
  }
}
