package trnsim.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a command's output paths before anything runs, so an output can never destroy an input:
 * an output that is an input file (the claims file, a hardware YAML), lies inside the configs
 * folder trnsim reads, is the same file as another output, or is not a regular file (a device node
 * or FIFO, which the rename of an atomic write would replace with a regular file) is refused with
 * one line naming the option and the path.
 */
final class OutputPaths {
  private final CliContext ctx;
  private final Map<String, Path> outputs = new LinkedHashMap<>();
  private final Map<String, Path> inputs = new LinkedHashMap<>();

  OutputPaths(CliContext ctx) {
    this.ctx = ctx;
  }

  /** An output file given by {@code option} (null: not given). */
  OutputPaths output(String option, Path path) {
    if (path != null) {
      outputs.put(option, path);
    }
    return this;
  }

  /** An input file given by {@code option} (null: not given, or not a file path). */
  OutputPaths input(String option, Path path) {
    if (path != null) {
      inputs.put(option, path);
    }
    return this;
  }

  /** A hardware option's value when it names a file rather than a shipped config. */
  OutputPaths hardwareInput(String option, String nameOrPath) {
    if (nameOrPath != null && (nameOrPath.endsWith(".yaml") || nameOrPath.endsWith(".yml") || nameOrPath.contains("/"))) {
      try {
        inputs.put(option, Path.of(nameOrPath));
      } catch (InvalidPathException e) {
        // not a path: the loader reports it
      }
    }
    return this;
  }

  void check() {
    Path configs = canonical(ctx.configs());
    List<Map.Entry<String, Path>> seen = new ArrayList<>();
    for (var o : outputs.entrySet()) {
      String what = o.getKey() + " = '" + o.getValue() + "': ";
      Path p = canonical(o.getValue());
      if (Files.exists(o.getValue()) && !Files.isRegularFile(o.getValue())) {
        throw new UserInputException(what + "not a regular file (a directory, device or FIFO); write to a file path");
      }
      for (Path up = o.getValue().toAbsolutePath().getParent(); up != null; up = up.getParent()) {
        if (Files.exists(up)) {
          if (!Files.isDirectory(up)) {
            throw new UserInputException(what + "cannot be created: '" + up + "' is a file, not a folder");
          }
          break;
        }
      }
      for (var i : inputs.entrySet()) {
        if (same(p, i.getValue())) {
          throw new UserInputException(what + "is the " + i.getKey() + " input file; it would be overwritten");
        }
      }
      if (p.startsWith(configs)) {
        throw new UserInputException(what + "is inside the configs folder, which holds trnsim's inputs");
      }
      for (var s : seen) {
        if (same(p, s.getValue())) {
          throw new UserInputException(what + "is also the " + s.getKey() + " output");
        }
      }
      seen.add(Map.entry(o.getKey(), o.getValue()));
    }
  }

  private static boolean same(Path canonicalA, Path b) {
    return canonicalA.equals(canonical(b));
  }

  /** The real path where the file exists (symlinks resolved), else the absolute normalised path. */
  static Path canonical(Path p) {
    Path abs = p.toAbsolutePath().normalize();
    try {
      return abs.toRealPath();
    } catch (IOException e) {
      Path parent = abs.getParent();
      if (parent != null && Files.isDirectory(parent)) {
        try {
          return parent.toRealPath().resolve(abs.getFileName());
        } catch (IOException ignored) {
          return abs;
        }
      }
      return abs;
    }
  }
}
