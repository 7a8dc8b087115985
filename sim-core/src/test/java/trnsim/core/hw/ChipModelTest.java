package trnsim.core.hw;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import trnsim.core.scalesim.SystolicDataflow;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.engine.ClockDomain;
import trnsim.core.engine.Simulation;
import trnsim.core.stats.StatsSnapshot;
import trnsim.core.trace.ChromeTraceSink;
import trnsim.core.trace.TraceSink;
import trnsim.isa.AluOp;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.Op;
import trnsim.isa.Program;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.ProgramException;
import trnsim.isa.TensorRef;

/** The core model against closed forms and invariants, using the shipped Trainium2 config. */
class ChipModelTest {
  static final HardwareLoader LOADER = new HardwareLoader(Path.of("..", "configs").toAbsolutePath().normalize());

  static HardwareSpec hw(String name, String... sets) {
    return LOADER.load(name, List.of(sets)).spec();
  }

  static final TensorRef W = TensorRef.sbuf(128, 128, DType.BF16);
  static final TensorRef X = TensorRef.sbuf(128, 512, DType.BF16);
  static final TensorRef P = TensorRef.psum(128, 512, DType.FP32);

  static long run(HardwareSpec hw, Program p) {
    return new ChipModel(hw, p, new Simulation(), TraceSink.NONE, null).run();
  }

  static StatsSnapshot stats(HardwareSpec hw, Program p) {
    ChipModel c = new ChipModel(hw, p, new Simulation(), TraceSink.NONE, null);
    c.run();
    StatsSnapshot s = c.stats();
    checkInvariants(s);
    return s;
  }

  /** After every run: no engine busier than the run, stall+busy within the run, bytes conserved. */
  static void checkInvariants(StatsSnapshot s) {
    double end = s.get("sim.end_ps");
    double dmaBytes = 0;
    double sides = 0;
    for (var e : s.values().entrySet()) {
      String k = e.getKey();
      if (k.endsWith(".busy_ps") && !k.contains(".hbm.")) {
        assertThat(e.getValue()).as(k).isLessThanOrEqualTo(end);
        String base = k.substring(0, k.length() - "busy_ps".length());
        double stall = s.getOrZero(base + "stall_ps");
        // A compute engine is busy, stalled or idle; a DMA queue may stall issuing while it moves data.
        if (!k.matches(".*\\.dma\\d+\\.busy_ps")) {
          assertThat(e.getValue() + stall).as(k + " + stall").isLessThanOrEqualTo(end);
        }
        assertThat(stall).as(base + "stall_ps").isLessThanOrEqualTo(end);
      }
      if (k.matches(".*\\.dma\\d+\\.bytes")) {
        dmaBytes += e.getValue();
        String base = k.substring(0, k.length() - "bytes".length());
        double reads = s.get(base + "hbm_read_bytes") + s.get(base + "sbuf_read_bytes") + s.get(base + "psum_read_bytes");
        assertThat(reads).as("every DMA byte is read from somewhere: " + k).isEqualTo(e.getValue());
        sides += s.get(base + "hbm_read_bytes") + s.get(base + "hbm_write_bytes");
      }
    }
    // HBM moved exactly the bytes the DMAs read from or wrote to it.
    assertThat(s.get("chip0.hbm.transferred_bytes")).isCloseTo(sides, within(Math.max(1.0, sides * 1e-9)));
    assertThat(s.get("chip0.hbm.busy_ps")).isLessThanOrEqualTo(end);
  }

  @Test
  void singleMatmulMatchesTheNkiFormula() {
    HardwareSpec trn2 = hw("trn2");
    ProgramBuilder b = new ProgramBuilder("one", 16);
    b.core(0).add(new Instruction.MatMul(W, X, P, false));
    long end = run(trn2, b.build());
    ClockDomain tensor = new ClockDomain(2_400_000_000L);
    // max(min(64, 128), 512) = 512 cycles, then 128 cycles of pipeline latency until visible.
    assertThat(end).isEqualTo(tensor.tickOf(512) + tensor.ticksFor(128));
  }

