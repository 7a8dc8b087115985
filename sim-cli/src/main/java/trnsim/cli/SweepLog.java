package trnsim.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * The JSONL results file of a sweep: one compact JSON object per line, each with a {@code key}.
 * A row is appended with one write of the whole line and then forced to disk, so a killed sweep
 * loses at most the runs in flight. On open, a partial last line (no newline) is dropped and
 * truncated away, and rows whose key was already seen are ignored, so each point counts once.
 *
 * <p>An error row (one with {@code error}) is kept, so a failed point is never lost, but does not
 * count as finished: the next run of the same sweep tries that point again (a fault such as an
 * exhausted {@code --max-events}, which is not part of the key, may be gone), and a later result row
 * for the key replaces it.
 */
final class SweepLog implements AutoCloseable {
  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;
  private final Map<String, JsonNode> rows = new HashMap<>();
  private final Map<String, JsonNode> errors = new HashMap<>();

  private SweepLog(Path file, FileChannel channel, FileLock lock) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  static SweepLog open(Path file, PrintWriter err) {
    try {
      Path abs = file.toAbsolutePath();
      if (abs.getParent() != null) {
        Files.createDirectories(abs.getParent());
      }
      FileChannel ch = FileChannel.open(abs, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        ch.close();
        throw new UserInputException("--out = '" + file + "': another sweep is writing this file");
      }
      SweepLog log = new SweepLog(file, ch, lock);
      try {
        log.load(err);
      } catch (RuntimeException e) {
        log.close();
        throw e;
      }
      return log;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + file + ": " + e.getMessage(), e);
    }
  }

  private void load(PrintWriter err) throws IOException {
    long size = channel.size();
    if (size > Integer.MAX_VALUE - 16) {
      throw new UserInputException("--out = '" + file + "': larger than 2 GB; start a new results file");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) size);
    channel.read(buf, 0);
    byte[] bytes = buf.array();
    int lastNl = -1;
    for (int i = bytes.length - 1; i >= 0; i--) {
      if (bytes[i] == '\n') {
        lastNl = i;
        break;
      }
    }
    if (lastNl + 1 < bytes.length) {
      err.println("warning: " + file + ": dropped a partial last line (" + (bytes.length - lastNl - 1)
          + " bytes) left by an interrupted sweep; that point runs again");
      err.flush();
      channel.truncate(lastNl + 1);
      channel.force(true);
    }
    String text = new String(bytes, 0, lastNl + 1, StandardCharsets.UTF_8);
    int lineNo = 0;
    for (String line : text.split("\n")) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      JsonNode n;
      try {
        n = Json.MAPPER.readTree(line);
      } catch (IOException e) {
        n = null;
      }
      if (n == null || !n.isObject() || !n.path("key").isTextual()) {
        throw new UserInputException("--out = '" + file + "': line " + lineNo + " is not a sweep result row");
      }
      keep(n.get("key").asText(), n);
    }
  }

  /** The first result row of a key wins; an error row is kept (the latest) only while the key has no result. */
  private void keep(String key, JsonNode n) {
    if (isError(n)) {
      if (!rows.containsKey(key)) {
        errors.put(key, n);
      }
    } else if (rows.putIfAbsent(key, n) == null) {
      errors.remove(key);
    }
  }

  static boolean isError(JsonNode row) {
    return row.has("error");
  }

  /** True when the key has a result row (an error row does not count: that point runs again). */
  boolean has(String key) {
    return rows.containsKey(key);
  }

  /** The key's result row, else its error row, else null. */
  JsonNode row(String key) {
    JsonNode n = rows.get(key);
    return n != null ? n : errors.get(key);
  }

  int size() {
    return rows.size();
  }

  /** Appends one row (compact JSON without newline) in a single write, then fsyncs; returns it parsed. */
  JsonNode append(String key, String json) {
    if (json.indexOf('\n') >= 0) {
      throw new IllegalStateException("row contains a newline");
    }
    try {
      JsonNode n = Json.MAPPER.readTree(json);
      ByteBuffer buf = ByteBuffer.wrap((json + "\n").getBytes(StandardCharsets.UTF_8));
      long pos = channel.size();
      while (buf.hasRemaining()) {
        pos += channel.write(buf, pos);
      }
      channel.force(false);
      keep(key, n);
      return n;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      if (lock.isValid()) {
        lock.release();
      }
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close " + file + ": " + e.getMessage(), e);
    }
  }
}
