package trnsim.isa.lower;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.isa.AluOp;
import trnsim.isa.CoreProgram;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.Program;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.ProgramException;
import trnsim.isa.Queue;
import trnsim.isa.TensorRef;
import trnsim.isa.lower.TileKernel.Tile;

/** The tile planner: derived dependencies, liveness, spill and reload, against hand-counted small kernels. */
class TileKernelTest {
  static final int QUEUES = 4;
  static final TileKernel.Queues SPLIT = new TileKernel.Queues(0, 2, 2, 2);
  static final long KIB = 1024;

  static Instruction vec(long free) {
    TensorRef r = TensorRef.sbuf(128, free, DType.FP32);
    return new Instruction.TensorTensor(EngineKind.VECTOR, r, r, r, AluOp.ADD);
  }

  record Built(Program program, TileKernel.Plan plan) {}

  static Built emit(TileKernel k) {
    ProgramBuilder pb = new ProgramBuilder("tiles", QUEUES);
    TileKernel.Plan plan = k.emit(pb.core(0), SPLIT, QUEUES);
    return new Built(pb.build(), plan);
  }

  /** DMA bytes by direction: [HBM->SBUF, SBUF->HBM]. */
  static long[] dmaBytes(Program p) {
    long[] b = new long[2];
    for (Queue q : p.cores().get(0).queues()) {
      for (int i = 0; i < q.size(); i++) {
        if (q.instruction(i) instanceof Instruction.DmaCopy d) {
          b[d.src().space() == MemSpace.HBM ? 0 : 1] += d.bytes();
        }
      }
    }
    return b;
  }

  /** Queue and index pairs the vector engine's instruction {@code i} waits for. */
  static List<int[]> deps(Program p, int queue, int i) {
    Queue q = p.cores().get(0).queue(queue);
    List<int[]> out = new ArrayList<>();
    for (int d = q.depStart(i); d < q.depEnd(i); d++) {
      out.add(new int[] {q.depQueue(d), q.depIndex(d)});
    }
    return out;
  }

  @Test
  void dependenciesComeFromTheTilesReadAndWritten() {
    TileKernel k = new TileKernel(192 * KIB, 16 * KIB);
    Tile x = k.sbuf("x", 128, 2 * KIB);
    Tile y = k.sbuf("y", 128, 2 * KIB);
    k.load(x);
    k.compute(vec(512), TileKernel.of(x), TileKernel.of(y));
    k.compute(vec(512), TileKernel.of(y), TileKernel.of(y));
    k.store(y);
    Built b = emit(k);
    Program p = b.program();
    // The load is split over the two load queues; the first add waits for both halves.
    assertThat(deps(p, CoreProgram.VECTOR, 0)).extracting(d -> d[0])
        .containsExactlyInAnyOrder(CoreProgram.FIRST_DMA, CoreProgram.FIRST_DMA + 1);
    // The in-place update reads the first add's result on the same engine: a real dependency (pipeline latency).
    assertThat(deps(p, CoreProgram.VECTOR, 1)).extracting(d -> d[0]).containsExactly(CoreProgram.VECTOR);
    // The store halves (store queues 2 and 3) wait for the update.
    assertThat(deps(p, CoreProgram.FIRST_DMA + 2, 0)).extracting(d -> d[1]).containsExactly(1);
    assertThat(b.plan().loads()).isEqualTo(1);
    assertThat(b.plan().stores()).isEqualTo(1);
    assertThat(dmaBytes(p)).containsExactly(128 * 2 * KIB, 128 * 2 * KIB);
    assertThat(b.plan().peakSbufBytesPerPartition()).isEqualTo(4 * KIB);
    assertThat(b.plan().spilled()).isFalse();
  }

  /** A chain x0 -> x1 -> ... where every tile is read again at the end: all are live at once. */
  static TileKernel chainReadBackAtTheEnd(long capacity, int n) {
    TileKernel k = new TileKernel(capacity, 16 * KIB);
    Tile[] t = new Tile[n];
    for (int i = 0; i < n; i++) {
      t[i] = k.sbuf("t" + i, 128, 2 * KIB);
      k.compute(vec(512), i == 0 ? TileKernel.of() : TileKernel.of(t[i - 1]), TileKernel.of(t[i]));
    }
    Tile sum = k.sbuf("sum", 128, 2 * KIB);
    k.compute(vec(512), TileKernel.of(), TileKernel.of(sum));
    for (int i = 0; i < n; i++) {
      k.compute(vec(512), TileKernel.of(sum, t[i]), TileKernel.of(sum));
    }
    k.store(sum);
    return k;
  }

  @Test
  void nothingSpillsWhileTheLiveSetFits() {
    // 8 chain tiles + the sum = 18 KiB live at most.
    Built b = emit(chainReadBackAtTheEnd(18 * KIB, 8));
    assertThat(b.plan().peakSbufBytesPerPartition()).isEqualTo(18 * KIB);
    assertThat(b.plan().spilled()).isFalse();
    assertThat(dmaBytes(b.program())).containsExactly(0L, 128 * 2 * KIB);
  }

