package trnsim.isa.lower;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import trnsim.isa.CoreProgram;
import trnsim.isa.DType;
import trnsim.isa.LoopDescriptorTest;
import trnsim.isa.Program;
import trnsim.isa.Queue;
import trnsim.isa.target.TargetSpec;

/**
 * The GEMM lowering's compact streams (loop descriptors per output block, cores of one slab shape
 * sharing one program) present exactly the stream the lowering stores flat: instruction by
 * instruction and dependency by dependency, every core and queue. And they are compact: a kernel of
 * many identical blocks stores a few blocks' worth, however many it runs.
 */
class GemmStreamTest {
  static final TargetSpec T = KernelLoweringTest.T;
  static final TargetSpec H = SmallSbufLoweringTest.H;

  static TargetSpec target(String name) {
    return name.equals("h100") ? H : T;
  }

  @ParameterizedTest
  @CsvSource({
      // K-blocked (one block per output tile group), A hoisted across N, ragged edges, fp8, transposed,
      // a 132-core grid with ragged cores, one tile per block (evacuations alternate engines: period 2).
      "trn2, 2048, 8192, 2048, bf16, false, 0",
      "trn2, 4096, 4096, 4096, bf16, false, 0",
      "trn2, 1000, 3000, 700, bf16, false, 0",
      "trn2, 3000, 512, 5000, fp8, true, 0",
      "trn2, 4096, 256, 4096, bf16, false, 0",
      "h100, 2048, 2048, 2048, bf16, false, 0",
      "trn2, 1024, 1024, 1024, bf16, false, 1",
  })
  void theCompactStreamIsTheFlatStream(String target, long m, long k, long n, String dtype, boolean ta, int naive) {
    TargetSpec t = target(target);
    GemmSpec g = new GemmSpec(m, k, n, DType.parse(dtype), ta, false);
    GemmTiling tl = naive == 1 ? GemmLowering.naive(t, g, t.cores()) : null;
    Program compact = GemmLowering.lower(t, g, t.cores(), tl);
    Program flat = GemmLowering.lowerFlat(t, g, t.cores(), tl);
    assertThat(compact.cores()).hasSameSizeAs(flat.cores());
    for (int c = 0; c < flat.cores().size(); c++) {
      CoreProgram a = compact.cores().get(c);
      CoreProgram b = flat.cores().get(c);
      assertThat(a.buffers()).isEqualTo(b.buffers());
      for (int q = 0; q < b.queues().size(); q++) {
        LoopDescriptorTest.assertSame(a.queue(q), b.queue(q), "core " + c + " queue " + q);
      }
    }
  }

  /** Instructions held in memory: each distinct core program once, each loop body once. */
  static long stored(Program p) {
    java.util.Set<CoreProgram> distinct = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    distinct.addAll(p.cores());
    long n = 0;
    for (CoreProgram c : distinct) {
      for (Queue q : c.queues()) {
        n += q.storedInstructions();
      }
    }
    return n;
  }

  static long logical(Program p) {
    long n = 0;
    for (CoreProgram c : p.cores()) {
      n += c.instructionCount();
    }
    return n;
  }

  @ParameterizedTest
  @CsvSource({
      // K-blocked (k = 32768 does not fit): every output block is one iteration; the grid 2 x 4 throughout.
      "16384, 32768, 16384",
      "32768, 32768, 32768",
      "40960, 32768, 40960",
  })
  void aKBlockedKernelStoresTheSameInstructionsHoweverManyBlocksItRuns(long m, long k, long n) {
    GemmSpec base = new GemmSpec(8192, k, 8192, DType.BF16, false, false);
    GemmSpec g = new GemmSpec(m, k, n, DType.BF16, false, false);
    assertThat(GemmLowering.choose(T, g, T.cores()).describe()).isEqualTo(GemmLowering.choose(T, base, T.cores()).describe());
    Program p = GemmLowering.lower(T, g, T.cores());
    assertThat(logical(p)).isEqualTo(GemmLowering.exactInstructions(T, g, T.cores()));
    // prologue, one loop body, epilogue: the same few blocks whatever the number of blocks per core
    assertThat(stored(p)).isEqualTo(stored(GemmLowering.lower(T, base, T.cores())));
    assertThat(stored(p) * 100).isLessThan(logical(p));
  }

  @ParameterizedTest
  @CsvSource({"32768", "65536"})
  void aHoistedKernelStoresOnePassOfItsInnerLoop(long outer) {
    // One core, the whole K resident: the operand of the outer loop is hoisted across the inner one,
    // and one iteration is a pass of the inner loop. The stored stream grows with the inner
    // dimension, not with the outer one.
    GemmSpec base = new GemmSpec(4096, 2048, 4096, DType.BF16, false, false);
    GemmTiling tl = GemmLowering.choose(T, base, 1);
    GemmSpec g = tl.mOuter() ? new GemmSpec(outer, 2048, 4096, DType.BF16, false, false)
        : new GemmSpec(4096, 2048, outer, DType.BF16, false, false);
    assertThat(tl.describe()).contains("hoisted");
    Program p = GemmLowering.lower(T, g, 1, tl);
    GemmSpec shorter = tl.mOuter() ? new GemmSpec(16384, 2048, 4096, DType.BF16, false, false)
        : new GemmSpec(4096, 2048, 16384, DType.BF16, false, false);
    assertThat(stored(p)).isEqualTo(stored(GemmLowering.lower(T, shorter, 1, tl)));
    assertThat(stored(p) * 3).isLessThan(logical(p));
  }
}
