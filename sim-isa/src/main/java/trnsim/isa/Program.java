package trnsim.isa;

import java.util.List;

/**
 * A kernel lowered for one chip: one {@link CoreProgram} per core it uses, plus what the lowering
 * chose (tiling, strategy) in words for reports, and the work it represents.
 *
 * @param name what was lowered, e.g. {@code gemm m=4096 k=4096 n=4096 bf16}
 * @param cores per-core programs; cores not listed stay idle
 * @param notes the lowering's choices, one line each ("stationary=A", "block m=1024 n=2048 k=...")
 * @param flops useful floating-point operations (2MNK for a GEMM), independent of padding
 * @param hbmBytesMin the compulsory HBM traffic: every input read once, every output written once
 */
public record Program(String name, List<CoreProgram> cores, List<String> notes, long flops, long hbmBytesMin) {
  public Program {
    cores = List.copyOf(cores);
    notes = List.copyOf(notes);
  }

  public long instructionCount() {
    long n = 0;
    for (CoreProgram c : cores) {
      n += c.instructionCount();
    }
    return n;
  }
}