  @Test
  void computedTilesSpillWhenTheLiveSetOutgrowsSbufAndComeBackBeforeTheirNextUse() {
    // 12 KiB for 9 tiles of 2 KiB: 3 must be out at the worst point.
    Built b = emit(chainReadBackAtTheEnd(12 * KIB, 8));
    TileKernel.Plan plan = b.plan();
    assertThat(plan.peakSbufBytesPerPartition()).isLessThanOrEqualTo(12 * KIB);
    // Six slots. t6, t7 and the sum each need one more: Belady evicts the resident chain tile whose
    // add comes last (t4, then t5, then t7), each a computed tile, so each is stored once; by the
    // time its add comes the earlier tiles are dead, so each is reloaded once without evicting more.
    assertThat(plan.cleanEvictions()).isZero();
    assertThat(plan.spillStores()).isEqualTo(3);
    assertThat(plan.reloads()).isEqualTo(3);
    assertThat(plan.spillBytes()).isEqualTo(plan.spillStores() * 128 * 2 * KIB);
    assertThat(plan.reloadBytes()).isEqualTo(plan.spillBytes());
    // Bytes conserved: HBM receives the kernel's store plus the spills and gives back the reloads.
    assertThat(dmaBytes(b.program())).containsExactly(plan.reloadBytes(), 128 * 2 * KIB + plan.spillBytes());
  }

  @Test
  void unmodifiedLoadsAreDroppedAndLoadedAgainRatherThanStored() {
    TileKernel k = new TileKernel(6 * KIB, 16 * KIB);
    Tile in = k.sbuf("in", 128, 2 * KIB);
    k.load(in);
    Tile a = k.sbuf("a", 128, 2 * KIB);
    k.compute(vec(512), TileKernel.of(in), TileKernel.of(a));
    // Two more tiles while `in` waits for its second use: `in` is needed last, so it goes.
    Tile b2 = k.sbuf("b", 128, 2 * KIB);
    k.compute(vec(512), TileKernel.of(a), TileKernel.of(b2));
    Tile c = k.sbuf("c", 128, 2 * KIB);
    k.compute(vec(512), TileKernel.of(a, b2), TileKernel.of(c));
    k.compute(vec(512), TileKernel.of(in, c), TileKernel.of(c));
    k.store(c);
    Built built = emit(k);
    assertThat(built.plan().cleanEvictions()).isEqualTo(1);
    assertThat(built.plan().spillStores()).isZero();
    assertThat(built.plan().reloads()).isEqualTo(1);
    assertThat(dmaBytes(built.program())).containsExactly(2 * 128 * 2 * KIB, 128 * 2 * KIB);
  }

  @Test
  void reusedSpaceMakesTheNextWriterWaitForTheLastReader() {
    // The scalar engine writes each new tile; the vector engine reads it. With room for one
    // tile only, tile i+1 reuses tile i's space: its write must wait for tile i's read.
    for (long capacity : new long[] {2 * KIB, 64 * KIB}) {
      TileKernel k = new TileKernel(capacity, 16 * KIB);
      TensorRef r = TensorRef.sbuf(128, 512, DType.FP32);
      for (int i = 0; i < 4; i++) {
        Tile t = k.sbuf("t" + i, 128, 2 * KIB);
        k.compute(new Instruction.Activation(r, r, trnsim.isa.ActFunc.EXP, false), TileKernel.of(), TileKernel.of(t));
        k.compute(new Instruction.TensorReduce(EngineKind.VECTOR, r, TensorRef.sbuf(128, 1, DType.FP32), AluOp.ADD),
            TileKernel.of(t), TileKernel.of());
      }
      Program p = emit(k).program();
      List<int[]> third = deps(p, CoreProgram.SCALAR, 2);
      if (capacity == 2 * KIB) {
        assertThat(third).extracting(d -> d[0] + ":" + d[1]).containsExactly(CoreProgram.VECTOR + ":1");
      } else {
        assertThat(third).as("plenty of room: the scalar engine runs ahead").isEmpty();
      }
    }
  }

  @Test
  void impossibleKernelsAreRejected() {
    TileKernel unread = new TileKernel(8 * KIB, 16 * KIB);
    Tile ghost = unread.sbuf("ghost", 128, 2 * KIB);
    unread.store(ghost);
    assertThatThrownBy(() -> emit(unread)).isInstanceOf(ProgramException.class).hasMessageContaining("'ghost' is read before");

    TileKernel tooBig = new TileKernel(3 * KIB, 16 * KIB);
    Tile x = tooBig.sbuf("x", 128, 2 * KIB);
    Tile y = tooBig.sbuf("y", 128, 2 * KIB);
    tooBig.compute(vec(512), TileKernel.of(), TileKernel.of(x));
    tooBig.compute(vec(512), TileKernel.of(x), TileKernel.of(y));
    assertThatThrownBy(() -> emit(tooBig)).isInstanceOf(ProgramException.class).hasMessageContaining("does not fit");

    TileKernel psum = new TileKernel(64 * KIB, 4 * KIB);
    Tile[] banks = new Tile[3];
    for (int i = 0; i < 3; i++) {
      banks[i] = psum.psum("bank" + i, 128, 2 * KIB);
      psum.compute(vec(512), TileKernel.of(), TileKernel.of(banks[i]));
    }
    psum.compute(vec(512), banks, TileKernel.of());
    assertThatThrownBy(() -> emit(psum)).isInstanceOf(ProgramException.class).hasMessageContaining("PSUM");
  }
}
