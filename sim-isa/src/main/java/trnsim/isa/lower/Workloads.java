package trnsim.isa.lower;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import trnsim.isa.DType;
import trnsim.isa.Program;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * The registry of workload kinds: turns a {@link WorkloadSpec} into kernels for one chip. Each kind
 * reads its keys (rejecting unknown ones) and calls its lowering.
 */
public final class Workloads {
  private Workloads() {}

  /** Kinds this registry lowers itself (immutable; {@link #kinds()} adds the extra kernels). */
  private static final List<String> KINDS = List.of("gemm", "copy", "elementwise");

  /**
   * @param models resolves a model name (llama3-70b) to its shape, for layer workloads; may be null
   */
  public static LoweredWorkload lower(TargetSpec t, WorkloadSpec w, Function<String, ModelShape> models) {
    try {
      return lowerKind(t, w, models);
    } catch (WorkloadException e) {
      String source = w.source() == null ? "workload" : w.source();
      if (e.getMessage() != null && e.getMessage().startsWith(source)) {
        throw e;
      }
      // A part's own limit (the resource guard of an attention's or a layer's kernel) names the part:
      // say where the workload came from and what it was, as every other workload error does.
      throw new WorkloadException(source, w.kind(), w.toString(), e.getMessage());
    }
  }

  private static LoweredWorkload lowerKind(TargetSpec t, WorkloadSpec w, Function<String, ModelShape> models) {
    int defaultCores = t.cores();
    LoweredWorkload result = switch (w.kind()) {
      case "gemm" -> {
        long m = w.positive("m", null);
        long k = w.positive("k", null);
        long n = w.positive("n", null);
        DType d = w.dtype("dtype", DType.BF16);
        boolean ta = w.bool("ta", false);
        boolean tb = w.bool("tb", false);
        int cores = cores(w, t);
        String strategy = w.choice("strategy", "auto", "auto", "blocked", "naive", "tiled", "hoisted", "block_free", "block_k");
        GemmSpec g = new GemmSpec(m, k, n, d, ta, tb);
        NkiMatmulLowering.Variant nki = NkiMatmulLowering.Variant.of(strategy);
        if (nki != null) {
          yield nkiMatmul(t, w, g, cores, nki);
        }
        GemmTiling tiling = null;
        if (strategy.equals("naive")) {
          tiling = GemmLowering.naive(t, g, cores);
        }
        if (w.has("block_m") || w.has("block_n") || w.has("block_k")) {
          GemmTiling base = GemmLowering.choose(t, g, Math.min(cores, t.cores()));
          long bm = w.positive("block_m", base.blockM());
          long bn = w.positive("block_n", base.blockN());
          long bk = w.positive("block_k", base.blockK());
          if (bm % t.peCols() != 0 || bn % t.maxMovingFree() != 0 || bk % t.kPerMatmul(d) != 0) {
            throw new WorkloadException(w.source(), "gemm.block_*", bm + "/" + bn + "/" + bk,
                "blocks must be multiples of the tile: m " + t.peCols() + ", n " + t.maxMovingFree() + ", k " + t.kPerMatmul(d));
          }
          tiling = new GemmTiling("blocked", base.gridM(), base.gridN(), bm, bn, bk, base.mOuter(), 2);
        }
        w.finish();
        if (tiling == null) {
          // the library's own choice: a GEMM above the resource guard runs as sub-GEMMs (GemmLowering.steps);
          // one that runs whole and is small enough to search (strategy=auto) offers its candidate tilings
          List<Step> steps = GemmLowering.steps(t, "gemm", g, cores, 1, trnsim.isa.ProgramBuilder.MAX_INSTRUCTIONS);
          LoweredWorkload chosen = new LoweredWorkload(w.toString(), steps, 0);
          boolean whole = steps.size() == 1 && steps.get(0).repeat() == 1;
          yield whole && strategy.equals("auto") && GemmLowering.searchable(t, g)
              ? chosen.withAlternatives(gemmAlternatives(t, w, g, cores)) : chosen;
        }
        guard(w, "gemm", (double) Kernels.ceilDiv(m, t.peCols()) * Kernels.ceilDiv(n, t.maxMovingFree())
            * Kernels.ceilDiv(k, t.kPerMatmul(t.supports(d) ? d : DType.BF16)));
        yield new LoweredWorkload(w.toString(), List.of(new Step("gemm", GemmLowering.lower(t, g, cores, tiling), 1, d)), 0);
      }
      case "copy" -> {
        long bytes = w.bytes("bytes", null);
        int cores = cores(w, t);
        guard(w, "copy", Kernels.ceilDiv(bytes, 128L * 32 * 1024) * (double) t.dmaQueues());
        w.finish();
        yield new LoweredWorkload(w.toString(), List.of(new Step("copy", StreamLowering.copy(t, bytes, cores), 1, DType.BF16)), 0);
      }
      case "elementwise" -> {
        String op = w.choice("op", null, "gelu", "silu", "exp", "relu", "add", "mul", "bias");
        long numel = w.positive("numel", null);
        DType d = w.dtype("dtype", DType.BF16);
        int cores = cores(w, t);
        guard(w, "elementwise", Kernels.ceilDiv(numel, 128L * StreamLowering.TILE_FREE) * 3.0 * t.dmaQueues());
        w.finish();
        yield new LoweredWorkload(w.toString(),
            List.of(new Step("elementwise", StreamLowering.elementwise(t, op, numel, d, cores), 1, d)), 0);
      }
      default -> {
        LoweredWorkload ext = Extra.lower(t, w, models);
        if (ext == null) {
          throw new WorkloadException(w.source(), "kind", w.kind(), "unknown workload kind; known: " + String.join(", ", kinds()));
        }
        yield ext;
      }
    };
    // A workload given as a string is one kernel launch of its own (one NEFF execution).
    return result.launched();
  }

