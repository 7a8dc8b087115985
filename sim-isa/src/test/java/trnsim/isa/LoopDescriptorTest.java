package trnsim.isa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Loop descriptors ({@link Queue}, {@link ProgramBuilder.CoreBuilder#iteration()}): a program built
 * with iteration marks presents exactly the stream of the same program built without them, for
 * streams that repeat with period 1, 2 and 3 iterations, change part-way (a different iteration
 * closes the loop and stays literal), end in a partial repetition, and depend on earlier
 * iterations of other queues; and it stores each repeating body once.
 */
public class LoopDescriptorTest {
  static final Instruction[] KINDS = {
      new Instruction.MatMul(TensorRef.sbuf(128, 128, DType.BF16), TensorRef.sbuf(128, 512, DType.BF16),
          TensorRef.psum(128, 512, DType.FP32), true),
      new Instruction.TensorCopy(EngineKind.VECTOR, TensorRef.psum(128, 512, DType.FP32), TensorRef.sbuf(128, 512, DType.BF16)),
      new Instruction.Activation(TensorRef.psum(128, 512, DType.FP32), TensorRef.sbuf(128, 512, DType.BF16), ActFunc.IDENTITY, false),
      new Instruction.DmaCopy(TensorRef.hbm(128, 4096, DType.INT8), TensorRef.sbuf(128, 4096, DType.INT8)),
  };

  /**
   * Emits {@code iterations} iterations; iteration j's pattern is {@code pattern[j]} (0, 1, 2: three
   * different bodies), each instruction depending on the latest instruction of another queue and,
   * every few, on one from two iterations back.
   */
  static Program build(int[] pattern, boolean marks, long seed) {
    ProgramBuilder pb = new ProgramBuilder("loops", 2);
    ProgramBuilder.CoreBuilder c = pb.core(0);
    List<List<Op>> perIteration = new ArrayList<>();
    Op[] last = new Op[4];
    for (int j = 0; j < pattern.length; j++) {
      if (marks) {
        c.iteration();
      }
      SplittableRandom r = new SplittableRandom(seed + pattern[j]);
      int len = 3 + r.nextInt(6);
      List<Op> ops = new ArrayList<>();
      for (int i = 0; i < len; i++) {
        int k = r.nextInt(KINDS.length);
        List<Op> deps = new ArrayList<>();
        int from = r.nextInt(KINDS.length);
        if (last[from] != null && from != k) {
          deps.add(last[from]);
        }
        if (j >= 2 && r.nextInt(3) == 0 && !perIteration.get(j - 2).isEmpty()) {
          List<Op> back = perIteration.get(j - 2);
          Op o = back.get(r.nextInt(back.size()));
          deps.add(o);
        }
        Op op = KINDS[k] instanceof Instruction.DmaCopy d ? c.dma(r.nextInt(2), d, deps.toArray(new Op[0]))
            : c.add(KINDS[k], deps.toArray(new Op[0]));
        last[k] = op;
        ops.add(op);
      }
      perIteration.add(ops);
    }
    return pb.build();
  }

  static int[] pattern(int kind) {
    int[] p = new int[40];
    for (int j = 0; j < p.length; j++) {
      p[j] = switch (kind) {
        case 0 -> j < 2 ? 2 : 0; // a prologue, then period 1
        case 1 -> j % 2; // period 2
        case 2 -> j % 3; // period 3
        case 3 -> j < 17 ? 0 : j < 30 ? j % 2 : 1; // period 1, then 2, then 1 again
        default -> (j * 7 + j / 5) % 3; // irregular
      };
    }
    return p;
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3, 4})
  void aProgramWithIterationMarksIsTheSameStream(int kind) {
    for (long seed = 1; seed <= 20; seed++) {
      int[] pattern = pattern(kind);
      for (int cut : new int[] {pattern.length, pattern.length - 1, 7}) {
        int[] p = java.util.Arrays.copyOf(pattern, cut);
        Program flat = build(p, false, seed);
        Program looped = build(p, true, seed);
        for (int q = 0; q < flat.cores().get(0).queues().size(); q++) {
          Queue a = looped.cores().get(0).queue(q);
          Queue b = flat.cores().get(0).queue(q);
          assertThat(b.segments()).isEqualTo(1);
          assertSame(a, b, "pattern " + kind + " seed " + seed + " cut " + cut + " queue " + q);
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2})
  void aPeriodicStreamStoresItsBodyOnce(int kind) {
    int[] p = pattern(kind);
    Program looped = build(p, true, 5);
    for (Queue q : looped.cores().get(0).queues()) {
      // at most: a literal prologue of a few iterations, one body of at most 3, and no more
      assertThat(q.storedInstructions() * 4).as(q.label()).isLessThanOrEqualTo(Math.max(40, q.size()));
    }
  }

  /**
   * {@code a} is the same stream as {@code b}: kind, instructions, and every dependency both through
   * the stored accessors and through {@link Queue#deps}.
   */
  public static void assertSame(Queue a, Queue b, String what) {
    assertThat(a.kind()).as(what).isEqualTo(b.kind());
    assertThat(a.size()).as(what).isEqualTo(b.size());
    int[] qa = new int[Math.max(1, a.maxDeps())];
    int[] ia = new int[qa.length];
    for (int i = 0; i < b.size(); i++) {
      assertThat(a.instruction(i)).as(what + " #" + i).isEqualTo(b.instruction(i));
      int n = a.deps(i, qa, ia);
      assertThat(a.depStart(i)).as(what + " #" + i).isEqualTo(b.depStart(i));
      assertThat(n).as(what + " #" + i + " deps").isEqualTo(b.depEnd(i) - b.depStart(i));
      assertThat(a.depEnd(i) - a.depStart(i)).isEqualTo(n);
      for (int d = 0; d < n; d++) {
        int db = b.depStart(i) + d;
        assertThat(new int[] {qa[d], ia[d], a.depQueue(db), a.depIndex(db)}).as(what + " #" + i + " dep " + d)
            .containsExactly(b.depQueue(db), b.depIndex(db), b.depQueue(db), b.depIndex(db));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1})
  void aCopiedCoreSharesItsSourceAndTakesNoInstructions(int unused) {
    ProgramBuilder pb = new ProgramBuilder("copy", 1);
    pb.core(0).add(KINDS[0]);
    pb.sameAs(1, 0);
    Program p = pb.build();
    assertThat(p.cores().get(1)).isSameAs(p.cores().get(0));
    assertThat(pb.instructions()).isEqualTo(2);
    assertThatThrownBy(() -> pb.core(1).add(KINDS[0])).isInstanceOf(ProgramException.class).hasMessageContaining("copy of core 0");
  }
}
