package trnsim.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes output files atomically: into a temporary file beside the target, then renamed over it,
 * so a crash or kill never leaves a truncated report, trace or chart.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Something that writes the file's content. */
  @FunctionalInterface
  public interface Body {
    void write(Writer w) throws IOException;
  }

  public static void write(Path target, Body body) {
    writeVia(target, tmp -> {
      try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        body.write(w);
      }
    });
  }

  public static void writeString(Path target, String content) {
    write(target, w -> w.write(content));
  }

  /** Writes bytes (an image, say) atomically, like {@link #write}. */
  public static void writeBytes(Path target, byte[] content) {
    writeVia(target, tmp -> Files.write(tmp, content));
  }

  private interface Filler {
    void fill(Path tmp) throws IOException;
  }

  /** Fills a temporary file beside {@code target}, then renames it over the target. */
  private static void writeVia(Path target, Filler filler) {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    try {
      if (dir != null) {
        Files.createDirectories(dir);
      }
      Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
      relaxPermissions(tmp);
      try {
        filler.fill(tmp);
        try {
          Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + reason(e), e);
    }
  }

  /**
   * Why an I/O operation failed, in words, without the temporary file's name (a
   * {@link java.nio.file.FileSystemException}'s message is its file names plus the reason).
   */
  static String reason(IOException e) {
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof java.nio.file.FileAlreadyExistsException) {
      return "a file is in the way";
    }
    if (e instanceof java.nio.file.NotDirectoryException) {
      return "a path component is not a directory";
    }
    if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /**
   * Temporary files are created owner-only (0600); the finished output should be readable like any
   * other new file, so give it rw-r--r-- where the file system supports POSIX permissions.
   */
  static void relaxPermissions(Path tmp) throws IOException {
    try {
      Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: keep the defaults
    }
  }
}
