package trnsim.isa;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Kernels of one compiled graph run as one instruction stream per engine: each engine's queue holds
 * the kernels' instructions in order, and a kernel's instructions wait for the previous kernels to
 * finish only where they consume their results. DMA loads of data the graph already holds when it
 * starts (weights, the KV cache, masks) are marked {@code independent}: they may start as soon as
 * their DMA queue reaches them, so the next kernel's first weight slabs stream in while the current
 * kernel computes, as a graph compiler schedules them. Everything else a kernel does waits for the
 * last instruction of every queue of the kernels before it (the conservative reading of "consumes
 * their results").
 *
 * <p>SBUF and PSUM: a kernel's buffers are live while it runs and while the previous kernel runs
 * (its prefetched slabs), so the chain allocates the largest sum of two consecutive kernels' buffers.
 * Where two consecutive kernels' buffers do not fit SBUF together, their boundary is a full
 * synchronisation (nothing of the second starts early).
 */
public final class ProgramChain {
  private ProgramChain() {}

  /**
   * One kernel of the chain.
   *
   * @param program the kernel, lowered on its own
   * @param independent per core, the instructions that read only data present before the graph ran
   */
  public record Link(Program program, List<Set<Op>> independent) {
    public Link {
      independent = List.copyOf(independent);
    }

    public static Link dependent(Program p) {
      return new Link(p, List.of());
    }

    boolean isIndependent(int core, int queue, int index) {
      return core < independent.size() && independent.get(core).contains(new Op(queue, index));
    }
  }

  /** A per-core collector of independent instructions, filled by a lowering as it emits them. */
  public static final class Independent {
    private final List<Set<Op>> perCore = new ArrayList<>();

    public void add(int core, Op... ops) {
      while (perCore.size() <= core) {
        perCore.add(new HashSet<>());
      }
      perCore.get(core).addAll(Arrays.asList(ops));
    }

    public List<Set<Op>> sets() {
      List<Set<Op>> out = new ArrayList<>();
      for (Set<Op> s : perCore) {
        out.add(Set.copyOf(s));
      }
      return out;
    }
  }

  public static Program chain(String name, List<Link> links, long sbufBytesPerPartition) {
    if (links.isEmpty()) {
      throw new IllegalArgumentException("a chain needs at least one kernel");
    }
    if (links.size() == 1) {
      return links.get(0).program();
    }
    int cores = 0;
    int queues = 0;
    for (Link l : links) {
      cores = Math.max(cores, l.program().cores().size());
      for (CoreProgram c : l.program().cores()) {
        queues = Math.max(queues, c.queues().size());
      }
    }
    List<CoreProgram> out = new ArrayList<>();
    // boundary i (between kernels i-1 and i) overlaps when both kernels' SBUF fits on every core
    boolean[] overlap = new boolean[links.size()];
    for (int i = 1; i < links.size(); i++) {
      overlap[i] = true;
      for (int c = 0; c < cores; c++) {
        long a = c < links.get(i - 1).program().cores().size() ? links.get(i - 1).program().cores().get(c).allocatedBytesPerPartition(MemSpace.SBUF) : 0;
        long b = c < links.get(i).program().cores().size() ? links.get(i).program().cores().get(c).allocatedBytesPerPartition(MemSpace.SBUF) : 0;
        overlap[i] &= a + b <= sbufBytesPerPartition;
      }
    }
    for (int c = 0; c < cores; c++) {
      out.add(chainCore(links, c, queues, overlap));
    }
    List<String> notes = new ArrayList<>();
    long flops = 0;
    long bytes = 0;
    for (Link l : links) {
      notes.addAll(l.program().notes());
      flops += l.program().flops();
      bytes += l.program().hbmBytesMin();
    }
    notes.add("one compiled graph: " + links.size() + " kernels back to back per engine queue; weight and cache loads prefetch"
        + " across kernel boundaries");
    return new Program(name, out, notes, flops, bytes);
  }

  /** Where an instruction of the chain goes: its kernel and its index in the kernel's queue. */
  private record Slot(int link, int index) {}

  private static CoreProgram chainCore(List<Link> links, int core, int queues, boolean[] overlap) {
    EngineKind[] kinds = new EngineKind[queues];
    int[] dmaIndex = new int[queues];
    for (Link l : links) {
      if (core < l.program().cores().size()) {
        for (int q = 0; q < l.program().cores().get(core).queues().size(); q++) {
          Queue qu = l.program().cores().get(core).queue(q);
          kinds[q] = qu.kind();
          dmaIndex[q] = qu.dmaIndex();
        }
      }
    }
    int n = links.size();
    // 1. Queue order: each kernel's instructions in its own order; a kernel's independent root loads (no
    //    dependencies) are hoisted into the previous kernel's part of the queue, just before its first
    //    instruction that waits for compute (its stores, its ring reloads): the next kernel's weights are
    //    fetched once the current kernel's own loads are issued, while it computes (prefetch).
    List<List<Slot>> order = new ArrayList<>();
    for (int q = 0; q < queues; q++) {
      List<Slot> ord = new ArrayList<>();
      int insertAt = 0;
      for (int li = 0; li < n; li++) {
        CoreProgram cp = core < links.get(li).program().cores().size() ? links.get(li).program().cores().get(core) : null;
        if (cp == null || q >= cp.queues().size()) {
          continue;
        }
        Queue qu = cp.queue(q);
        List<Slot> hoisted = new ArrayList<>();
        List<Slot> rest = new ArrayList<>();
        int firstWaiting = -1;
        for (int i = 0; i < qu.size(); i++) {
          // a root needs nothing, so moving it ahead of the kernel's other instructions on the queue is legal
          boolean root = qu.depStart(i) == qu.depEnd(i) && links.get(li).isIndependent(core, q, i);
          if (li > 0 && overlap[li] && root) {
            hoisted.add(new Slot(li, i));
          } else {
            if (firstWaiting < 0 && waitsForCompute(cp, qu, i)) {
              firstWaiting = rest.size();
            }
            rest.add(new Slot(li, i));
          }
        }
        ord.addAll(Math.min(insertAt, ord.size()), hoisted);
        int base = ord.size();
        ord.addAll(rest);
        insertAt = firstWaiting < 0 ? ord.size() : base + firstWaiting;
      }
      order.add(ord);
    }
    // 2. Global index of every (link, queue, index).
    int[][][] global = new int[n][queues][];
    for (int li = 0; li < n; li++) {
      CoreProgram cp = core < links.get(li).program().cores().size() ? links.get(li).program().cores().get(core) : null;
      for (int q = 0; q < queues; q++) {
        global[li][q] = new int[cp == null || q >= cp.queues().size() ? 0 : cp.queue(q).size()];
      }
    }
    for (int q = 0; q < queues; q++) {
      List<Slot> ord = order.get(q);
      for (int g = 0; g < ord.size(); g++) {
        global[ord.get(g).link()][q][ord.get(g).index()] = g;
      }
    }
    // 3. Gates: a kernel's instruction that is not independent and not already behind one of its own
    //    gated instructions waits for the previous kernels' last instruction on every queue.
    List<List<int[]>> deps = new ArrayList<>();
    for (int q = 0; q < queues; q++) {
      List<int[]> dq = new ArrayList<>();
      for (int g = 0; g < order.get(q).size(); g++) {
        dq.add(null);
      }
      deps.add(dq);
    }
    List<List<Buffer>> buffers = new ArrayList<>();
    int[] lastOf = new int[queues];
    java.util.Arrays.fill(lastOf, -1);
    for (int li = 0; li < n; li++) {
      Link l = links.get(li);
      List<int[]> gate = new ArrayList<>();
      for (int q = 0; q < queues; q++) {
        if (lastOf[q] >= 0) {
          gate.add(new int[] {q, lastOf[q]});
        }
      }
      if (core >= l.program().cores().size()) {
        buffers.add(List.of());
        continue;
      }
      CoreProgram cp = l.program().cores().get(core);
      buffers.add(cp.buffers());
      boolean[][] ordered = new boolean[cp.queues().size()][];
      boolean[][] done = new boolean[cp.queues().size()][];
      int remaining = 0;
      for (int q = 0; q < cp.queues().size(); q++) {
        ordered[q] = new boolean[cp.queue(q).size()];
        done[q] = new boolean[cp.queue(q).size()];
        remaining += cp.queue(q).size();
      }
      int[] next = new int[cp.queues().size()];
      while (remaining > 0) {
        boolean progress = false;
        for (int q = 0; q < cp.queues().size(); q++) {
          Queue qu = cp.queue(q);
          while (next[q] < qu.size()) {
            int i = next[q];
            boolean ready = true;
            boolean viaDeps = i > 0 && ordered[q][i - 1];
            for (int d = qu.depStart(i); d < qu.depEnd(i); d++) {
              if (!done[qu.depQueue(d)][qu.depIndex(d)]) {
                ready = false;
                break;
              }
              viaDeps |= ordered[qu.depQueue(d)][qu.depIndex(d)];
            }
            if (!ready) {
              break;
            }
            boolean indep = (li == 0 || overlap[li]) && l.isIndependent(core, q, i);
            List<int[]> dl = new ArrayList<>();
            for (int d = qu.depStart(i); d < qu.depEnd(i); d++) {
              dl.add(new int[] {qu.depQueue(d), global[li][qu.depQueue(d)][qu.depIndex(d)]});
            }
            if (!indep && !viaDeps) {
              dl.addAll(gate);
            }
            ordered[q][i] = viaDeps || !indep;
            done[q][i] = true;
            deps.get(q).set(global[li][q][i], flatten(dl));
            next[q]++;
            remaining--;
            progress = true;
          }
        }
        if (!progress) {
          throw new ProgramException("chain: kernel '" + l.program().name() + "' has a dependency cycle");
        }
      }
      for (int q = 0; q < cp.queues().size(); q++) {
        if (cp.queue(q).size() > 0) {
          int last = -1;
          for (int i = 0; i < cp.queue(q).size(); i++) {
            last = Math.max(last, global[li][q][i]);
          }
          lastOf[q] = Math.max(lastOf[q], last);
        }
      }
    }
    List<Queue> qs = new ArrayList<>();
    for (int q = 0; q < queues; q++) {
      List<Slot> ord = order.get(q);
      int m = ord.size();
      Instruction[] instrs = new Instruction[m];
      int[] off = new int[m + 1];
      int total = 0;
      for (int g = 0; g < m; g++) {
        Slot sl = ord.get(g);
        instrs[g] = links.get(sl.link()).program().cores().get(core).queue(q).instruction(sl.index());
        off[g] = total;
        total += deps.get(q).get(g).length / 2;
      }
      off[m] = total;
      int[] dq = new int[total];
      int[] di = new int[total];
      int k = 0;
      for (int g = 0; g < m; g++) {
        int[] f = deps.get(q).get(g);
        for (int j = 0; j < f.length; j += 2) {
          dq[k] = f[j];
          di[k] = f[j + 1];
          k++;
        }
      }
      EngineKind kind = kinds[q] != null ? kinds[q] : (q < CoreProgram.FIRST_DMA ? EngineKind.values()[q] : EngineKind.DMA);
      qs.add(new Queue(kind, kinds[q] != null ? dmaIndex[q] : (q < CoreProgram.FIRST_DMA ? -1 : q - CoreProgram.FIRST_DMA),
          instrs, off, dq, di));
    }
    // live buffers: the largest pair of consecutive kernels
    List<Buffer> best = buffers.get(0);
    long bestBytes = sbuf(best);
    for (int i = 0; i + 1 < buffers.size(); i++) {
      if (sbuf(buffers.get(i + 1)) > bestBytes && !overlap[i + 1]) {
        best = buffers.get(i + 1);
        bestBytes = sbuf(best);
      }
      if (!overlap[i + 1]) {
        continue;
      }
      List<Buffer> pair = new ArrayList<>(buffers.get(i));
      pair.addAll(buffers.get(i + 1));
      if (sbuf(pair) > bestBytes) {
        best = pair;
        bestBytes = sbuf(pair);
      }
    }
    return new CoreProgram(qs, mergePsum(best));
  }

  /** Whether instruction {@code i} of a DMA queue waits directly for a compute engine of its kernel. */
  private static boolean waitsForCompute(CoreProgram cp, Queue qu, int i) {
    if (qu.kind() != EngineKind.DMA) {
      return false;
    }
    for (int d = qu.depStart(i); d < qu.depEnd(i); d++) {
      if (cp.queue(qu.depQueue(d)).kind() != EngineKind.DMA) {
        return true;
      }
    }
    return false;
  }

  private static int[] flatten(List<int[]> dl) {
    int[] f = new int[dl.size() * 2];
    for (int i = 0; i < dl.size(); i++) {
      f[2 * i] = dl.get(i)[0];
      f[2 * i + 1] = dl.get(i)[1];
    }
    return f;
  }

  private static long sbuf(List<Buffer> bs) {
    long s = 0;
    for (Buffer b : bs) {
      if (b.space() == MemSpace.SBUF) {
        s += b.bytesPerPartition();
      }
    }
    return s;
  }

  /** PSUM is allocated per kernel as a whole partition; two kernels in flight share it (keep the larger claim). */
  private static List<Buffer> mergePsum(List<Buffer> bs) {
    List<Buffer> out = new ArrayList<>();
    Buffer psum = null;
    for (Buffer b : bs) {
      if (b.space() == MemSpace.PSUM) {
        if (psum == null || b.bytesPerPartition() > psum.bytesPerPartition()) {
          psum = b;
        }
      } else {
        out.add(b);
      }
    }
    if (psum != null) {
      out.add(psum);
    }
    return out;
  }
}
