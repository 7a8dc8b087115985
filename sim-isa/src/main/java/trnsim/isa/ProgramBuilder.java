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

  /**
   * Instructions one program may hold. A resource guard: a kernel larger than this would need
   * gigabytes of heap to describe; it is rejected with a clear message instead.
   */
  public static final long MAX_INSTRUCTIONS = 8_000_000L;

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

  /** Instructions added so far, over all cores. */
  public long instructions() {
    return instructions;
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
      built.add(c.build());
    }
    return new Program(name, built, notes, flops, hbmBytesMin);
  }

  /** One core's queues under construction. */
  public final class CoreBuilder {
    private final int core;
    private final QueueBuilder[] queues;
    private final List<Buffer> buffers = new ArrayList<>();
    private int nextDma;

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
      return queues[CoreProgram.queueIndex(instr.engine())].add(instr, deps);
    }

    /** Adds a DMA to queue {@code queue} (0-based among the core's DMA queues). */
    public Op dma(int queue, Instruction.DmaCopy instr, Op... deps) {
      if (queue < 0 || queue >= dmaQueues) {
        throw new ProgramException("DMA queue " + queue + " does not exist (core has " + dmaQueues + ")");
      }
      return queues[CoreProgram.FIRST_DMA + queue].add(instr, deps);
    }

    public int size(int queue) {
      return queues[queue].n;
    }

    CoreProgram build() {
      List<Queue> qs = new ArrayList<>();
      for (QueueBuilder q : queues) {
        qs.add(q.build());
      }
      checkAcyclic(qs);
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

    private final class QueueBuilder {
      final EngineKind kind;
      final int dmaIndex;
      Instruction[] instrs = new Instruction[16];
      int n;
      int[] depOffsets = new int[17];
      int[] depQueue = new int[16];
      int[] depIndex = new int[16];
      int nDeps;
      final int selfIndex;

      QueueBuilder(EngineKind kind, int dmaIndex) {
        this.kind = kind;
        this.dmaIndex = dmaIndex;
        this.selfIndex = kind == EngineKind.DMA ? CoreProgram.FIRST_DMA + dmaIndex : CoreProgram.queueIndex(kind);
      }

      Op add(Instruction instr, Op[] deps) {
        if (++instructions > MAX_INSTRUCTIONS) {
          throw new ProgramException("kernel '" + name + "' needs more than " + MAX_INSTRUCTIONS
              + " instructions per chip (the simulator's resource guard); simulate a smaller problem");
        }
        if (instr.engine() != kind) {
          throw new ProgramException(instr.mnemonic() + " runs on " + instr.engine().label() + ", not " + kind.label());
        }
        if (n == instrs.length) {
          instrs = Arrays.copyOf(instrs, n * 2);
          depOffsets = Arrays.copyOf(depOffsets, n * 2 + 1);
        }
        instrs[n] = instr;
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
          if (nDeps == depQueue.length) {
            depQueue = Arrays.copyOf(depQueue, nDeps * 2);
            depIndex = Arrays.copyOf(depIndex, nDeps * 2);
          }
          depQueue[nDeps] = d.queue();
          depIndex[nDeps] = d.index();
          nDeps++;
        }
        depOffsets[n + 1] = nDeps;
        return new Op(selfIndex, n++);
      }

      Queue build() {
        return new Queue(kind, dmaIndex, Arrays.copyOf(instrs, n), Arrays.copyOf(depOffsets, n + 1),
            Arrays.copyOf(depQueue, nDeps), Arrays.copyOf(depIndex, nDeps));
      }
    }
  }
}
