package trnsim.isa.lower;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import trnsim.isa.CoreProgram;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.Op;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.ProgramException;
import trnsim.isa.TensorRef;

/**
 * A kernel written the way an NKI kernel is: against named on-chip tiles, in program order, without
 * addresses, semaphores or spills. {@link #emit} then does the compiler's part and writes the
 * instruction streams:
 *
 * <ul>
 *   <li><b>Dependencies</b> from the tiles each op reads and writes: read-after-write (also on the
 *       same engine, where the reader waits for the writer's pipeline latency), write-after-read and
 *       write-after-write across engines.
 *   <li><b>Allocation.</b> A tile occupies its bytes per partition from its first write to its last
 *       access in program order. Freed space is reused oldest-first (a rotating allocator), so a new
 *       tile's writer waits for the last readers of whatever last occupied that space: with room to
 *       spare, engines and DMA queues run ahead by many iterations; as the live set approaches
 *       the capacity, the reused space was freed more recently and the run-ahead shrinks.
 *   <li><b>Spilling.</b> When an SBUF allocation does not fit, the resident tile (not used by the
 *       current op) whose next access is furthest away is evicted (Belady's MIN, which compilers
 *       approximate). A tile that holds computed data is first stored to HBM (a spill store); an
 *       unmodified loaded tile is simply dropped. Its next access reloads it from HBM just before
 *       that op, which then waits for the reload. Spill stores and reloads are DMAs like any
 *       other: reloads on the load queues, spill stores on the store queues.
 * </ul>
 *
 * Simplified: space is a byte count per partition with no addresses, so fragmentation is not
 * modelled; a tile spanning fewer partitions still takes its bytes in every partition (as
 * {@link trnsim.isa.Buffer}s do); PSUM tiles are allocated the same way (bank-sized) but never
 * spilled: a kernel whose live PSUM tiles exceed PSUM is rejected.
 */
public final class TileKernel {
  /** An on-chip tile: {@code partitions} x {@code bytesPerPartition} in SBUF or PSUM. */
  public static final class Tile {
    final int id;
    final String name;
    final MemSpace space;
    final int partitions;
    final long bytesPerPartition;
    // planner state
    int[] accesses;
    int nAccesses;
    int cursor;
    boolean resident;
    boolean everWritten;
    boolean hbmValid;
    Op[] spillStore;
    Deps writers;
    Deps readers;

    Tile(int id, String name, MemSpace space, int partitions, long bytesPerPartition) {
      this.id = id;
      this.name = name;
      this.space = space;
      this.partitions = partitions;
      this.bytesPerPartition = bytesPerPartition;
    }

    public String name() {
      return name;
    }

    public int partitions() {
      return partitions;
    }

    public long bytesPerPartition() {
      return bytesPerPartition;
    }

    int nextAccess() {
      return cursor < nAccesses ? accesses[cursor] : Integer.MAX_VALUE;
    }
  }

  /**
   * DMA queue ranges: kernel loads and compiler reloads on {@code [loadFirst, loadFirst + loadCount)},
   * kernel stores and spill stores on {@code [storeFirst, storeFirst + storeCount)} (stores wait for
   * compute; on separate queues they never block a load queued behind them).
   */
  public record Queues(int loadFirst, int loadCount, int storeFirst, int storeCount) {
    public Queues {
      if (loadCount <= 0 || storeCount <= 0 || loadFirst < 0 || storeFirst < 0) {
        throw new IllegalArgumentException("DMA queue ranges must be non-empty: " + loadFirst + "+" + loadCount
            + ", " + storeFirst + "+" + storeCount);
      }
    }

    /** Loads on the first three quarters of {@code dmaQueues}, stores on the rest (one queue: shared). */
    public static Queues split(int dmaQueues) {
      int loads = Kernels.loadQueues(dmaQueues);
      return dmaQueues <= 1 ? new Queues(0, 1, 0, 1) : new Queues(0, loads, loads, dmaQueues - loads);
    }
  }

