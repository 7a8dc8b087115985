package trnsim.isa.lower;

import java.util.List;
import trnsim.isa.Program;
import trnsim.isa.ProgramException;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;

/**
 * Flash attention (forward or backward) as kernels that fit the simulator. Attention is independent
 * per (sequence, key/value head group): a kernel above the resource guard (long sequences on a
 * small-tile target such as the GPU templates) runs as identical pieces of fewer sequences and
 * key/value heads, one {@link Step} with a repeat count, simulated once. FLOPs and compulsory bytes
 * add up exactly (each piece reads its own Q, K, V and writes its own O); what the cut changes is
 * a full synchronisation between pieces, where the whole kernel would let its last items overlap
 * the next ones' start.
 */
public final class AttentionSplit {
  private AttentionSplit() {}

  /** Composed into a larger workload: split above {@link GemmLowering#COMPOSED_LIMIT} (see there). */
  public static List<Step> steps(TargetSpec t, String label, AttentionSpec a, int cores, boolean backward) {
    return steps(t, label, a, cores, backward, GemmLowering.COMPOSED_LIMIT);
  }

  /**
   * @param limit instructions the whole kernel may hold before it is cut; pieces aim at a quarter of
   *     it. The whole kernel's size is estimated from one (sequence, kv head) unit times the units;
   *     a kernel that fails the guard anyway is cut as well.
   */
  public static List<Step> steps(TargetSpec t, String label, AttentionSpec a, int cores, boolean backward, long limit) {
    // one (sequence, kv head) group with its query heads: the unit every piece is made of
    AttentionSpec unit = new AttentionSpec(1, a.group(), a.s(), a.sKv(), a.d(), 1, a.causal(), a.dtype());
    long units = a.b() * a.kvHeads();
    long perUnit = units == 1 ? 0 : lower(t, unit, cores, backward).instructionCount();
    if (perUnit * (double) units <= limit) {
      try {
        return List.of(new Step(label, lower(t, a, cores, backward), 1, a.dtype()));
      } catch (ProgramException | WorkloadException e) {
        if (!String.valueOf(e.getMessage()).contains("resource guard") || units == 1) {
          throw e;
        }
      }
    }
    // beyond 64 guards' worth of instructions the guard's error stands, as for GEMMs (GemmLowering.MAX_SPLIT_INSTRUCTIONS)
    double total = perUnit * (double) units;
    if (total > GemmLowering.MAX_SPLIT_INSTRUCTIONS) {
      throw new WorkloadException("attention b=" + a.b() + " h=" + a.h() + " s=" + a.s() + " (too large to split)", null, null,
          String.format(java.util.Locale.ROOT, "needs about %.3g instructions per chip, above the simulator's resource guard of %d;"
              + " simulate a smaller problem", total, trnsim.isa.ProgramBuilder.MAX_INSTRUCTIONS));
    }
    long budget = Math.max(1, limit / 4 / Math.max(1, perUnit));
    long kv = largestDivisorAtMost(a.kvHeads(), budget);
    long b = largestDivisorAtMost(a.b(), Math.max(1, budget / kv));
    while (true) {
      AttentionSpec piece = new AttentionSpec(b, kv * a.group(), a.s(), a.sKv(), a.d(), kv, a.causal(), a.dtype());
      try {
        Program p = lower(t, piece, cores, backward);
        long copies = (a.b() / b) * (a.kvHeads() / kv);
        return List.of(new Step(label, noted(p, a, piece, copies), copies, a.dtype()));
      } catch (ProgramException | WorkloadException e) {
        if (!String.valueOf(e.getMessage()).contains("resource guard") || b * kv == 1) {
          throw e;
        }
        if (b > 1) {
          b = largestDivisorAtMost(a.b(), b - 1);
        } else {
          kv = largestDivisorAtMost(a.kvHeads(), kv - 1);
        }
      }
    }
  }

  private static Program lower(TargetSpec t, AttentionSpec a, int cores, boolean backward) {
    return backward ? AttentionBackward.lower(t, a, cores) : AttentionLowering.forward(t, a, cores);
  }

  static long largestDivisorAtMost(long n, long max) {
    for (long d = Math.min(n, Math.max(1, max)); d > 1; d--) {
      if (n % d == 0) {
        return d;
      }
    }
    return 1;
  }

  private static Program noted(Program p, AttentionSpec whole, AttentionSpec piece, long copies) {
    List<String> notes = new java.util.ArrayList<>(p.notes());
    notes.add(0, String.format(java.util.Locale.ROOT,
        "split: attention b=%d h=%d kv_heads=%d exceeds the resource guard; run as %d pieces of b=%d kv_heads=%d back to back"
            + " (simulated once)", whole.b(), whole.h(), whole.kvHeads(), copies, piece.b(), piece.kvHeads()));
    return new Program(p.name(), p.cores(), notes, p.flops(), p.hbmBytesMin());
  }
}
