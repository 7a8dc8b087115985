package trnsim.isa;

/**
 * One engine's in-order instruction stream plus, per instruction, the instructions of other
 * queues of the same core that must have completed before it may start.
 *
 * <p>The stream is stored as segments, each a body of instructions run {@code count} times in a
 * row: a loop descriptor. A literal run of instructions is a segment run once. In a repeated
 * segment, repetition {@code r} runs the same instructions as the body, and a dependency of body
 * position {@code b} points at {@code base + r * stride} of its queue: a loop body's dependencies
 * move with the loop by a fixed number of instructions per iteration. So a kernel whose blocks
 * repeat needs memory for one block, not for all of them. The stream the accessors present is
 * exactly the flat one the builder was given; only its storage differs.
 *
 * <p>Dependencies are numbered flat over the whole queue ({@link #depStart}..{@link #depEnd}); the
 * simulator's hot loop reads them per instruction with {@link #deps}, one segment look-up each.
 */
public final class Queue {
  private final EngineKind kind;
  private final int dmaIndex;
  private final int size;
  /** First instruction of each segment, plus the size at the end. */
  private final int[] segStart;
  /** First dependency number of each segment, plus the total at the end. */
  private final int[] segDepStart;
  private final Segment[] segments;
  private final int maxDeps;

  /**
   * A body of {@code body.length} instructions run {@code count} times. Dependencies of body
   * position b are {@code depOffsets[b]..depOffsets[b+1]}; {@code stride} is null when
   * {@code count} is 1.
   */
  record Segment(Instruction[] body, int count, int[] depOffsets, int[] depQueue, int[] depBase, int[] depStride) {
    int length() {
      return body.length * count;
    }

    int bodyDeps() {
      return depOffsets[body.length];
    }
  }

  /** A literal stream (one segment run once), as {@link ProgramChain} merges them. */
  Queue(EngineKind kind, int dmaIndex, Instruction[] instructions, int[] depOffsets, int[] depQueue, int[] depIndex) {
    this(kind, dmaIndex, new Segment[] {new Segment(instructions, 1, depOffsets, depQueue, depIndex, null)});
  }

  Queue(EngineKind kind, int dmaIndex, Segment[] segments) {
    this.kind = kind;
    this.dmaIndex = dmaIndex;
    this.segments = segments;
    segStart = new int[segments.length + 1];
    segDepStart = new int[segments.length + 1];
    int most = 0;
    long n = 0;
    long deps = 0;
    for (int s = 0; s < segments.length; s++) {
      Segment g = segments[s];
      n += g.length();
      deps += (long) g.bodyDeps() * g.count();
      if (n > Integer.MAX_VALUE || deps > Integer.MAX_VALUE) {
        throw new ProgramException("one engine queue holds more than 2^31 instructions or dependencies");
      }
      segStart[s + 1] = (int) n;
      segDepStart[s + 1] = (int) deps;
      for (int b = 0; b < g.body().length; b++) {
        most = Math.max(most, g.depOffsets()[b + 1] - g.depOffsets()[b]);
      }
    }
    this.size = (int) n;
    this.maxDeps = most;
  }

  public EngineKind kind() {
    return kind;
  }

  /** For DMA queues, which of the core's queues; -1 for compute engines. */
  public int dmaIndex() {
    return dmaIndex;
  }

  public String label() {
    return kind == EngineKind.DMA ? "dma" + dmaIndex : kind.label();
  }

  public int size() {
    return size;
  }

  /** Instructions held in memory: each segment's body once (at most {@link #size()}). */
  public long storedInstructions() {
    long n = 0;
    for (Segment g : segments) {
      n += g.body().length;
    }
    return n;
  }

  /**
   * Calls {@code action} with each stored instruction and how many times the stream runs it, in
   * stream order of first appearance: a loop body's instructions once each with the loop's count.
   * A sum over the stream whose terms do not depend on order needs only these.
   */
  public void forEachStored(java.util.function.ObjLongConsumer<Instruction> action) {
    for (Segment g : segments) {
      for (Instruction ins : g.body()) {
        action.accept(ins, g.count());
      }
    }
  }

