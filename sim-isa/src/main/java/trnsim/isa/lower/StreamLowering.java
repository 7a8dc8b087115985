package trnsim.isa.lower;

import java.util.ArrayList;
import java.util.List;
import trnsim.isa.ActFunc;
import trnsim.isa.AluOp;
import trnsim.isa.DType;
import trnsim.isa.EngineKind;
import trnsim.isa.Instruction;
import trnsim.isa.MemSpace;
import trnsim.isa.Op;
import trnsim.isa.Program;
import trnsim.isa.ProgramBuilder;
import trnsim.isa.TensorRef;
import trnsim.isa.target.TargetSpec;
import trnsim.isa.workload.WorkloadException;

/**
 * Streaming kernels: a plain HBM-to-HBM copy and element-wise operations. Data is split evenly over
 * the cores; each core streams [128 x F] tiles through a ring of SBUF buffers (load, compute,
 * store), so loads of later tiles overlap compute and stores of earlier ones.
 */
public final class StreamLowering {
  /** Elements per partition per tile: 8 KiB of bf16, past the DMA size-curve knee. */
  static final int TILE_FREE = 4096;
  static final int RING = 3;

  private StreamLowering() {}

  /** Loads use the first half of the queues, stores the second (see Kernels.spreadDma). */
  static int half(TargetSpec t) {
    return Math.max(1, t.dmaQueues() / 2);
  }

  /** {@code copy:bytes=...}: DMA from HBM to HBM in [128 x 32 KiB] chunks. */
  public static Program copy(TargetSpec t, long bytes, int cores) {
    Kernels.guard("copy", Kernels.tiles(bytes, 128.0 * 32 * 1024) * t.dmaQueues());
    cores = Math.max(1, Math.min(cores, t.cores()));
    ProgramBuilder pb = new ProgramBuilder("copy bytes=" + bytes, t.dmaQueues());
    long chunk = 128L * 32 * 1024;
    long chunks = Kernels.ceilDiv(bytes, chunk);
    int used = (int) Math.min(cores, chunks);
    for (int c = 0; c < used; c++) {
      var core = pb.core(c);
      long myChunks = chunks / used + (c < chunks % used ? 1 : 0);
      long first = c * (chunks / used) + Math.min(c, chunks % used);
      for (long i = 0; i < myChunks; i++) {
        long off = (first + i) * chunk;
        long len = Math.min(chunk, bytes - off);
        int parts = (int) Math.min(128, len);
        long pp = Kernels.ceilDiv(len, parts);
        // the last partition may hold fewer bytes; the model moves whole partitions
        Kernels.spreadDma(core, t.dmaQueues(), MemSpace.HBM, MemSpace.HBM, parts, pp);
      }
    }
    pb.flops(0).hbmBytesMin(2 * bytes).note("HBM -> HBM DMA in " + chunks + " chunks of up to 4 MiB over " + used + " cores x "
        + t.dmaQueues() + " queues");
    return pb.build();
  }

  /**
   * {@code elementwise:op=gelu|silu|exp|add|mul|bias,numel=...,dtype=bf16}. {@code bias} adds a row
   * vector broadcast over the rows: one pass like a unary op (the vector stays in SBUF).
   */
  public static Program elementwise(TargetSpec t, String op, long numel, DType dtype, int cores) {
    Kernels.guard("elementwise", Kernels.tiles(numel, 128.0 * TILE_FREE) * 3 * t.dmaQueues());
    boolean binary = op.equals("add") || op.equals("mul");
    ActFunc func = switch (op) {
      case "gelu" -> ActFunc.GELU;
      case "silu" -> ActFunc.SILU;
      case "exp" -> ActFunc.EXP;
      case "relu" -> ActFunc.RELU;
      case "add", "mul", "bias" -> ActFunc.IDENTITY;
      default -> throw new WorkloadException("workload", "elementwise.op", op, "must be gelu, silu, exp, relu, add, mul or bias");
    };
    cores = Math.max(1, Math.min(cores, t.cores()));
    ProgramBuilder pb = new ProgramBuilder("elementwise op=" + op + " numel=" + numel + " " + dtype.label(), t.dmaQueues());
    // [partitions x F] tiles; F = 4096 unless the ring would not fit one SBUF partition (small-SRAM targets such
    // as the H100 template), then the largest power of two that fits.
    int partitions = Math.min(128, t.partitions());
    int tileFree = TILE_FREE;
    while (tileFree > 1 && RING * dtype.bytes(tileFree) * (binary ? 3 : 2) > t.sbufBytesPerPartition()) {
      tileFree /= 2;
    }
    long perTile = (long) partitions * tileFree;
    long tiles = Kernels.ceilDiv(numel, perTile);
    int used = (int) Math.min(cores, tiles);
    long eb = dtype.bytes(tileFree);
    for (int c = 0; c < used; c++) {
      var core = pb.core(c);
      core.alloc(MemSpace.SBUF, "ring", partitions, RING * eb * (binary ? 3 : 2));
      long myTiles = tiles / used + (c < tiles % used ? 1 : 0);
      long first = c * (tiles / used) + Math.min(c, tiles % used);
      List<Op[]> stores = new ArrayList<>();
      for (long i = 0; i < myTiles; i++) {
        long elems = Math.min(perTile, numel - (first + i) * perTile);
        int parts = (int) Math.min(partitions, elems);
        long free = Kernels.ceilDiv(elems, parts);
        long bytesPP = dtype.bytes(free);
        Op[] war = i >= RING ? stores.get((int) (i - RING)) : new Op[0];
        Op[] in0 = Kernels.spreadDma(core, 0, half(t), MemSpace.HBM, MemSpace.SBUF, parts, bytesPP, war);
        Op[] deps = in0;
        TensorRef x = TensorRef.sbuf(parts, free, dtype);
        Op compute;
        if (binary) {
          Op[] in1 = Kernels.spreadDma(core, 0, half(t), MemSpace.HBM, MemSpace.SBUF, parts, bytesPP, war);
          deps = Kernels.concat(in0, in1);
          compute = core.add(new Instruction.TensorTensor(EngineKind.VECTOR, x, x, x,
              op.equals("add") ? AluOp.ADD : AluOp.MULTIPLY), deps);
        } else {
          compute = core.add(new Instruction.Activation(x, x, func, false), deps);
        }
        stores.add(Kernels.spreadDma(core, half(t), t.dmaQueues() - half(t), MemSpace.SBUF, MemSpace.HBM, parts, bytesPP, compute));
      }
    }
    long bytes = dtype.bytes(numel) * (binary ? 3 : 2);
    pb.flops(0).hbmBytesMin(bytes).note((binary ? "vector tensor_tensor" : "scalar activation " + func)
        + " over [" + partitions + " x " + tileFree + "] tiles, " + RING + "-deep SBUF ring per core, " + used + " cores");
    return pb.build();
  }
}
