package trnsim.isa.lower;

import java.util.List;
import java.util.function.Function;
import trnsim.isa.DType;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;
import trnsim.isa.workload.WorkloadSpec;

/**
 * Further workload kinds: row-wise kernels (softmax, rmsnorm, layernorm), flash attention (forward
 * and backward), decode attention against a KV cache, a whole Llama-style decoder layer, and the NKI
 * fused Mamba selective-scan kernels. Reads
 * each kind's keys with the typed getters and rejects unknown ones; returns null for unknown kinds.
 */
final class Extra {
  static final List<String> KINDS = List.of("softmax", "rmsnorm", "layernorm", "attention", "attention-decode", "layer", "mamba");

  private Extra() {}

  static LoweredWorkload lower(TargetSpec t, WorkloadSpec w, Function<String, ModelShape> models) {
    String kind = w.kind();
    if (kind.equals("softmax") || kind.equals("rmsnorm") || kind.equals("layernorm")) {
      long rows = w.positive("rows", null);
      long cols = w.positive("cols", null);
      DType d = w.dtype("dtype", DType.BF16);
      int cores = Workloads.cores(w, t);
      w.finish();
      if (NormLowering.needsChunks(t, kind, cols, d)) {
        return new LoweredWorkload(w.toString(), NormLowering.chunkedRows(t, kind, rows, cols, d, cores), 0);
      }
      return single(w, kind, NormLowering.lower(t, kind, rows, cols, d, cores), d);
    }
    if (kind.equals("attention")) {
      long b = w.positive("b", null);
      long h = w.positive("h", null);
      long s = w.positive("s", null);
      long sKv = w.positive("s_kv", s);
      long d = w.positive("d", null);
      long g = w.positive("kv_heads", h);
      boolean causal = w.bool("causal", false);
      String pass = w.choice("pass", "fwd", "fwd", "bwd");
      DType dt = w.dtype("dtype", DType.BF16);
      int cores = Workloads.cores(w, t);
      w.finish();
      AttentionSpec a = new AttentionSpec(b, h, s, sKv, d, g, causal, dt);
      return new LoweredWorkload(w.toString(), AttentionSplit.steps(t, "attention_" + pass, a, cores, pass.equals("bwd"),
          trnsim.isa.ProgramBuilder.MAX_INSTRUCTIONS), 0);
    }
    if (kind.equals("attention-decode")) {
      long b = w.positive("b", null);
      long h = w.positive("h", null);
      long ctx = w.positive("ctx", null);
      long d = w.positive("d", null);
      long g = w.positive("kv_heads", h);
      DType dt = w.dtype("dtype", DType.BF16);
      int cores = Workloads.cores(w, t);
      w.finish();
      AttentionSpec a = new AttentionSpec(b, h, 1, ctx, d, g, false, dt);
      return new LoweredWorkload(w.toString(), List.of(new Step("attention_decode", DecodeAttention.lower(t, a, cores), 1, dt)), b);
    }
    if (kind.equals("mamba")) {
      long channels = w.positive("channels", null);
      long seq = w.positive("seq", null);
      long state = w.positive("state", 16L);
      long batch = w.positive("batch", 1L);
      int version = Integer.parseInt(w.choice("version", "v3", "v1", "v2", "v3").substring(1));
      long seqTile = w.positive("seq_tile", 512L);
      if (version != 3 && w.has("seq_tile")) {
        throw new WorkloadException(w.source(), "mamba.seq_tile", String.valueOf(seqTile),
            "only mamba v3 tiles the sequence; v" + version + " runs each body over the whole sequence");
      }
      if (seqTile > 65536) {
        throw new WorkloadException(w.source(), "mamba.seq_tile", String.valueOf(seqTile),
            "must be at most 65536 (the largest free size of one vector instruction)");
      }
      boolean hoist = w.bool("hoist", true);
      DType d = w.dtype("dtype", DType.FP32);
      if (d != DType.FP32 && d != DType.BF16 && d != DType.FP16) {
        throw new WorkloadException(w.source(), "mamba.dtype", d.label(), "must be fp32, bf16 or fp16 (the tutorial's kernels are fp32)");
      }
      long cores = w.positive("cores", 1L);
      if (cores > t.cores()) {
        throw new WorkloadException(w.source(), "mamba.cores", String.valueOf(cores), t.name() + " has " + t.cores()
            + " cores per chip");
      }
      w.finish();
      var spec = new MambaLowering.Spec(channels, seq, state, batch, version, seqTile, hoist, d);
      return single(w, "mamba_v" + version, MambaLowering.lower(t, spec, (int) cores), d);
    }
    if (kind.equals("layer")) {
      return LayerLowering.lower(t, w, models);
    }
    return null;
  }

  private static LoweredWorkload single(WorkloadSpec w, String label, trnsim.isa.Program p, DType d) {
    return new LoweredWorkload(w.toString(), List.of(new Step(label, p, 1, d)), 0);
  }
}
