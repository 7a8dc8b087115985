package trnsim.core.engine;

import java.util.Arrays;

/**
 * A binary min-heap of events ordered by (tick, priority, insertion sequence): a total order, so
 * two runs of the same model pop events in the same order. Stored in parallel primitive arrays so
 * that scheduling does not allocate.
 */
public final class EventQueue {
  private long[] ticks = new long[256];
  /** Priority in bits 48-55 (offset by 128), insertion sequence in the low 48 bits. */
  private long[] order = new long[256];
  private EventHandler[] handlers = new EventHandler[256];
  private int[] kinds = new int[256];
  private long[] args = new long[256];
  private int size;
  private long nextSeq;

  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /**
   * Adds an event. Lower priority values run first among events of the same tick.
   *
   * @param priority in [-128, 127]
   */
  public void push(long tick, int priority, EventHandler handler, int kind, long arg) {
    if (priority < -128 || priority > 127) {
      throw new IllegalArgumentException("priority out of range: " + priority);
    }
    if (size == ticks.length) {
      grow();
    }
    long ord = ((long) (priority + 128) << 48) | (nextSeq++ & 0x0000_FFFF_FFFF_FFFFL);
    int i = size++;
    // sift up
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (less(tick, ord, ticks[parent], order[parent])) {
        move(parent, i);
        i = parent;
      } else {
        break;
      }
    }
    set(i, tick, ord, handler, kind, arg);
  }

  /** Tick of the earliest event; undefined when empty. */
  public long peekTick() {
    return ticks[0];
  }

  // The popped event is exposed through these fields until the next pop, to avoid allocating.
  long poppedTick;
  EventHandler poppedHandler;
  int poppedKind;
  long poppedArg;

  /** Removes the earliest event into the popped* fields. */
  void pop() {
    poppedTick = ticks[0];
    poppedHandler = handlers[0];
    poppedKind = kinds[0];
    poppedArg = args[0];
    int last = --size;
    long t = ticks[last];
    long o = order[last];
    EventHandler h = handlers[last];
    int k = kinds[last];
    long a = args[last];
    handlers[last] = null;
    int i = 0;
    int half = size >>> 1;
    while (i < half) {
      int child = 2 * i + 1;
      int right = child + 1;
      if (right < size && less(ticks[right], order[right], ticks[child], order[child])) {
        child = right;
      }
      if (less(ticks[child], order[child], t, o)) {
        move(child, i);
        i = child;
      } else {
        break;
      }
    }
    if (size > 0) {
      set(i, t, o, h, k, a);
    }
  }

  private static boolean less(long t1, long o1, long t2, long o2) {
    return t1 < t2 || (t1 == t2 && o1 < o2);
  }

  private void move(int from, int to) {
    ticks[to] = ticks[from];
    order[to] = order[from];
    handlers[to] = handlers[from];
    kinds[to] = kinds[from];
    args[to] = args[from];
  }

  private void set(int i, long t, long o, EventHandler h, int k, long a) {
    ticks[i] = t;
    order[i] = o;
    handlers[i] = h;
    kinds[i] = k;
    args[i] = a;
  }

  private void grow() {
    int n = ticks.length * 2;
    ticks = Arrays.copyOf(ticks, n);
    order = Arrays.copyOf(order, n);
    handlers = Arrays.copyOf(handlers, n);
    kinds = Arrays.copyOf(kinds, n);
    args = Arrays.copyOf(args, n);
  }
}