  @Test
  void chainOfMatmulsIsBackToBack() {
    HardwareSpec trn2 = hw("trn2", "chip.core.tensor.latency_cycles=0");
    for (int n : new int[] {1, 7, 32}) {
      ProgramBuilder b = new ProgramBuilder("chain", 16);
      for (int i = 0; i < n; i++) {
        b.core(0).add(new Instruction.MatMul(W, X, P, i > 0));
      }
      StatsSnapshot s = stats(trn2, b.build());
      assertThat((long) s.get("sim.end_ps")).isEqualTo(new ClockDomain(2_400_000_000L).tickOf(512L * n));
      assertThat(s.get("chip0.nc0.tensor.flops")).isEqualTo(2.0 * 128 * 128 * 512 * n);
    }
  }

  @Test
  void smallMovingTileIsBoundByTheMinimumInterval() {
    HardwareSpec trn2 = hw("trn2", "chip.core.tensor.latency_cycles=0");
    ProgramBuilder b = new ProgramBuilder("tiny", 16);
    b.core(0).add(new Instruction.MatMul(W, TensorRef.sbuf(128, 16, DType.BF16), TensorRef.psum(128, 16, DType.FP32), false));
    assertThat(run(trn2, b.build())).isEqualTo(new ClockDomain(2_400_000_000L).tickOf(64));
  }

  @Test
  void fp32TakesFourTimesAndFp8PacksTwiceTheDepth() {
    HardwareSpec trn2 = hw("trn2", "chip.core.tensor.latency_cycles=0");
    ProgramBuilder b = new ProgramBuilder("fp32", 16);
    b.core(0).add(new Instruction.MatMul(TensorRef.sbuf(128, 128, DType.FP32), TensorRef.sbuf(128, 512, DType.FP32), P, false));
    assertThat(run(trn2, b.build())).isEqualTo(new ClockDomain(2_400_000_000L).tickOf(2048));
    ProgramBuilder f8 = new ProgramBuilder("fp8", 16);
    f8.core(0).add(new Instruction.MatMul(TensorRef.sbuf(256, 128, DType.FP8_E4M3), TensorRef.sbuf(256, 512, DType.FP8_E4M3), P, false));
    assertThat(run(trn2, f8.build())).isEqualTo(new ClockDomain(2_400_000_000L).tickOf(512));
    ProgramBuilder tooDeep = new ProgramBuilder("bf16 K=256", 16);
    tooDeep.core(0).add(new Instruction.MatMul(TensorRef.sbuf(256, 128, DType.BF16), TensorRef.sbuf(256, 512, DType.BF16), P, false));
    assertThatThrownBy(() -> run(trn2, tooDeep.build())).isInstanceOf(ProgramException.class).hasMessageContaining("K = 256");
  }

  @Test
  void systolicModelFillsAndDrainsEveryFold() {
    HardwareSpec sys = hw("trn2", "chip.core.tensor.type=systolic", "chip.core.tensor.latency_cycles=0");
    ProgramBuilder b = new ProgramBuilder("ws", 16);
    b.core(0).add(new Instruction.MatMul(W, X, P, false));
    // Weight stationary, one fold: 2R + C + T - 2 = 256 + 128 + 512 - 2 cycles (SCALE-Sim).
    assertThat(run(sys, b.build())).isEqualTo(new ClockDomain(2_400_000_000L).tickOf(894));
    TensorTiming.Systolic os = new TensorTiming.Systolic(32, 32, SystolicDataflow.OUTPUT_STATIONARY);
    // 64 x 64 outputs on a 32 x 32 array: 4 folds, each streaming K = 100 with no load phase:
    // R + C + T - 2 (SCALE-Sim v2's output-stationary fold).
    assertThat(os.folds(64, 64, 100).demandCycles()).isEqualTo(4L * (32 + 32 + 100 - 2));
    // Output stationary keeps the same 128 x 512 outputs in 4 folds of 128 x 128 and streams K = 128.
    HardwareSpec sysOs = hw("trn2", "chip.core.tensor.type=systolic", "chip.core.tensor.latency_cycles=0",
        "chip.core.tensor.dataflow=output_stationary");
    ProgramBuilder o = new ProgramBuilder("os", 16);
    o.core(0).add(new Instruction.MatMul(W, X, P, false));
    assertThat(run(sysOs, o.build())).isEqualTo(new ClockDomain(2_400_000_000L).tickOf(4L * (128 + 128 + 128 - 2)));
  }

