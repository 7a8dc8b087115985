package trnsim.core.hw;

import java.util.Arrays;
import trnsim.core.engine.EventHandler;
import trnsim.core.engine.Simulation;
import trnsim.isa.Queue;

/**
 * Runs one in-order instruction queue of a core. An instruction may start when its engine is free
 * and every instruction it depends on is <em>visible</em> (finished plus the producing engine's
 * pipeline latency). Because queues are in order, "instruction i of queue q is visible" is just
 * {@code completed(q) > i}: a per-queue monotonic semaphore, as the hardware's are.
 */
abstract class QueueExecutor implements EventHandler {
  static final String[] STALL_REASONS = {
      "wait_tensor", "wait_vector", "wait_scalar", "wait_gpsimd", "wait_sync", "wait_dma",
      "wait_semaphore", "wait_barrier"};
  static final int STALL_SEMAPHORE = 6;
  static final int STALL_BARRIER = 7;

  final CoreModel core;
  final Simulation sim;
  final Queue queue;
  /** Reads the queue's segments near where it read last (the executor moves through it in order). */
  final Queue.Reader reader;
  final int index;
  final String label;
  int pc;
  int completed;

  // Who waits on this queue's progress: executor and the completed count it needs.
  private QueueExecutor[] waiters = new QueueExecutor[4];
  private int[] waitNeeds = new int[4];
  private int nWaiters;
  private QueueExecutor[] wakeScratch;

  // Stall accounting: when (and why) this queue stopped being able to issue.
  long blockedSince = -1;
  int blockedReason;
  final long[] stallTicks = new long[STALL_REASONS.length];
  /** What the head instruction currently waits for, for deadlock reports (see {@link #waitingFor()}). */
  private String waitingFor;
  /** Or: the queue and instruction index it waits for, formatted only if a report asks. */
  private QueueExecutor waitingOnQueue;
  private int waitingOnIndex;

  /** Scratch for the head instruction's dependencies (queue, index), read from the queue's segments. */
  private final int[] depQueues;
  private final int[] depIndices;

  long instructions;
  long busyTicks;
  long lastEndTick;

  QueueExecutor(CoreModel core, Queue queue, int index) {
    this.core = core;
    this.sim = core.sim;
    this.queue = queue;
    this.index = index;
    this.label = queue.label();
    this.reader = queue.reader();
    this.depQueues = new int[queue.maxDeps()];
    this.depIndices = new int[queue.maxDeps()];
  }

  boolean done() {
    return completed == queue.size();
  }

  abstract void tryIssue();

  /** Checks the head instruction's dependencies; registers as a waiter on the first unmet one. */
  final boolean depsReady(int i) {
    int n = reader.deps(i, depQueues, depIndices);
    for (int d = 0; d < n; d++) {
      QueueExecutor other = core.executors[depQueues[d]];
      int need = depIndices[d] + 1;
      if (other.completed < need) {
        other.addWaiter(this, need);
        block(other.queue.kind().ordinal() <= 4 ? other.queue.kind().ordinal() : 5, null);
        waitingOnQueue = other;
        waitingOnIndex = need - 1;
        return false;
      }
    }
    return true;
  }

  final void block(int reason, String what) {
    if (blockedSince < 0) {
      blockedSince = sim.now();
      blockedReason = reason;
    }
    waitingFor = what;
    waitingOnQueue = null;
  }

  /** What the head instruction waits for, in words, or null. */
  final String waitingFor() {
    if (waitingOnQueue != null) {
      return waitingOnQueue.label + "#" + waitingOnIndex;
    }
    return waitingFor;
  }

  final void unblock() {
    if (blockedSince >= 0) {
      stallTicks[blockedReason] += sim.now() - blockedSince;
      blockedSince = -1;
    }
    waitingFor = null;
    waitingOnQueue = null;
  }

  private void addWaiter(QueueExecutor w, int need) {
    if (nWaiters == waiters.length) {
      waiters = Arrays.copyOf(waiters, nWaiters * 2);
      waitNeeds = Arrays.copyOf(waitNeeds, nWaiters * 2);
    }
    waiters[nWaiters] = w;
    waitNeeds[nWaiters] = need;
    nWaiters++;
  }

  /** The next instruction of this queue became visible to others. */
  final void markVisible() {
    completed++;
    if (nWaiters == 0) {
      return;
    }
    // Wake, in registration order, every waiter whose need is now met. The woken list goes to a
    // reused scratch array (taken while in use, so a re-entrant call would allocate its own).
    int keep = 0;
    int n = nWaiters;
    QueueExecutor[] wake = wakeScratch;
    wakeScratch = null;
    int nWake = 0;
    for (int w = 0; w < n; w++) {
      if (waitNeeds[w] <= completed) {
        if (wake == null || wake.length < n) {
          wake = wake == null ? new QueueExecutor[n] : Arrays.copyOf(wake, Math.max(n, wake.length * 2));
        }
        wake[nWake++] = waiters[w];
      } else {
        waiters[keep] = waiters[w];
        waitNeeds[keep] = waitNeeds[w];
        keep++;
      }
    }
    for (int w = keep; w < n; w++) {
      waiters[w] = null;
    }
    nWaiters = keep;
    for (int w = 0; w < nWake; w++) {
      QueueExecutor e = wake[w];
      wake[w] = null;
      e.tryIssue();
    }
    if (wake != null) {
      wakeScratch = wake;
    }
  }

  /** Closes any open stall at the end of the run. */
  void finish(long endTick) {
    if (blockedSince >= 0) {
      stallTicks[blockedReason] += endTick - blockedSince;
      blockedSince = -1;
    }
  }
}