  /**
   * What the planner did.
   *
   * @param peakSbufBytesPerPartition most SBUF bytes per partition live at once
   * @param peakPsumBytesPerPartition most PSUM bytes per partition live at once
   * @param spillStores computed tiles stored to HBM to make room
   * @param spillBytes bytes those stores moved
   * @param cleanEvictions unmodified loaded tiles dropped to make room (reloaded from their source)
   * @param reloads tiles brought back into SBUF before a later access
   * @param reloadBytes bytes those reloads moved
   * @param loads the kernel's own loads (one per {@link #load} call, however many queues carry it)
   * @param loadBytes bytes they moved
   * @param stores the kernel's own stores
   * @param storeBytes bytes they moved
   */
  public record Plan(long peakSbufBytesPerPartition, long peakPsumBytesPerPartition, long spillStores, long spillBytes,
      long cleanEvictions, long reloads, long reloadBytes, long loads, long loadBytes, long stores, long storeBytes) {
    public boolean spilled() {
      return spillStores > 0 || cleanEvictions > 0;
    }
  }

  private static final int COMPUTE = 0;
  private static final int LOAD = 1;
  private static final int STORE = 2;

  private record KOp(int kind, Instruction ins, Tile[] reads, Tile[] writes) {}

  private final List<Tile> tiles = new ArrayList<>();
  private final List<KOp> ops = new ArrayList<>();
  private final long sbufCapacity;
  private final long psumCapacity;
  private boolean emitted;

  /** @param sbufBytesPerPartition SBUF the kernel may use; @param psumBytesPerPartition likewise PSUM */
  public TileKernel(long sbufBytesPerPartition, long psumBytesPerPartition) {
    this.sbufCapacity = sbufBytesPerPartition;
    this.psumCapacity = psumBytesPerPartition;
  }

  public Tile sbuf(String name, int partitions, long bytesPerPartition) {
    return tile(name, MemSpace.SBUF, partitions, bytesPerPartition);
  }

  public Tile psum(String name, int partitions, long bytesPerPartition) {
    return tile(name, MemSpace.PSUM, partitions, bytesPerPartition);
  }

  private Tile tile(String name, MemSpace space, int partitions, long bytesPerPartition) {
    if (partitions <= 0 || bytesPerPartition <= 0) {
      throw new ProgramException("tile '" + name + "' must have a positive size: " + partitions + " x " + bytesPerPartition + " B");
    }
    Tile t = new Tile(tiles.size(), name, space, partitions, bytesPerPartition);
    tiles.add(t);
    return t;
  }

  public static Tile[] of(Tile... t) {
    return t;
  }

  /** A compute instruction reading {@code reads} and writing {@code writes} (a tile in both is updated in place). */
  public void compute(Instruction ins, Tile[] reads, Tile[] writes) {
    if (ins.engine() == EngineKind.DMA) {
      throw new IllegalArgumentException("use load/store for DMAs");
    }
    ops.add(new KOp(COMPUTE, ins, reads, writes));
  }

  /** One DMA from HBM filling {@code dst} (tiles over the same partitions: slices of one tensor). */
  public void load(Tile... dst) {
    requireSamePartitions(dst);
    ops.add(new KOp(LOAD, null, new Tile[0], dst));
  }

  /** One DMA to HBM from {@code src} (tiles over the same partitions). */
  public void store(Tile... src) {
    requireSamePartitions(src);
    ops.add(new KOp(STORE, null, src, new Tile[0]));
  }

  public int opCount() {
    return ops.size();
  }

  private static void requireSamePartitions(Tile[] ts) {
    if (ts.length == 0) {
      throw new IllegalArgumentException("a DMA needs at least one tile");
    }
    for (Tile t : ts) {
      if (t.space != MemSpace.SBUF || t.partitions != ts[0].partitions) {
        throw new IllegalArgumentException("one DMA moves SBUF tiles over the same partitions: " + t.name);
      }
    }
  }

