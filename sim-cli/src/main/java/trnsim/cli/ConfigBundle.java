package trnsim.cli;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A configs folder as bytes (relative path to content), so a sweep's configs travel with the job to
 * executors that have no checkout: the driver packs it once, each task unpacks it into a private
 * temporary folder and removes it when done.
 */
public record ConfigBundle(Map<String, byte[]> files) implements Serializable {
  /** Largest bundle packed: the shipped configs are well under 1 MiB; a bigger folder is a mistake. */
  static final long MAX_BYTES = 64L << 20;

  public ConfigBundle {
    files = Collections.unmodifiableMap(new TreeMap<>(files));
  }

  /** Packs every regular file under {@code dir} (sorted by path, '/' separators). */
  public static ConfigBundle of(Path dir) {
    Map<String, byte[]> out = new TreeMap<>();
    long total = 0;
    try (Stream<Path> walk = Files.walk(dir)) {
      List<Path> paths = new ArrayList<>(walk.filter(Files::isRegularFile).sorted().toList());
      for (Path p : paths) {
        byte[] b = Files.readAllBytes(p);
        total += b.length;
        if (total > MAX_BYTES) {
          throw new UserInputException("configs folder '" + dir + "': more than " + (MAX_BYTES >> 20)
              + " MiB to ship with the job; remove large files from it");
        }
        out.put(dir.relativize(p).toString().replace('\\', '/'), b);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read configs folder " + dir + ": " + e.getMessage(), e);
    }
    return new ConfigBundle(out);
  }

  /** Writes the files under {@code dir} (created); returns {@code dir}. */
  public Path unpackInto(Path dir) {
    try {
      for (var e : files.entrySet()) {
        Path p = dir.resolve(e.getKey()).normalize();
        if (!p.startsWith(dir)) {
          throw new IllegalStateException("config bundle path leaves its folder: " + e.getKey());
        }
        Files.createDirectories(p.getParent());
        Files.write(p, e.getValue());
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot unpack configs into " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Removes a folder made by {@link #unpackInto} (best effort: a leftover temporary folder is harmless). */
  public static void delete(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Collections.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // Left for the OS's temporary-file cleanup.
    }
  }
}
