package trnsim.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import trnsim.core.api.Simulator;
import trnsim.core.config.HardwareLoader;

/** What every command needs from its environment: where configs live and where to print. */
public final class CliContext {
  private final Path home;
  private final PrintWriter out;
  private final PrintWriter err;
  private HardwareLoader hardware;
  private Simulator simulator;

  CliContext(Path home, PrintWriter out, PrintWriter err) {
    this.home = home;
    this.out = out;
    this.err = err;
  }

  public Path home() {
    return home;
  }

  public Path configs() {
    return home.resolve("configs");
  }

  public PrintWriter out() {
    return out;
  }

  public PrintWriter err() {
    return err;
  }

  public synchronized HardwareLoader hardware() {
    if (hardware == null) {
      hardware = new HardwareLoader(configs());
    }
    return hardware;
  }

  /** The simulation API every command calls (shares this context's hardware loader). */
  public synchronized Simulator simulator() {
    if (simulator == null) {
      simulator = new Simulator(hardware());
    }
    return simulator;
  }
}
