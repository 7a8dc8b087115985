package trnsim.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import trnsim.core.api.ResultSchema;
import trnsim.core.api.SimulationResult;
import trnsim.core.api.Version;
import trnsim.core.config.HardwareSpec;

/**
 * {@code --outdir DIR}, a run directory as gem5's m5out: the fully resolved hardware config(s),
 * the workload(s), the full statistics, the result JSON and the trnsim version with the command
 * line, so any figure can be reproduced ({@code --hardware DIR/hardware.yaml}) and diffed later.
 * The folder is checked before anything runs; its files are all staged beside their targets and
 * renamed into place only when every one is written, so a failure leaves none of them new.
 */
final class RunDirectory {
  static final String OPTION = "--outdir";
  private final CliContext ctx;
  private final Path dir;
  private final Map<String, String> files = new LinkedHashMap<>();

  private RunDirectory(CliContext ctx, Path dir) {
    this.ctx = ctx;
    this.dir = dir;
  }

  /** The run directory of {@code dir}, checked (null when the option is not given). */
  static RunDirectory of(CliContext ctx, Path dir) {
    if (dir == null) {
      return null;
    }
    RunDirectory d = new RunDirectory(ctx, dir);
    d.check();
    return d;
  }

  private String what() {
    return OPTION + " = '" + dir + "': ";
  }

  /** A folder that exists and is writable, or can be created in one; never inside configs/. */
  private void check() {
    Path abs;
    try {
      abs = dir.toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      throw new UserInputException(what() + "not a path");
    }
    if (Files.exists(abs) && !Files.isDirectory(abs)) {
      throw new UserInputException(what() + "is a file, not a folder");
    }
    if (OutputPaths.canonical(abs).startsWith(OutputPaths.canonical(ctx.configs()))) {
      throw new UserInputException(what() + "is inside the configs folder, which holds trnsim's inputs");
    }
    for (Path up = abs; up != null; up = up.getParent()) {
      if (Files.exists(up)) {
        if (!Files.isDirectory(up)) {
          throw new UserInputException(what() + "cannot be created: '" + up + "' is a file, not a folder");
        }
        if (!Files.isWritable(up)) {
          throw new UserInputException(what() + "'" + up + "' is not writable");
        }
        return;
      }
    }
  }

  /** Adds a file to write (by name, inside the folder). */
  RunDirectory put(String name, String content) {
    files.put(name, content);
    return this;
  }

  /** The resolved hardware config as YAML (every default and override applied), under {@code name}. */
  RunDirectory hardware(String name, HardwareSpec hw) {
    return put(name, ctx.hardware().toYaml(hw));
  }

  /** {@code workload.txt}: one resolved workload spec per line. */
  RunDirectory workloads(List<String> specs) {
    return put("workload.txt", String.join("\n", specs) + "\n");
  }

  /** {@code stats.json}: the full statistics of every simulated point. */
  RunDirectory stats(List<? extends SimulationResult> points) {
    List<Object> all = new ArrayList<>();
    for (SimulationResult r : points) {
      all.add(ResultSchema.stats(r));
    }
    return statsTree(all);
  }

  /** {@code stats.json} from trees already built. */
  RunDirectory statsTree(List<?> points) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("points", points);
    return put("stats.json", Json.pretty(ResultSchema.stamped(doc)) + "\n");
  }

  /** {@code result.json}: the document {@code --format json} prints. */
  RunDirectory result(Object json) {
    return put("result.json", Json.pretty(json) + "\n");
  }

  /** {@code version.txt}: the trnsim version and the command line that made the folder. */
  RunDirectory version(List<String> args) {
    StringBuilder cmd = new StringBuilder("trnsim");
    for (String a : args) {
      cmd.append(' ').append(a.matches("[A-Za-z0-9_./:=,@+%^-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
    }
    return put("version.txt", "trnsim " + Version.current() + "\nschema " + ResultSchema.ID + "\ncommand " + cmd + "\n");
  }

  /** Writes every file: all staged first, then renamed into place; on any failure none is left new. */
  void write() {
    Path abs = dir.toAbsolutePath().normalize();
    List<Path[]> staged = new ArrayList<>();
    try {
      Files.createDirectories(abs);
      for (var f : files.entrySet()) {
        Path tmp = Files.createTempFile(abs, "." + f.getKey() + ".", ".tmp");
        staged.add(new Path[] {tmp, abs.resolve(f.getKey())});
        AtomicFiles.relaxPermissions(tmp);
        Files.writeString(tmp, f.getValue(), StandardCharsets.UTF_8);
      }
      for (Path[] s : staged) {
        try {
          Files.move(s[0], s[1], StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(s[0], s[1], StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UserInputException(what() + "cannot write: " + AtomicFiles.reason(e));
    } finally {
      for (Path[] s : staged) {
        try {
          Files.deleteIfExists(s[0]);
        } catch (IOException ignored) {
          // best effort: a staged file that cannot be removed is hidden (a dot file) and harmless
        }
      }
    }
  }
}