  @Test
  void singleDmaIsDescriptorPlusBytesOverBandwidthPlusLatency() {
    HardwareSpec trn2 = hw("trn2");
    long bytes = 8 * 4096;
    ProgramBuilder b = new ProgramBuilder("dma", 16);
    b.core(0).dma(0, new Instruction.DmaCopy(TensorRef.hbm(8, 2048, DType.BF16), TensorRef.sbuf(8, 2048, DType.BF16)));
    long end = run(trn2, b.build());
    double expectPs = 850_000 + bytes / 23e9 * 1e12 + 450_000;
    assertThat((double) end).isCloseTo(expectPs, within(2.0));
  }

  /** Relative DMA throughput of a stream of 128-partition loads spread over 16 queues. */
  static double streamThroughput(HardwareSpec hw, int bytesPerPartition) {
    ProgramBuilder b = new ProgramBuilder("stream", 16);
    int loads = 64;
    for (int i = 0; i < loads; i++) {
      for (int q = 0; q < 16; q++) {
        b.core(0).dma(q, new Instruction.DmaCopy(TensorRef.hbm(8, bytesPerPartition, DType.INT8),
            TensorRef.sbuf(8, bytesPerPartition, DType.INT8)));
      }
    }
    long end = run(hw, b.build());
    return loads * 128.0 * bytesPerPartition / end;
  }