  /** Plans the kernel and writes its instructions to {@code core}; one use per kernel. */
  public Plan emit(ProgramBuilder.CoreBuilder core, Queues queues, int dmaQueues) {
    if (emitted) {
      throw new IllegalStateException("a tile kernel is emitted once");
    }
    emitted = true;
    if (queues.loadFirst() + queues.loadCount() > dmaQueues || queues.storeFirst() + queues.storeCount() > dmaQueues) {
      throw new IllegalArgumentException("DMA queue ranges exceed the core's " + dmaQueues + " queues");
    }
    return new Planner(core, queues, dmaQueues).run();
  }

  /** The latest instruction per queue (in-order queues: the latest one covers every earlier one). */
  static final class Deps {
    private final Op[] byQueue;
    private int n;

    Deps(int queues) {
      byQueue = new Op[queues];
    }

    void add(Op op) {
      Op cur = byQueue[op.queue()];
      if (cur == null) {
        n++;
        byQueue[op.queue()] = op;
      } else if (op.index() > cur.index()) {
        byQueue[op.queue()] = op;
      }
    }

    void addAll(Op[] ops) {
      if (ops != null) {
        for (Op o : ops) {
          add(o);
        }
      }
    }

    void addAll(Deps d) {
      if (d != null) {
        for (Op o : d.byQueue) {
          if (o != null) {
            add(o);
          }
        }
      }
    }

    boolean isEmpty() {
      return n == 0;
    }

    Op[] toArray() {
      Op[] out = new Op[n];
      int k = 0;
      for (Op o : byQueue) {
        if (o != null) {
          out[k++] = o;
        }
      }
      return out;
    }
  }

  /** Freed space, reused oldest-first; each piece remembers who must be done with it. */
  private static final class Pool {
    private record Segment(long bytes, Op[] release) {}

    private final ArrayDeque<Segment> fifo = new ArrayDeque<>();
    private final long capacity;
    private long free;

    Pool(long capacity) {
      this.capacity = capacity;
      this.free = capacity;
      if (capacity > 0) {
        fifo.add(new Segment(capacity, new Op[0]));
      }
    }

    long free() {
      return free;
    }

    long used() {
      return capacity - free;
    }

    void give(long bytes, Op[] release) {
      fifo.addLast(new Segment(bytes, release));
      free += bytes;
    }

    void take(long bytes, Deps war) {
      free -= bytes;
      long need = bytes;
      while (need > 0) {
        Segment s = fifo.pollFirst();
        war.addAll(s.release());
        if (s.bytes() > need) {
          fifo.addFirst(new Segment(s.bytes() - need, s.release()));
          need = 0;
        } else {
          need -= s.bytes();
        }
      }
    }
  }

  private final class Planner {
    private final ProgramBuilder.CoreBuilder core;
    private final Queues queues;
    private final int nQueues;
    private final Pool sbuf = new Pool(sbufCapacity);
    private final Pool psum = new Pool(psumCapacity);
    private final List<Tile> residentSbuf = new ArrayList<>();
    private int nextLoadQueue;
    private int nextStoreQueue;
    private long peakSbuf;
    private long peakPsum;
    private long spillStores;
    private long spillBytes;
    private long cleanEvictions;
    private long reloads;
    private long reloadBytes;
    private long loads;
    private long loadBytes;
    private long stores;
    private long storeBytes;

    Planner(ProgramBuilder.CoreBuilder core, Queues queues, int dmaQueues) {
      this.core = core;
      this.queues = queues;
      this.nQueues = CoreProgram.FIRST_DMA + dmaQueues;
    }

    Plan run() {
      indexAccesses();
      for (int i = 0; i < ops.size(); i++) {
        step(i, ops.get(i));
        ops.set(i, null); // emitted: let the op go
      }
      return new Plan(peakSbuf, peakPsum, spillStores, spillBytes, cleanEvictions, reloads, reloadBytes, loads, loadBytes,
          stores, storeBytes);
    }

    private void indexAccesses() {
      int[] counts = new int[tiles.size()];
      for (KOp op : ops) {
        for (Tile t : op.reads()) {
          counts[t.id]++;
        }
        for (Tile t : op.writes()) {
          counts[t.id]++;
        }
      }
      for (Tile t : tiles) {
        t.accesses = new int[counts[t.id]];
      }
      for (int i = 0; i < ops.size(); i++) {
        KOp op = ops.get(i);
        for (Tile t : op.reads()) {
          record(t, i);
        }
        for (Tile t : op.writes()) {
          record(t, i);
        }
      }
    }

