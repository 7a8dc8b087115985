package trnsim.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.ModelLoader;
import trnsim.core.run.Targets;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.Workloads;
import trnsim.isa.workload.WorkloadSpec;

/**
 * Shared set-up for the benchmarks: finds the repository's {@code configs/} directory (system
 * property {@code trnsim.home}, else the first ancestor of the working directory that has
 * {@code configs/hardware}), loads hardware configs and model shapes, lowers workload strings.
 */
final class Bench {
  private Bench() {}

  static Path configs() {
    String home = System.getProperty("trnsim.home");
    if (home != null) {
      Path c = Path.of(home).resolve("configs");
      if (!Files.isDirectory(c.resolve("hardware"))) {
        throw new IllegalStateException("-Dtrnsim.home=" + home + " has no configs/hardware directory");
      }
      return c;
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("configs").resolve("hardware"))) {
        return p.resolve("configs");
      }
    }
    throw new IllegalStateException("cannot find configs/hardware above " + Path.of("").toAbsolutePath()
        + "; run from the repository or pass -Dtrnsim.home=/path/to/repo (JMH: -jvmArgsAppend -Dtrnsim.home=...)");
  }

  static HardwareSpec hardware(String name) {
    return new HardwareLoader(configs()).load(name, List.of()).spec();
  }

  static ModelLoader models() {
    return new ModelLoader(configs());
  }

  static LoweredWorkload lower(HardwareSpec hw, ModelLoader models, String workload) {
    return Workloads.lower(Targets.of(hw), WorkloadSpec.parse(workload, "bench"), models == null ? null : models::model);
  }
}
