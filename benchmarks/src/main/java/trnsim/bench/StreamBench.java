package trnsim.bench;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.Targets;
import trnsim.isa.CoreProgram;
import trnsim.isa.DType;
import trnsim.isa.Program;
import trnsim.isa.Queue;
import trnsim.isa.lower.GemmLowering;
import trnsim.isa.lower.GemmSpec;
import trnsim.isa.target.TargetSpec;

/**
 * Issue 14, streaming lowering: a trn2 GEMM lowered with loop descriptors and shared cores
 * ({@code compact}) against the same stream stored instruction by instruction ({@code flat}: the
 * representation before). Score: ms per lowering; the {@code stored} secondary result is the
 * instructions the program holds in memory, {@code instructions} those it runs. Run with
 * {@code -prof gc} for the bytes allocated per lowering ({@code gc.alloc.rate.norm}). The
 * whole-command path is {@link StreamRunBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class StreamBench {
  /** M x K x N: a piece of the split 32768^3 GEMM (--no-steady-state) and a whole 8192^3. */
  @Param({"8192x8192x8192", "32768x32768x4096"})
  String shape;

  @Param({"compact", "flat"})
  String layout;

  private HardwareSpec trn2;
  private TargetSpec target;
  private GemmSpec gemm;

  /** Instructions held in memory and instructions run, per lowering. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.EVENTS)
  public static class Sizes {
    public long stored;
    public long instructions;

    @Setup(Level.Iteration)
    public void clear() {
      stored = 0;
      instructions = 0;
    }
  }

  @Setup
  public void setUp() {
    trn2 = Bench.hardware("trn2");
    target = Targets.of(trn2);
    String[] d = shape.split("x");
    gemm = new GemmSpec(Long.parseLong(d[0]), Long.parseLong(d[1]), Long.parseLong(d[2]), DType.BF16, false, false);
  }

  @Benchmark
  public Program lower(Sizes sizes) {
    Program p = layout.equals("flat") ? GemmLowering.lowerFlat(target, gemm, target.cores(), null)
        : GemmLowering.lower(target, gemm, target.cores());
    Set<CoreProgram> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
    distinct.addAll(p.cores());
    for (CoreProgram c : distinct) {
      for (Queue q : c.queues()) {
        sizes.stored += q.storedInstructions();
      }
    }
    for (CoreProgram c : p.cores()) {
      sizes.instructions += c.instructionCount();
    }
    return p;
  }
}
