package trnsim.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

/** Runs the real command line (the launcher's factory) with captured output. */
final class CliHarness {
  static final Path HOME = Path.of(System.getProperty("trnsim.home", "..")).toAbsolutePath().normalize();

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    return runIn(HOME, args);
  }

  static Result runIn(Path home, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Cli.newCommandLine(new PrintWriter(out, true), new PrintWriter(err, true), home).execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  private CliHarness() {}
}
