package trnsim.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import trnsim.core.api.ResultSchema;
import trnsim.core.api.SimulationResult;
import trnsim.core.api.Simulator;
import trnsim.core.config.ConfigException;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.RunOptions;
import trnsim.isa.workload.WorkloadException;

/**
 * The one per-point function of a sweep, called by every engine: a point in, its row out (compact
 * JSON; with its statistics for a run directory). A row is {@code run --format json} for that point plus the sweep's {@code key}, {@code vary}
 * and {@code set}; a point that fails is an error row with the same three fields and
 * {@code error} (the one-line message), {@code error_kind} ({@code bad_input} or {@code internal}),
 * {@code workload}, and the result schema's {@code schema} and {@code trnsim_version}. It never throws for a point's fault, so a bad point cannot
 * lose the rest of a job.
 */
public final class SweepPointRunner {
  private final Simulator sim;
  private final Function<SweepPoint, HardwareSpec> hardware;
  private final long maxEvents;
  private final boolean withStats;

  private SweepPointRunner(Simulator sim, Function<SweepPoint, HardwareSpec> hardware, SweepJob job) {
    this.sim = sim;
    this.hardware = hardware;
    this.maxEvents = job.maxEvents();
    this.withStats = job.withStats();
  }

  /** On the driver: the variants the command already resolved and validated. */
  static SweepPointRunner local(Simulator sim, List<HardwareSpec> specs, SweepJob job) {
    return new SweepPointRunner(sim, p -> specs.get(p.hardware()), job);
  }

  /**
   * Where the job runs (an executor): configs are those unpacked under {@code home/configs}, and
   * each hardware variant is bound from its shipped tree once. A variant that binds to other
   * contents than on the driver (another trnsim version on the cluster) would give a row under the
   * wrong key, so its points become internal-error rows instead.
   */
  public static SweepPointRunner forJob(SweepJob job, Path home) {
    Simulator sim = new Simulator(home.resolve("configs"));
    HardwareLoader loader = sim.hardwareLoader();
    Map<Integer, HardwareSpec> bound = new ConcurrentHashMap<>();
    Map<Integer, String> contents = new ConcurrentHashMap<>();
    Function<SweepPoint, HardwareSpec> hw = p -> {
      HardwareSpec spec = bound.computeIfAbsent(p.hardware(), k -> bind(loader, job, k));
      String c = contents.computeIfAbsent(p.hardware(), k -> Json.compact(loader.toTree(spec)));
      if (!SweepCommand.key(c, Map.of(), p.workload()).equals(p.key())) {
        throw new IllegalStateException("hardware variant " + p.hardware() + " resolves to other contents here than on the driver");
      }
      return spec;
    };
    return new SweepPointRunner(sim, hw, job);
  }

  private static HardwareSpec bind(HardwareLoader loader, SweepJob job, int variant) {
    try {
      return loader.bindTree(Json.MAPPER.readTree(job.hardwareTrees().get(variant)), job.hardwareOrigin());
    } catch (IOException e) {
      throw new UncheckedIOException("hardware variant " + variant + ": " + e.getMessage(), e);
    }
  }

  /** The outcome of {@code p}: its row (a result, or an error row) and, if asked for, its statistics. */
  public SweepOutcome run(SweepPoint p) {
    Map<String, Object> row;
    String stats = null;
    try {
      SimulationResult r = sim.run(hardware.apply(p), p.workload(), new RunOptions(null, maxEvents));
      row = new LinkedHashMap<>(ResultSchema.sweepRow(r, p.key(), p.varied(), p.sets()));
      if (withStats) {
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("key", p.key());
        st.putAll(ResultSchema.stats(r));
        stats = Json.compact(st);
      }
    } catch (WorkloadException | ConfigException | UserInputException | trnsim.isa.ProgramException
        | trnsim.core.engine.SimulationLimitException e) {
      row = error(p, "bad_input", e.getMessage());
    } catch (RuntimeException e) {
      row = error(p, "internal", e.getClass().getName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    }
    return new SweepOutcome(Json.compact(row), stats);
  }

  private Map<String, Object> error(SweepPoint p, String kind, String message) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("error", "point " + p.describe() + ": " + message);
    row.put("error_kind", kind);
    row.put("workload", p.workload());
    Map<String, Object> stamped = new LinkedHashMap<>(ResultSchema.stamped(row));
    stamped.put("key", p.key());
    stamped.put("vary", p.varied());
    stamped.put("set", setMap(p));
    return stamped;
  }

  private static Map<String, String> setMap(SweepPoint p) {
    Map<String, String> set = new TreeMap<>();
    for (String s : p.sets()) {
      int eq = s.indexOf('=');
      set.put(s.substring(0, eq), s.substring(eq + 1));
    }
    return set;
  }
}