  /** The N-DMA figure on Trn2 (descriptor cost derived from it) and on Trn1 (descriptor cost fitted to the NKI matmul tutorial). */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"trn1", "trn2"})
  void dmaSizeCurveRisesLinearlyThenSaturates(String name) {
    HardwareSpec trn2 = hw(name);
    double full = streamThroughput(trn2, 32768);
    double[] rel = new double[16];
    int[] sizes = {32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};
    for (int i = 0; i < sizes.length; i++) {
      rel[i] = streamThroughput(trn2, sizes[i]) / full;
    }
    // Published curve (trainium-facts 2.10): 0.01 at 32 B, 0.21 at 512 B, 0.42 at 1 KiB, 0.82 at 2 KiB, 0.97 at 4 KiB.
    assertThat(rel[0]).isBetween(0.005, 0.03);
    assertThat(rel[4]).isBetween(0.15, 0.27);
    assertThat(rel[5]).isBetween(0.33, 0.5);
    assertThat(rel[6]).isBetween(0.7, 0.95);
    assertThat(rel[7]).isGreaterThan(0.9);
    assertThat(rel[9]).isGreaterThan(0.95);
    // Proportional below the knee: doubling the size doubles throughput.
    assertThat(rel[5] / rel[4]).isCloseTo(2.0, within(0.2));
  }

  @Test
  void independentEnginesOverlapDependentOnesSerialize() {
    HardwareSpec trn2 = hw("trn2", "chip.core.tensor.latency_cycles=0", "chip.core.vector.latency_cycles=0");
    TensorRef v = TensorRef.sbuf(128, 4096, DType.FP32);
    long mm = new ClockDomain(2_400_000_000L).tickOf(512L * 8);
    long vec = new ClockDomain(960_000_000L).tickOf(4096);
    ProgramBuilder ind = new ProgramBuilder("independent", 16);
    for (int i = 0; i < 8; i++) {
      ind.core(0).add(new Instruction.MatMul(W, X, P, i > 0));
    }
    ind.core(0).add(new Instruction.TensorCopy(EngineKind.VECTOR, v, v));
    assertThat(run(trn2, ind.build())).isEqualTo(Math.max(mm, vec));

    ProgramBuilder dep = new ProgramBuilder("dependent", 16);
    Op last = null;
    for (int i = 0; i < 8; i++) {
      last = dep.core(0).add(new Instruction.MatMul(W, X, P, i > 0));
    }
    dep.core(0).add(new Instruction.TensorCopy(EngineKind.VECTOR, v, v), last);
    long end = run(trn2, dep.build());
    // The vector engine starts at the first vector clock edge after the matmuls end.
    ClockDomain vc = new ClockDomain(960_000_000L);
    assertThat(end).isEqualTo(vc.tickOf(vc.cycleAtOrAfter(mm) + 4096));
    StatsSnapshot s = stats(trn2, dep.build());
    assertThat(s.get("chip0.nc0.vector.stall_wait_tensor_ps")).isCloseTo(mm, within(1.0));
  }

  /** k cores each stream the same bytes; with HBM the bottleneck, time grows about k-fold. */
  @Test
  void hbmContentionSlowsCoresDown() {
    HardwareSpec slow = hw("trn2", "chip.hbm.bandwidth=200GB/s", "chip.hbm.efficiency=1.0");
    long[] t = new long[9];
    for (int k : new int[] {1, 2, 4, 8}) {
      ProgramBuilder b = new ProgramBuilder("stream", 16);
      for (int c = 0; c < k; c++) {
        for (int i = 0; i < 8; i++) {
          for (int q = 0; q < 16; q++) {
            b.core(c).dma(q, new Instruction.DmaCopy(TensorRef.hbm(8, 32768, DType.INT8), TensorRef.sbuf(8, 32768, DType.INT8)));
          }
        }
      }
      StatsSnapshot s = stats(slow, b.build());
      t[k] = (long) s.get("sim.end_ps");
      double bytes = k * 8 * 16 * 8 * 32768.0;
      // Never faster than the shared bandwidth allows.
      assertThat(t[k]).isGreaterThanOrEqualTo((long) (bytes / 200e9 * 1e12));
    }
    assertThat((double) t[2] / t[1]).isCloseTo(2.0, within(0.1));
    assertThat((double) t[8] / t[1]).isCloseTo(8.0, within(0.4));
    // With the shipped 2.9 TB/s, one core is limited by its own 16 queues, not HBM.
    HardwareSpec trn2 = hw("trn2");
    ProgramBuilder one = new ProgramBuilder("one core", 16);
    for (int i = 0; i < 8; i++) {
      for (int q = 0; q < 16; q++) {
        one.core(0).dma(q, new Instruction.DmaCopy(TensorRef.hbm(8, 32768, DType.INT8), TensorRef.sbuf(8, 32768, DType.INT8)));
      }
    }
    double bw = 8 * 16 * 8 * 32768.0 / run(trn2, one.build()) * 1e12;
    assertThat(bw).isBetween(0.8 * 16 * 23e9, 16 * 23e9);
  }

  @Test
  void semaphoresOrderEnginesAndDeadlocksAreReported() {
    HardwareSpec trn2 = hw("trn2");
    ProgramBuilder ok = new ProgramBuilder("sem", 16);
    ok.core(0).add(new Instruction.SemWait(EngineKind.VECTOR, 3, 1));
    ok.core(0).add(new Instruction.TensorCopy(EngineKind.VECTOR, X, X));
    ok.core(0).add(new Instruction.MatMul(W, X, P, false));
    ok.core(0).add(new Instruction.SemSignal(EngineKind.TENSOR, 3));
    StatsSnapshot s = stats(trn2, ok.build());
    assertThat(s.get("chip0.nc0.vector.stall_wait_semaphore_ps")).isPositive();

    ProgramBuilder stuck = new ProgramBuilder("stuck", 16);
    stuck.core(0).add(new Instruction.SemWait(EngineKind.VECTOR, 1, 2));
    stuck.core(0).add(new Instruction.SemSignal(EngineKind.SCALAR, 1));
    assertThatThrownBy(() -> run(trn2, stuck.build()))
        .isInstanceOf(ProgramException.class)
        .hasMessageContaining("deadlock")
        .hasMessageContaining("core0.vector#0 sem_wait waits for semaphore 1 >= 2 (now 1)");
  }

  @Test
  void aBarrierIsReusableEachRoundWaitsForEveryParticipant() {
    // Scalar: copy, barrier, copy, barrier. Vector: barrier, barrier, copy. In round two the vector
    // engine must wait for the scalar's second copy, so the three copies run one after another.
    // (The bug: arrivals were counted forever, so round two passed at once and the vector copy
    // overlapped the scalar's second copy.)
    HardwareSpec trn2 = hw("trn2");
    // The same order written as explicit dependencies: vector copy after the scalar's second copy.
    ProgramBuilder deps = new ProgramBuilder("deps", 16);
    deps.core(0).add(new Instruction.TensorCopy(EngineKind.SCALAR, X, X));
    Op second = deps.core(0).add(new Instruction.TensorCopy(EngineKind.SCALAR, X, X));
    deps.core(0).add(new Instruction.TensorCopy(EngineKind.VECTOR, X, X), second);
    long serial = run(trn2, deps.build());
    ProgramBuilder free = new ProgramBuilder("free", 16);
    free.core(0).add(new Instruction.TensorCopy(EngineKind.SCALAR, X, X));
    free.core(0).add(new Instruction.TensorCopy(EngineKind.SCALAR, X, X));
    free.core(0).add(new Instruction.TensorCopy(EngineKind.VECTOR, X, X));
    long overlapped = run(trn2, free.build());
    assertThat(serial).isGreaterThan(overlapped);
    ProgramBuilder b = new ProgramBuilder("rounds", 16);
    b.core(0).add(new Instruction.TensorCopy(EngineKind.SCALAR, X, X));
    b.core(0).add(new Instruction.Barrier(EngineKind.SCALAR, 5, 2));
    b.core(0).add(new Instruction.TensorCopy(EngineKind.SCALAR, X, X));
    b.core(0).add(new Instruction.Barrier(EngineKind.SCALAR, 5, 2));
    b.core(0).add(new Instruction.Barrier(EngineKind.VECTOR, 5, 2));
    b.core(0).add(new Instruction.Barrier(EngineKind.VECTOR, 5, 2));
    b.core(0).add(new Instruction.TensorCopy(EngineKind.VECTOR, X, X));
    long total = run(trn2, b.build());
    // A barrier waits for engines to reach it (engine free), a dependency for the result (plus the
    // scalar engine's result latency), so the barrier version is the serial one minus that latency.
    var scalar = trn2.chip().core().scalar();
    long latency = new ClockDomain(scalar.clock().hertz()).ticksFor(scalar.latencyCycles());
    assertThat(total).isGreaterThanOrEqualTo(serial - latency).isGreaterThan(overlapped);
    // A third round that only one engine reaches is a deadlock, not a pass.
    ProgramBuilder stuck = new ProgramBuilder("stuck", 16);
    stuck.core(0).add(new Instruction.Barrier(EngineKind.SCALAR, 5, 2));
    stuck.core(0).add(new Instruction.Barrier(EngineKind.VECTOR, 5, 2));
    stuck.core(0).add(new Instruction.Barrier(EngineKind.VECTOR, 5, 2));
    assertThatThrownBy(() -> run(trn2, stuck.build())).isInstanceOf(ProgramException.class)
        .hasMessageContaining("deadlock").hasMessageContaining("barrier 5 (1 of 2 arrived)");
  }

  @Test
  void dependencyCycleIsRejectedBeforeRunning() {
    ProgramBuilder b = new ProgramBuilder("cycle", 16);
    // vector#0 waits for tensor#1; tensor#1 follows tensor#0, which waits for vector#0.
    Op v0Handle = new Op(trnsim.isa.CoreProgram.TENSOR, 1);
    Op v0 = b.core(0).add(new Instruction.TensorCopy(EngineKind.VECTOR, X, X), v0Handle);
    b.core(0).add(new Instruction.MatMul(W, X, P, false), v0);
    b.core(0).add(new Instruction.MatMul(W, X, P, false));
    assertThatThrownBy(b::build).isInstanceOf(ProgramException.class).hasMessageContaining("dependency cycle");
  }

  @Test
  void buffersThatExceedSbufAreRejected() {
    HardwareSpec trn2 = hw("trn2");
    ProgramBuilder b = new ProgramBuilder("big", 16);
    b.core(0).alloc(MemSpace.SBUF, "huge", 128, 200 * 1024);
    b.core(0).alloc(MemSpace.SBUF, "more", 128, 30 * 1024);
    b.core(0).add(new Instruction.MatMul(W, X, P, false));
    assertThatThrownBy(() -> run(trn2, b.build())).isInstanceOf(ProgramException.class)
        .hasMessageContaining("235520 bytes per SBUF partition but the core has 229376");
  }

  private static Program mixedProgram() {
    ProgramBuilder b = new ProgramBuilder("mixed", 16);
    for (int c = 0; c < 4; c++) {
      var core = b.core(c);
      Op prev = null;
      for (int i = 0; i < 40; i++) {
        Op ld = core.dma(i % 16, new Instruction.DmaCopy(TensorRef.hbm(128, 1024, DType.BF16), TensorRef.sbuf(128, 1024, DType.BF16)));
        Op mm = core.add(new Instruction.MatMul(W, X, P, false), ld);
        prev = core.add(new Instruction.TensorTensor(EngineKind.VECTOR, P, X, X, AluOp.ADD), mm, prev);
        core.dma((i + 7) % 16, new Instruction.DmaCopy(TensorRef.sbuf(128, 512, DType.BF16), TensorRef.hbm(128, 512, DType.BF16)), prev);
      }
    }
    return b.build();
  }

  @Test
  void identicalResultsTwiceAndConcurrently() throws Exception {
    HardwareSpec trn2 = hw("trn2");
    StatsSnapshot first = stats(trn2, mixedProgram());
    assertThat(stats(trn2, mixedProgram()).values()).isEqualTo(first.values());
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<StatsSnapshot>> fs = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        fs.add(pool.submit(() -> stats(trn2, mixedProgram())));
      }
      for (Future<StatsSnapshot> f : fs) {
        assertThat(f.get().values()).isEqualTo(first.values());
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void traceIsValidTraceEventJson() throws Exception {
    HardwareSpec trn2 = hw("trn2");
    StringWriter w = new StringWriter();
    try (ChromeTraceSink sink = new ChromeTraceSink(w, 0, Long.MAX_VALUE, 1_000_000)) {
      new ChipModel(trn2, mixedProgram(), new Simulation(), sink, null).run();
    }
    JsonNode root = new ObjectMapper().readTree(w.toString());
    JsonNode events = root.get("traceEvents");
    assertThat(events.isArray()).isTrue();
    int slices = 0;
    int meta = 0;
    int counters = 0;
    for (JsonNode e : events) {
      String ph = e.get("ph").asText();
      assertThat(e.has("pid")).isTrue();
      switch (ph) {
        case "X" -> {
          slices++;
          assertThat(e.get("dur").asDouble()).isGreaterThanOrEqualTo(0);
          assertThat(e.get("ts").asDouble()).isGreaterThanOrEqualTo(0);
          assertThat(e.has("tid")).isTrue();
        }
        case "M" -> meta++;
        case "C" -> counters++;
        default -> throw new AssertionError("unexpected phase " + ph);
      }
    }
    // 4 cores x 40 x (load + matmul + add + store) = 640 slices.
    assertThat(slices).isEqualTo(640);
    assertThat(meta).isPositive();
    assertThat(counters).isPositive();
  }
}
