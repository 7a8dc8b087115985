package trnsim.isa;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Builds a {@link Program}. Add instructions to a core's engine queues with the handles of the
 * instructions they depend on; {@link #build()} checks the structure and rejects dependency cycles.
 */
public final class ProgramBuilder {
  private final String name;
  private final int dmaQueues;
  private final List<CoreBuilder> cores = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private long flops;
  private long hbmBytesMin;
  private long instructions;
  /** Instructions held in memory: added, less those a loop descriptor absorbed. */
  private long stored;
  /** Whether some dependency named an instruction not yet added (then build() checks for cycles). */
  private boolean forwardDeps;

  /**
   * The instruction count up to which lowerings build a kernel whole: a larger GEMM or attention
   * runs as pieces ({@code GemmLowering.split}, {@code AttentionSplit}), identical pieces simulated
   * once, and lowerings that store every instruction reject estimates above it up front. With
   * loop descriptors ({@link Queue}) memory no longer grows with the count; the limit on a run's
   * cost is the simulator's event budget.
   */
  public static final long MAX_INSTRUCTIONS = 8_000_000L;

  /**
   * Instructions one program may hold in memory (a loop body counts once, however often it runs):
   * a memory guard, about a gigabyte of heap. The lowerings split or reject kernels above
   * {@link #MAX_INSTRUCTIONS} instructions before building them, so no shipped workload comes near it.
   */
  public static final long MAX_STORED_INSTRUCTIONS = MAX_INSTRUCTIONS;

  /** Chunks (iterations) a loop body may span when the builder looks for a repeating stream. */
  static final int MAX_PERIOD = 4;

  public ProgramBuilder(String name, int dmaQueues) {
    if (dmaQueues <= 0) {
      throw new ProgramException("a core needs at least one DMA queue");
    }
    this.name = name;
    this.dmaQueues = dmaQueues;
  }

  public CoreBuilder core(int index) {
    while (cores.size() <= index) {
      cores.add(new CoreBuilder(cores.size()));
    }
    return cores.get(index);
  }

  public int dmaQueues() {
    return dmaQueues;
  }

  /** Instructions added so far, over all cores (a core built as a copy of another counts again). */
  public long instructions() {
    return instructions;
  }

  /** Instructions held in memory so far, over all cores (each loop body and each copied core once). */
  public long storedInstructions() {
    return stored;
  }

  /**
   * Core {@code index} runs exactly the program of core {@code source} (already complete): the
   * built program shares it instead of holding a second copy. For lowerings whose per-core stream
   * depends only on the shape of the core's share of the work.
   */
  public ProgramBuilder sameAs(int index, int source) {
    CoreBuilder src = core(source);
    CoreBuilder c = core(index);
    if (source >= index || c.size() > 0 || src.alias != null) {
      throw new ProgramException("core " + index + " can copy only an earlier, complete core (" + source + ")");
    }
    c.alias = src;
    instructions += src.size();
    return this;
  }

  public ProgramBuilder note(String note) {
    notes.add(note);
    return this;
  }

  public ProgramBuilder flops(long f) {
    this.flops = f;
    return this;
  }

  public ProgramBuilder hbmBytesMin(long b) {
    this.hbmBytesMin = b;
    return this;
  }

  public Program build() {
    List<CoreProgram> built = new ArrayList<>();
    for (CoreBuilder c : cores) {
      built.add(c.alias != null ? built.get(c.alias.core) : c.build());
    }
    return new Program(name, built, notes, flops, hbmBytesMin);
  }

  /** One core's queues under construction. */
  public final class CoreBuilder {
    private final int core;
    private final QueueBuilder[] queues;
    private final List<Buffer> buffers = new ArrayList<>();
    private int nextDma;
    private CoreBuilder alias;

    CoreBuilder(int core) {
      this.core = core;
      queues = new QueueBuilder[CoreProgram.FIRST_DMA + dmaQueues];
      for (EngineKind k : EngineKind.values()) {
        if (k != EngineKind.DMA) {
          queues[CoreProgram.queueIndex(k)] = new QueueBuilder(k, -1);
        }
      }
      for (int d = 0; d < dmaQueues; d++) {
        queues[CoreProgram.FIRST_DMA + d] = new QueueBuilder(EngineKind.DMA, d);
      }
    }

    public int index() {
      return core;
    }

    public Buffer alloc(MemSpace space, String bufferName, int partitions, long bytesPerPartition) {
      Buffer b = new Buffer(space, bufferName, partitions, bytesPerPartition);
      buffers.add(b);
      return b;
    }

    /** Adds {@code instr} to its engine's queue (compute, sync); it waits for {@code deps}. */
    public Op add(Instruction instr, Op... deps) {
      if (instr.engine() == EngineKind.DMA) {
        return dma(nextDma++ % dmaQueues, (Instruction.DmaCopy) instr, deps);
      }
      return writable().queues[CoreProgram.queueIndex(instr.engine())].add(instr, deps, queues);
    }

    /**
     * Marks the start of the next iteration of the kernel's repeating loop (a GEMM's next output
     * block). Where iterations repeat each queue's instructions, with every dependency moved by a
     * fixed number of instructions, the queue stores one body and a count (a loop descriptor,
     * {@link Queue}) instead of every copy. Only storage: the program's stream is the same with or
     * without marks.
     */
    public void iteration() {
      for (QueueBuilder q : writable().queues) {
        q.mark();
      }
    }

    private CoreBuilder writable() {
      if (alias != null) {
        throw new ProgramException("core " + core + " is a copy of core " + alias.core + " and takes no instructions of its own");
      }
      return this;
    }

    /** Adds a DMA to queue {@code queue} (0-based among the core's DMA queues). */
    public Op dma(int queue, Instruction.DmaCopy instr, Op... deps) {
      if (queue < 0 || queue >= dmaQueues) {
        throw new ProgramException("DMA queue " + queue + " does not exist (core has " + dmaQueues + ")");
      }
      return writable().queues[CoreProgram.FIRST_DMA + queue].add(instr, deps, queues);
    }

    public int size(int queue) {
      return queues[queue].n;
    }

    /** Instructions added to this core (a copy: its source's). */
    long size() {
      if (alias != null) {
        return alias.size();
      }
      long n = 0;
      for (QueueBuilder q : queues) {
        n += q.n;
      }
      return n;
    }

    CoreProgram build() {
      List<Queue> qs = new ArrayList<>();
      for (QueueBuilder q : queues) {
        qs.add(q.build());
      }
      if (forwardDeps) {
        // Otherwise every dependency named an instruction added before its dependant, as does program
        // order: the order of adding is a topological order, so there is no cycle to find.
        checkAcyclic(qs);
      }
      return new CoreProgram(qs, buffers);
    }

    private void checkAcyclic(List<Queue> qs) {
      int[] base = new int[qs.size() + 1];
      for (int q = 0; q < qs.size(); q++) {
        base[q + 1] = base[q] + qs.get(q).size();
      }
      int total = base[qs.size()];
      int[] indeg = new int[total];
      // successors: program order is implicit; dependency edges are collected per source node.
      int[] succCount = new int[total];
      for (int q = 0; q < qs.size(); q++) {
        Queue queue = qs.get(q);
        for (int i = 0; i < queue.size(); i++) {
          int node = base[q] + i;
          if (i > 0) {
            indeg[node]++;
          }
          for (int d = queue.depStart(i); d < queue.depEnd(i); d++) {
            int dq = queue.depQueue(d);
            int di = queue.depIndex(d);
            if (dq < 0 || dq >= qs.size() || di < 0 || di >= qs.get(dq).size()) {
              throw new ProgramException("core " + core + " " + queue.label() + "#" + i
                  + " depends on a missing instruction (" + dq + ", " + di + ")");
            }
            indeg[node]++;
            succCount[base[dq] + di]++;
          }
        }
      }
      int[] succStart = new int[total + 1];
      for (int v = 0; v < total; v++) {
        succStart[v + 1] = succStart[v] + succCount[v];
      }
      int[] succ = new int[succStart[total]];
      int[] fill = Arrays.copyOf(succStart, total);
      for (int q = 0; q < qs.size(); q++) {
        Queue queue = qs.get(q);
        for (int i = 0; i < queue.size(); i++) {
          for (int d = queue.depStart(i); d < queue.depEnd(i); d++) {
            int src = base[queue.depQueue(d)] + queue.depIndex(d);
            succ[fill[src]++] = base[q] + i;
          }
        }
      }
      // FIFO of ready nodes as a plain int array (each node enters at most once): no boxing.
      int[] ready = new int[total];
      int head = 0;
      int tail = 0;
      for (int v = 0; v < total; v++) {
        if (indeg[v] == 0) {
          ready[tail++] = v;
        }
      }
      int seen = 0;
      while (head < tail) {
        int v = ready[head++];
        seen++;
        int q = upper(base, v);
        if (v + 1 < base[q + 1] && --indeg[v + 1] == 0) {
          ready[tail++] = v + 1;
        }
        for (int s = succStart[v]; s < succStart[v + 1]; s++) {
          if (--indeg[succ[s]] == 0) {
            ready[tail++] = succ[s];
          }
        }
      }
      if (seen < total) {
        List<String> stuck = new ArrayList<>();
        for (int q = 0; q < qs.size() && stuck.size() < 6; q++) {
          for (int i = 0; i < qs.get(q).size(); i++) {
            if (indeg[base[q] + i] > 0 && (i == 0 || indeg[base[q] + i - 1] == 0)) {
              stuck.add(qs.get(q).label() + "#" + i + " (" + qs.get(q).instruction(i).mnemonic() + ")");
              break;
            }
          }
        }
        throw new ProgramException("core " + core + ": dependency cycle; " + (total - seen)
            + " instructions can never start; first blocked: " + String.join(", ", stuck));
      }
    }

    private int upper(int[] base, int v) {
      int lo = 0;
      int hi = base.length - 2;
      while (lo < hi) {
        int mid = (lo + hi + 1) >>> 1;
        if (base[mid] <= v) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      // skip empty queues that share the same base
      while (lo + 1 < base.length - 1 && base[lo + 1] <= v) {
        lo++;
      }
      return lo;
    }

    /**
     * One queue under construction. Instructions land in a literal tail. At each iteration mark
     * ({@link CoreBuilder#iteration()}) the chunk of instructions since the previous mark is either
     * a further repetition of the open loop (same instructions, same dependency queues, each
     * dependency moved by the loop's stride: then it is dropped and the loop's count grows) or,
     * when no loop is open, the last {@code 2p} chunks are tried as two repetitions of a body of
     * {@code p} chunks ({@code p <= MAX_PERIOD}): found, they become the open loop and what precedes
     * them a literal segment. Nothing is approximated: a chunk that differs in anything closes the
     * loop and stays literal.
     */
    private final class QueueBuilder {
      final EngineKind kind;
      final int dmaIndex;
      final int selfIndex;
      /** Instructions added so far: the index the next one gets. */
      int n;
      final List<Queue.Segment> closed = new ArrayList<>();
      // The literal tail: instructions [n - tailLen, n), dependencies with absolute indices.
      Instruction[] instrs = new Instruction[16];
      int tailLen;
      int[] depOffsets = new int[17];
      int[] depQueue = new int[16];
      int[] depIndex = new int[16];
      int nDeps;
      /** Tail positions of the iteration marks since the tail was last emptied. */
      int[] marks = new int[8];
      int nMarks;
      // The open loop: its body (chunkEnds: where each of its chunks ends), repetitions so far and
      // chunks of the next repetition already matched.
      Queue.Segment loop;
      int[] loopChunkEnds;
      int loopMatched;

      QueueBuilder(EngineKind kind, int dmaIndex) {
        this.kind = kind;
        this.dmaIndex = dmaIndex;
        this.selfIndex = kind == EngineKind.DMA ? CoreProgram.FIRST_DMA + dmaIndex : CoreProgram.queueIndex(kind);
      }

      Op add(Instruction instr, Op[] deps, QueueBuilder[] siblings) {
        instructions++;
        if (++stored > MAX_STORED_INSTRUCTIONS) {
          throw new ProgramException("kernel '" + name + "' needs more than " + MAX_STORED_INSTRUCTIONS
              + " instructions in memory per chip (the simulator's memory guard); simulate a smaller problem");
        }
        if (instr.engine() != kind) {
          throw new ProgramException(instr.mnemonic() + " runs on " + instr.engine().label() + ", not " + kind.label());
        }
        if (n == Integer.MAX_VALUE) {
          throw new ProgramException("kernel '" + name + "': one engine queue holds more than 2^31 instructions");
        }
        if (tailLen == instrs.length) {
          instrs = Arrays.copyOf(instrs, tailLen * 2);
          depOffsets = Arrays.copyOf(depOffsets, tailLen * 2 + 1);
        }
        instrs[tailLen] = instr;
        for (Op d : deps) {
          if (d == null) {
            continue;
          }
          if (d.queue() == selfIndex) {
            if (d.index() >= n) {
              throw new ProgramException(kind.label() + "#" + n + " cannot depend on itself or a later instruction of its own queue");
            }
            // Kept: issue order is implied by the in-order queue, but the result is not visible until
            // the engine's pipeline latency has passed (the NKI "static overhead" of an instruction that
            // reads the output of the one before it).
          }
          if (d.queue() < 0 || d.queue() >= siblings.length || d.index() < 0 || d.index() >= siblings[d.queue()].n) {
            forwardDeps = true; // not yet added (or missing): build() checks the graph
          }
          appendDep(d.queue(), d.index());
        }
        depOffsets[tailLen + 1] = nDeps;
        tailLen++;
        return new Op(selfIndex, n++);
      }

      private void appendDep(int q, int index) {
        if (nDeps == depQueue.length) {
          depQueue = Arrays.copyOf(depQueue, nDeps * 2);
          depIndex = Arrays.copyOf(depIndex, nDeps * 2);
        }
        depQueue[nDeps] = q;
        depIndex[nDeps] = index;
        nDeps++;
      }

      /** An iteration boundary: the instructions since the previous one are a chunk. */
      void mark() {
        if (loop != null) {
          if (matchesLoop()) {
            stored -= tailLen;
            clearTail();
            return;
          }
          closeLoop();
        }
        pushMark(tailLen);
        findLoop();
      }

      private void pushMark(int pos) {
        if (nMarks == marks.length) {
          marks = Arrays.copyOf(marks, nMarks * 2);
        }
        marks[nMarks++] = pos;
      }

      private void clearTail() {
        tailLen = 0;
        nDeps = 0;
        nMarks = 0;
        pushMark(0);
      }

      /** Whether the tail (the current chunk) is chunk {@code loopMatched} of the loop body, one repetition further. */
      private boolean matchesLoop() {
        int from = loopMatched == 0 ? 0 : loopChunkEnds[loopMatched - 1];
        int to = loopChunkEnds[loopMatched];
        if (to - from != tailLen) {
          return false;
        }
        int rep = loop.count();
        int[] off = loop.depOffsets();
        for (int i = 0; i < tailLen; i++) {
          Instruction b = loop.body()[from + i];
          if (b != instrs[i] && !b.equals(instrs[i])) {
            return false;
          }
          int bd = off[from + i];
          int nd = off[from + i + 1] - bd;
          if (depOffsets[i + 1] - depOffsets[i] != nd) {
            return false;
          }
          for (int k = 0; k < nd; k++) {
            int t = depOffsets[i] + k;
            if (depQueue[t] != loop.depQueue()[bd + k]
                || depIndex[t] != loop.depBase()[bd + k] + rep * loop.depStride()[bd + k]) {
              return false;
            }
          }
        }
        if (++loopMatched == loopChunkEnds.length) {
          loopMatched = 0;
          loop = new Queue.Segment(loop.body(), rep + 1, loop.depOffsets(), loop.depQueue(), loop.depBase(), loop.depStride());
        }
        return true;
      }

      /**
       * Ends the open loop at its last whole repetition; the chunks of a partial repetition become
       * literal again, in front of the tail (which holds the chunk just ended).
       */
      private void closeLoop() {
        closed.add(loop);
        int partial = loopMatched == 0 ? 0 : loopChunkEnds[loopMatched - 1];
        Instruction[] oldInstrs = Arrays.copyOf(instrs, tailLen);
        int[] oldOffsets = Arrays.copyOf(depOffsets, tailLen + 1);
        int[] oldQueue = Arrays.copyOf(depQueue, nDeps);
        int[] oldIndex = Arrays.copyOf(depIndex, nDeps);
        int oldLen = tailLen;
        int rep = loop.count();
        tailLen = 0;
        nDeps = 0;
        nMarks = 0;
        pushMark(0);
        int[] off = loop.depOffsets();
        for (int i = 0; i < partial; i++) {
          putTail(loop.body()[i]);
          for (int d = off[i]; d < off[i + 1]; d++) {
            appendDep(loop.depQueue()[d], loop.depBase()[d] + rep * loop.depStride()[d]);
          }
          depOffsets[tailLen] = nDeps;
          for (int c = 0; c < loopMatched; c++) {
            if (loopChunkEnds[c] == i + 1) {
              pushMark(tailLen);
            }
          }
        }
        stored += partial;
        for (int i = 0; i < oldLen; i++) {
          putTail(oldInstrs[i]);
          for (int d = oldOffsets[i]; d < oldOffsets[i + 1]; d++) {
            appendDep(oldQueue[d], oldIndex[d]);
          }
          depOffsets[tailLen] = nDeps;
        }
        loop = null;
        loopChunkEnds = null;
        loopMatched = 0;
      }

      private void putTail(Instruction instr) {
        if (tailLen == instrs.length) {
          instrs = Arrays.copyOf(instrs, tailLen * 2);
          depOffsets = Arrays.copyOf(depOffsets, tailLen * 2 + 1);
        }
        instrs[tailLen++] = instr;
      }

      /** Looks for two repetitions of a body of 1..MAX_PERIOD chunks at the end of the tail. */
      private void findLoop() {
        int chunks = nMarks - 1;
        for (int p = 1; p <= MAX_PERIOD && 2 * p <= chunks; p++) {
          int a0 = marks[nMarks - 1 - 2 * p];
          int b0 = marks[nMarks - 1 - p];
          int len = b0 - a0;
          if (len == 0 || tailLen - b0 != len || !sameChunks(p) || !sameShape(a0, b0, len)) {
            continue;
          }
          openLoop(p, a0, b0, len);
          return;
        }
      }

      /** Whether the last p chunks have the lengths of the p before them. */
      private boolean sameChunks(int p) {
        for (int c = 0; c < p; c++) {
          int a = nMarks - 1 - 2 * p + c;
          int b = nMarks - 1 - p + c;
          if (marks[a + 1] - marks[a] != marks[b + 1] - marks[b]) {
            return false;
          }
        }
        return true;
      }

      /** Same instructions and dependency queues at [a0, a0+len) and [b0, b0+len). */
      private boolean sameShape(int a0, int b0, int len) {
        for (int i = 0; i < len; i++) {
          Instruction a = instrs[a0 + i];
          Instruction b = instrs[b0 + i];
          if (a != b && !a.equals(b)) {
            return false;
          }
          int da = depOffsets[a0 + i];
          int db = depOffsets[b0 + i];
          int nd = depOffsets[a0 + i + 1] - da;
          if (depOffsets[b0 + i + 1] - db != nd) {
            return false;
          }
          for (int k = 0; k < nd; k++) {
            if (depQueue[da + k] != depQueue[db + k]) {
              return false;
            }
          }
        }
        return true;
      }

      /** Tail [a0, b0) and [b0, end) are two repetitions: the loop opens with count 2; [0, a0) is closed literal. */
      private void openLoop(int p, int a0, int b0, int len) {
        if (a0 > 0) {
          closed.add(literal(0, a0));
        }
        int d0 = depOffsets[a0];
        int bodyDeps = depOffsets[b0] - d0;
        int[] offsets = new int[len + 1];
        for (int i = 0; i <= len; i++) {
          offsets[i] = depOffsets[a0 + i] - d0;
        }
        int[] stride = new int[bodyDeps];
        for (int k = 0; k < bodyDeps; k++) {
          stride[k] = depIndex[depOffsets[b0] + k] - depIndex[d0 + k];
        }
        int[] ends = new int[p];
        for (int c = 0; c < p; c++) {
          ends[c] = marks[nMarks - 2 * p + c] - a0;
        }
        loop = new Queue.Segment(Arrays.copyOfRange(instrs, a0, b0), 2, offsets, Arrays.copyOfRange(depQueue, d0, d0 + bodyDeps),
            Arrays.copyOfRange(depIndex, d0, d0 + bodyDeps), stride);
        loopChunkEnds = ends;
        loopMatched = 0;
        stored -= len;
        clearTail();
      }

      /** Tail [from, to) as a segment run once. */
      private Queue.Segment literal(int from, int to) {
        int d0 = depOffsets[from];
        int[] offsets = new int[to - from + 1];
        for (int i = 0; i <= to - from; i++) {
          offsets[i] = depOffsets[from + i] - d0;
        }
        int d1 = depOffsets[to];
        return new Queue.Segment(Arrays.copyOfRange(instrs, from, to), 1, offsets, Arrays.copyOfRange(depQueue, d0, d1),
            Arrays.copyOfRange(depIndex, d0, d1), null);
      }

      Queue build() {
        if (loop != null) {
          closeLoop();
        }
        List<Queue.Segment> all = new ArrayList<>(closed);
        if (tailLen > 0 || all.isEmpty()) {
          all.add(literal(0, tailLen));
        }
        return new Queue(kind, dmaIndex, all.toArray(new Queue.Segment[0]));
      }
    }
  }
}
