package trnsim.core.trace;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;

/**
 * Writes the Chrome/Perfetto trace-event JSON format ({@code {"traceEvents":[...]}}): {@code X}
 * slices per instruction, {@code C} counters, {@code M} metadata naming processes and tracks.
 * Timestamps are microseconds (ticks / 10^6). A size guard keeps traces of long runs loadable:
 * only events inside [{@code fromTick}, {@code toTick}] are written, at most {@code maxEvents}; a
 * trace cut by the guard says so in an instant event and in {@code otherData.note}.
 */
public final class ChromeTraceSink implements TraceSink, AutoCloseable {
  private final JsonGenerator gen;
  private final long fromTick;
  private final long toTick;
  private final long maxEvents;
  private long written;
  private long dropped;
  private long lastTick;

  public ChromeTraceSink(Writer out, long fromTick, long toTick, long maxEvents) {
    try {
      this.gen = new JsonFactory().createGenerator(out);
      gen.writeStartObject();
      gen.writeStringField("displayTimeUnit", "ns");
      gen.writeArrayFieldStart("traceEvents");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.fromTick = fromTick;
    this.toTick = toTick;
    this.maxEvents = maxEvents;
  }

  public long written() {
    return written;
  }

  public long dropped() {
    return dropped;
  }

  @Override
  public boolean enabled() {
    return written < maxEvents;
  }

  @Override
  public void dropped(long events) {
    dropped += events;
  }

  @Override
  public boolean wants(long from, long to) {
    return enabled() && to >= fromTick && from <= toTick;
  }

  @Override
  public long remaining() {
    return Math.max(0, maxEvents - written);
  }

  /** True when the size guard cut the trace. */
  public boolean truncated() {
    return dropped > 0;
  }

  /** The note written into a truncated trace and printed as a warning. */
  public String truncationNote() {
    return "trace cut at " + maxEvents + " events (" + dropped + " more not written)";
  }

  @Override
  public void processName(int pid, String name) {
    meta("process_name", pid, 0, name);
  }

  @Override
  public void trackName(int pid, int tid, String name) {
    meta("thread_name", pid, tid, name);
  }

  private void meta(String what, int pid, int tid, String name) {
    try {
      gen.writeStartObject();
      gen.writeStringField("name", what);
      gen.writeStringField("ph", "M");
      gen.writeNumberField("pid", pid);
      gen.writeNumberField("tid", tid);
      gen.writeObjectFieldStart("args");
      gen.writeStringField("name", name);
      gen.writeEndObject();
      gen.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private boolean admit(long start, long end) {
    if (end < fromTick || start > toTick) {
      return false;
    }
    if (written >= maxEvents) {
      dropped++;
      return false;
    }
    written++;
    lastTick = Math.max(lastTick, end);
    return true;
  }

  @Override
  public void slice(int pid, int tid, String name, long startTick, long endTick) {
    if (!admit(startTick, endTick)) {
      return;
    }
    try {
      gen.writeStartObject();
      gen.writeStringField("name", name);
      gen.writeStringField("ph", "X");
      gen.writeNumberField("ts", startTick / 1e6);
      gen.writeNumberField("dur", (endTick - startTick) / 1e6);
      gen.writeNumberField("pid", pid);
      gen.writeNumberField("tid", tid);
      gen.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void counter(int pid, String name, long tick, double value) {
    if (!admit(tick, tick)) {
      return;
    }
    try {
      gen.writeStartObject();
      gen.writeStringField("name", name);
      gen.writeStringField("ph", "C");
      gen.writeNumberField("ts", tick / 1e6);
      gen.writeNumberField("pid", pid);
      gen.writeObjectFieldStart("args");
      gen.writeNumberField("value", value);
      gen.writeEndObject();
      gen.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      if (truncated()) {
        // A global instant event marks the cut on the timeline; otherData carries it as metadata.
        gen.writeStartObject();
        gen.writeStringField("name", truncationNote());
        gen.writeStringField("ph", "i");
        gen.writeStringField("s", "g");
        gen.writeNumberField("ts", lastTick / 1e6);
        gen.writeNumberField("pid", 0);
        gen.writeNumberField("tid", 0);
        gen.writeEndObject();
      }
      gen.writeEndArray();
      if (truncated()) {
        gen.writeObjectFieldStart("otherData");
        gen.writeStringField("note", truncationNote());
        gen.writeEndObject();
      }
      gen.writeEndObject();
      gen.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