    private void record(Tile t, int i) {
      if (t.nAccesses == 0 || t.accesses[t.nAccesses - 1] != i) {
        t.accesses[t.nAccesses++] = i;
      }
    }

    private void step(int i, KOp op) {
      Deps raw = new Deps(nQueues);
      Deps war = new Deps(nQueues);
      for (Tile t : op.reads()) {
        if (!t.everWritten) {
          throw new ProgramException("tile '" + t.name + "' is read before anything writes it");
        }
        if (!t.resident) {
          reload(t, op);
        }
      }
      for (Tile t : op.reads()) {
        raw.addAll(t.writers);
      }
      for (Tile t : op.writes()) {
        if (!t.resident) {
          allocate(t, op, war);
          t.resident = true;
        } else {
          // Overwriting (or updating) a live tile: after every earlier reader and writer.
          war.addAll(t.readers);
          war.addAll(t.writers);
        }
      }
      Op[] handles = switch (op.kind()) {
        case COMPUTE -> new Op[] {emitCompute(op.ins(), raw, war)};
        case LOAD -> {
          loads++;
          loadBytes += bytes(op.writes());
          yield emitDma(MemSpace.HBM, MemSpace.SBUF, op.writes(), true, raw, war);
        }
        default -> {
          stores++;
          storeBytes += bytes(op.reads());
          yield emitDma(MemSpace.SBUF, MemSpace.HBM, op.reads(), false, raw, war);
        }
      };
      for (Tile t : op.reads()) {
        if (t.readers == null) {
          t.readers = new Deps(nQueues);
        }
        t.readers.addAll(handles);
      }
      for (Tile t : op.writes()) {
        t.writers = new Deps(nQueues);
        t.writers.addAll(handles);
        t.readers = null;
        t.everWritten = true;
        t.hbmValid = op.kind() == LOAD;
        t.spillStore = null;
      }
      for (Tile t : op.reads()) {
        advance(t, i);
      }
      for (Tile t : op.writes()) {
        advance(t, i);
      }
    }

    private long bytes(Tile[] ts) {
      long b = 0;
      for (Tile t : ts) {
        b += (long) t.partitions * t.bytesPerPartition;
      }
      return b;
    }

    private void advance(Tile t, int i) {
      while (t.cursor < t.nAccesses && t.accesses[t.cursor] <= i) {
        t.cursor++;
      }
      if (t.cursor == t.nAccesses && t.resident) {
        release(t);
        t.writers = null;
        t.readers = null;
        t.accesses = null;
      }
    }

    /** Frees a tile's space; whoever reuses it waits for everyone that touched it. */
    private void release(Tile t) {
      Deps touched = new Deps(nQueues);
      touched.addAll(t.readers);
      touched.addAll(t.writers);
      touched.addAll(t.spillStore);
      pool(t).give(t.bytesPerPartition, touched.toArray());
      t.resident = false;
      if (t.space == MemSpace.SBUF) {
        residentSbuf.remove(t);
      }
    }

    private Pool pool(Tile t) {
      return t.space == MemSpace.PSUM ? psum : sbuf;
    }

    private void allocate(Tile t, KOp op, Deps war) {
      Pool p = pool(t);
      if (t.space == MemSpace.PSUM) {
        if (p.free() < t.bytesPerPartition) {
          throw new ProgramException("tile '" + t.name + "': live PSUM tiles need more than the " + psumCapacity
              + " bytes per partition of PSUM");
        }
      } else {
        while (p.free() < t.bytesPerPartition) {
          evict(victim(op, t));
        }
      }
      p.take(t.bytesPerPartition, war);
      if (t.space == MemSpace.SBUF) {
        residentSbuf.add(t);
        peakSbuf = Math.max(peakSbuf, p.used());
      } else {
        peakPsum = Math.max(peakPsum, p.used());
      }
    }