  /** The NKI tutorial's kernels: block sizes where the kernel has them (tutorial defaults), none elsewhere. */
  private static LoweredWorkload nkiMatmul(TargetSpec t, WorkloadSpec w, GemmSpec g, int cores, NkiMatmulLowering.Variant v) {
    NkiMatmulLowering.Blocks dflt = NkiMatmulLowering.Blocks.defaults(v, t);
    long[] blocks = new long[3];
    char[] dims = {'m', 'n', 'k'};
    long[] defaults = {dflt.m(), dflt.n(), dflt.k()};
    for (int i = 0; i < 3; i++) {
      String key = "block_" + dims[i];
      if (v.hasBlock(dims[i])) {
        blocks[i] = w.positive(key, defaults[i]);
      } else if (w.has(key)) {
        throw new WorkloadException(w.source(), "gemm." + key, w.params().get(key),
            "strategy " + v.key() + " has no block along " + Character.toUpperCase(dims[i]));
      }
    }
    w.finish();
    Program p = NkiMatmulLowering.lower(t, g, cores, v, new NkiMatmulLowering.Blocks(blocks[0], blocks[1], blocks[2]), w.source());
    return new LoweredWorkload(w.toString(), List.of(new Step("gemm", p, 1, g.dtype())), 0);
  }

  /** Most candidate tilings a GEMM workload offers the simulator (the traffic-minimal one included). */
  static final int MAX_GEMM_CANDIDATES = 64;

  /** The traffic-minimal tiling's runners-up: what the chooser would pick with less SBUF. */
  private static List<LoweredWorkload> gemmAlternatives(TargetSpec t, WorkloadSpec w, GemmSpec g, int cores) {
    List<LoweredWorkload> out = new ArrayList<>();
    List<GemmTiling> cands = GemmLowering.candidates(t, g, cores, MAX_GEMM_CANDIDATES);
    for (GemmTiling c : cands.subList(Math.min(1, cands.size()), cands.size())) {
      out.add(new LoweredWorkload(w.toString(), List.of(new Step("gemm", GemmLowering.lower(t, g, cores, c), 1, g.dtype())), 0));
    }
    return out;
  }

  /** Every kind this registry knows, for help texts and errors. */
  public static List<String> kinds() {
    List<String> all = new ArrayList<>(KINDS);
    all.addAll(Extra.KINDS);
    return List.copyOf(all);
  }

  /** Rejects, before building anything, a kernel whose instruction count would exceed the guard. */
  static void guard(WorkloadSpec w, String kind, double estimatedInstructions) {
    if (estimatedInstructions > trnsim.isa.ProgramBuilder.MAX_INSTRUCTIONS) {
      throw new WorkloadException(w.source(), kind, w.toString(), String.format(java.util.Locale.ROOT,
          "needs about %.3g instructions per chip, above the resource guard of %d; simulate a smaller problem",
          estimatedInstructions, trnsim.isa.ProgramBuilder.MAX_INSTRUCTIONS));
    }
  }

  static int cores(WorkloadSpec w, TargetSpec t) {
    long c = w.positive("cores", (long) t.cores());
    if (c > t.cores()) {
      throw new WorkloadException(w.source(), w.kind() + ".cores", String.valueOf(c), t.name() + " has " + t.cores() + " cores per chip");
    }
    return (int) c;
  }
}
