package trnsim.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;
import trnsim.core.config.HardwareSpec;

/** The hardware a command runs on: a config name or path, plus what-if overrides (a picocli mixin). */
public final class HardwareOptions {
  @Option(names = {"--hardware", "-H"}, required = true, paramLabel = "NAME",
      description = "Hardware config name (see 'trnsim config list') or YAML path.")
  String name;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "Override a hardware config key, e.g. chip.hbm.bandwidth=4TB/s (repeatable).")
  List<String> sets = new ArrayList<>();

  HardwareSpec load(trnsim.core.api.Simulator sim) {
    return sim.hardware(name, sets);
  }
}