  /** Segments (loop descriptors and literal runs) the stream is stored as. */
  public int segments() {
    return segments.length;
  }

  /** The most dependencies any one instruction has. */
  public int maxDeps() {
    return maxDeps;
  }

  public Instruction instruction(int i) {
    int s = segmentOf(i);
    Segment g = segments[s];
    int off = i - segStart[s];
    return g.body()[g.count() == 1 ? off : off % g.body().length];
  }

  public int depStart(int i) {
    return depBound(i, 0);
  }

  public int depEnd(int i) {
    return depBound(i, 1);
  }

  private int depBound(int i, int end) {
    int s = segmentOf(i);
    Segment g = segments[s];
    int off = i - segStart[s];
    if (g.count() == 1) {
      return segDepStart[s] + g.depOffsets()[off + end];
    }
    int len = g.body().length;
    int r = off / len;
    return segDepStart[s] + r * g.bodyDeps() + g.depOffsets()[off - r * len + end];
  }

  public int depQueue(int d) {
    int s = depSegmentOf(d);
    Segment g = segments[s];
    int local = d - segDepStart[s];
    return g.depQueue()[g.count() == 1 ? local : local % g.bodyDeps()];
  }

  public int depIndex(int d) {
    int s = depSegmentOf(d);
    Segment g = segments[s];
    int local = d - segDepStart[s];
    if (g.count() == 1) {
      return g.depBase()[local];
    }
    int r = local / g.bodyDeps();
    int j = local - r * g.bodyDeps();
    return g.depBase()[j] + r * g.depStride()[j];
  }

  /**
   * The dependencies of instruction {@code i}, in order, into {@code queues} and {@code indices}
   * (each at least {@link #maxDeps()} long); returns how many.
   */
  public int deps(int i, int[] queues, int[] indices) {
    return new Reader().deps(i, queues, indices);
  }

  /**
   * A reader of this queue that remembers the segment it read last: a simulator reads each queue
   * nearly in order, so most reads need no search. Not shared between threads (one per executor).
   */
  public Reader reader() {
    return new Reader();
  }

  /** See {@link #reader()}. */
  public final class Reader {
    private int seg;
    private int start = segStart[0];
    private int end = segStart[1];
    private Segment g = segments[0];

    private int locate(int i) {
      if (i < start || i >= end) {
        seg = i >= end && seg + 2 < segStart.length && i < segStart[seg + 2] ? seg + 1 : segmentOf(i);
        start = segStart[seg];
        end = segStart[seg + 1];
        g = segments[seg];
      }
      return i - start;
    }

    public Instruction instruction(int i) {
      int off = locate(i);
      return g.body()[g.count() == 1 ? off : off % g.body().length];
    }

    /** As {@link Queue#deps}. */
    public int deps(int i, int[] queues, int[] indices) {
      int off = locate(i);
      int[] offsets = g.depOffsets();
      if (g.count() == 1) {
        int from = offsets[off];
        int n = offsets[off + 1] - from;
        System.arraycopy(g.depQueue(), from, queues, 0, n);
        System.arraycopy(g.depBase(), from, indices, 0, n);
        return n;
      }
      int len = g.body().length;
      int r = off / len;
      int b = off - r * len;
      int from = offsets[b];
      int n = offsets[b + 1] - from;
      int[] base = g.depBase();
      int[] stride = g.depStride();
      int[] dq = g.depQueue();
      for (int k = 0; k < n; k++) {
        queues[k] = dq[from + k];
        indices[k] = base[from + k] + r * stride[from + k];
      }
      return n;
    }
  }

  private int segmentOf(int i) {
    return segments.length == 1 ? 0 : last(segStart, i);
  }

  private int depSegmentOf(int d) {
    return segments.length == 1 ? 0 : last(segDepStart, d);
  }

  /** The last segment whose start is at most {@code v} (starts are non-decreasing). */
  private int last(int[] starts, int v) {
    int lo = 0;
    int hi = segments.length - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= v) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }
}