    /** The resident SBUF tile the current op does not touch whose next access is furthest away. */
    private Tile victim(KOp op, Tile forTile) {
      Tile best = null;
      for (Tile c : residentSbuf) {
        if (uses(op, c) || c == forTile) {
          continue;
        }
        if (best == null || c.nextAccess() > best.nextAccess()
            || (c.nextAccess() == best.nextAccess() && c.bytesPerPartition > best.bytesPerPartition)) {
          best = c;
        }
      }
      if (best == null) {
        throw new ProgramException("tile '" + forTile.name + "' (" + forTile.bytesPerPartition + " B per partition) does not fit "
            + sbufCapacity + " bytes per SBUF partition next to the other tiles of its instruction");
      }
      return best;
    }

    private boolean uses(KOp op, Tile t) {
      for (Tile r : op.reads()) {
        if (r == t) {
          return true;
        }
      }
      for (Tile w : op.writes()) {
        if (w == t) {
          return true;
        }
      }
      return false;
    }

    private void evict(Tile v) {
      if (!v.hbmValid) {
        Deps raw = new Deps(nQueues);
        raw.addAll(v.writers);
        v.spillStore = emitDma(MemSpace.SBUF, MemSpace.HBM, new Tile[] {v}, false, raw, new Deps(nQueues));
        v.hbmValid = true;
        spillStores++;
        spillBytes += (long) v.partitions * v.bytesPerPartition;
      } else {
        cleanEvictions++;
      }
      release(v);
      v.readers = null;
    }

    private void reload(Tile t, KOp op) {
      Deps war = new Deps(nQueues);
      allocate(t, op, war);
      t.resident = true;
      Deps raw = new Deps(nQueues);
      raw.addAll(t.spillStore);
      Op[] h = emitDma(MemSpace.HBM, MemSpace.SBUF, new Tile[] {t}, true, raw, war);
      t.writers = new Deps(nQueues);
      t.writers.addAll(h);
      t.readers = null;
      reloads++;
      reloadBytes += (long) t.partitions * t.bytesPerPartition;
    }

    private Op emitCompute(Instruction ins, Deps raw, Deps war) {
      int q = CoreProgram.queueIndex(ins.engine());
      return core.add(ins, deps(q, raw, war));
    }

    /** Write-after-read on the same in-order queue needs no wait; read-after-write does (pipeline latency). */
    private Op[] deps(int queue, Deps raw, Deps war) {
      Deps d = new Deps(nQueues);
      d.addAll(raw);
      for (Op o : war.toArray()) {
        if (o.queue() != queue) {
          d.add(o);
        }
      }
      return d.toArray();
    }

    /** One transfer of {@code ts} (same partitions), spread over the load or store queues. */
    private Op[] emitDma(MemSpace from, MemSpace to, Tile[] ts, boolean load, Deps raw, Deps war) {
      int partitions = ts[0].partitions;
      long bytes = 0;
      for (Tile t : ts) {
        bytes += t.bytesPerPartition;
      }
      int first = load ? queues.loadFirst() : queues.storeFirst();
      int count = load ? queues.loadCount() : queues.storeCount();
      int pieces = Math.min(count, partitions);
      // Transfers narrower than the queue group go to the next queues in turn.
      int start = pieces == count ? 0 : (load ? nextLoadQueue : nextStoreQueue);
      if (pieces < count) {
        if (load) {
          nextLoadQueue = (nextLoadQueue + pieces) % count;
        } else {
          nextStoreQueue = (nextStoreQueue + pieces) % count;
        }
      }
      Op[] out = new Op[pieces];
      int base = partitions / pieces;
      int extra = partitions % pieces;
      for (int k = 0; k < pieces; k++) {
        int p = base + (k < extra ? 1 : 0);
        int dq = first + (start + k) % count;
        TensorRef src = new TensorRef(from, p, bytes, DType.INT8);
        TensorRef dst = new TensorRef(to, p, bytes, DType.INT8);
        out[k] = core.dma(dq, new Instruction.DmaCopy(src, dst), deps(CoreProgram.FIRST_DMA + dq, raw, war));
      }
      return out;
    }
  }
}
