package trnsim.core.engine;

import java.util.Arrays;

/**
 * A binary min-heap of events ordered by (tick, priority, insertion sequence): a total order, so
 * two runs of the same model pop events in the same order. Allocation-free: the heap holds, per
 * entry, its tick and order key side by side in one {@code long[]} (one cache line per comparison)
 * and the int slot of its payload; payloads (handler, kind, argument) stay in slot-indexed arrays
 * that are never moved, slots recycled through a free list. A sift therefore moves three words per
 * level instead of five.
 */
public final class EventQueue {
  /** keys[2i] = tick, keys[2i+1] = order of heap entry i. */
  private long[] keys = new long[512];
  /** Payload slot of heap entry i. */
  private int[] slots = new int[256];
  // Payloads by slot.
  private EventHandler[] handlers = new EventHandler[256];
  private int[] kinds = new int[256];
  private long[] args = new long[256];
  /** Clock-scaled ticks on the causal chain that led to each event ({@link Simulation#clockShare}). */
  private long[] shares = new long[256];
  /** Free payload slots (a stack); slots never handed out are {@code slotsUsed..capacity}. */
  private int[] free = new int[256];
  private int nFree;
  private int size;
  /** Slots handed out so far (used or free). */
  private int slotsUsed;
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
    pushOrdered(tick, reserve(priority), handler, kind, arg, 0);
  }

  /** As {@link #push}, with the event's clock share (see {@link Simulation#clockShare}). */
  public void push(long tick, int priority, EventHandler handler, int kind, long arg, long share) {
    pushOrdered(tick, reserve(priority), handler, kind, arg, share);
  }

  /**
   * The order key the next push with {@code priority} would get, consumed now: an event pushed
   * later with {@link #pushOrdered} runs where it would have run had it been pushed at this point.
   */
  public long reserve(int priority) {
    if (priority < -128 || priority > 127) {
      throw new IllegalArgumentException("priority out of range: " + priority);
    }
    /* Priority in bits 48-55 (offset by 128), insertion sequence in the low 48 bits. */
    return ((long) (priority + 128) << 48) | (nextSeq++ & 0x0000_FFFF_FFFF_FFFFL);
  }

  /** Adds an event with an order key from {@link #reserve} and its clock share. */
  public void pushOrdered(long tick, long ord, EventHandler handler, int kind, long arg, long share) {
    if (size == slots.length) {
      grow();
    }
    int slot = nFree > 0 ? free[--nFree] : slotsUsed++;
    handlers[slot] = handler;
    kinds[slot] = kind;
    args[slot] = arg;
    shares[slot] = share;
    long[] k = keys;
    int[] s = slots;
    int i = size++;
    // sift up
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      long pt = k[2 * parent];
      if (tick < pt || (tick == pt && ord < k[2 * parent + 1])) {
        k[2 * i] = pt;
        k[2 * i + 1] = k[2 * parent + 1];
        s[i] = s[parent];
        i = parent;
      } else {
        break;
      }
    }
    k[2 * i] = tick;
    k[2 * i + 1] = ord;
    s[i] = slot;
  }

  /** Tick of the earliest event; undefined when empty. */
  public long peekTick() {
    return keys[0];
  }

  // The popped event is exposed through these fields until the next pop, to avoid allocating.
  long poppedTick;
  EventHandler poppedHandler;
  int poppedKind;
  long poppedArg;
  long poppedShare;

  /** Removes the earliest event into the popped* fields. */
  void pop() {
    long[] k = keys;
    int[] s = slots;
    poppedTick = k[0];
    int top = s[0];
    poppedHandler = handlers[top];
    poppedKind = kinds[top];
    poppedArg = args[top];
    poppedShare = shares[top];
    handlers[top] = null;
    free[nFree++] = top;
    int last = --size;
    long t = k[2 * last];
    long o = k[2 * last + 1];
    int ls = s[last];
    int i = 0;
    int half = size >>> 1;
    while (i < half) {
      int child = 2 * i + 1;
      int right = child + 1;
      long ct = k[2 * child];
      long co = k[2 * child + 1];
      if (right < size) {
        long rt = k[2 * right];
        long ro = k[2 * right + 1];
        if (rt < ct || (rt == ct && ro < co)) {
          child = right;
          ct = rt;
          co = ro;
        }
      }
      if (ct < t || (ct == t && co < o)) {
        k[2 * i] = ct;
        k[2 * i + 1] = co;
        s[i] = s[child];
        i = child;
      } else {
        break;
      }
    }
    if (size > 0) {
      k[2 * i] = t;
      k[2 * i + 1] = o;
      s[i] = ls;
    }
  }

  private void grow() {
    int n = slots.length * 2;
    keys = Arrays.copyOf(keys, 2 * n);
    slots = Arrays.copyOf(slots, n);
    handlers = Arrays.copyOf(handlers, n);
    kinds = Arrays.copyOf(kinds, n);
    args = Arrays.copyOf(args, n);
    shares = Arrays.copyOf(shares, n);
    free = Arrays.copyOf(free, n);
  }
}
