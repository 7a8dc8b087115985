package trnsim.core.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.engine.Simulation;
import trnsim.core.hw.ChipModel;
import trnsim.core.trace.TraceSink;
import trnsim.isa.DType;
import trnsim.isa.Program;
import trnsim.isa.lower.GemmLowering;
import trnsim.isa.lower.GemmSpec;

/**
 * Symmetric core classes against simulating every core: cores running one program start together
 * and meet only in the shared HBM bandwidth, so one weighted representative per class must give the
 * same run. Checked to the tick and to the count, on every statistic the chip reports (per core,
 * per engine, per DMA queue, the HBM's, the event count), on ragged grids with two or more classes.
 */
class CoreClassesTest {
  static final HardwareLoader LOADER = new HardwareLoader(Path.of(System.getProperty("trnsim.home", "..")).resolve("configs"));

  record Case(String hw, long m, long k, long n) {}

  static final List<Case> GOLDEN = List.of(
      new Case("h100", 2048, 2048, 2048),
      new Case("h100", 4096, 4096, 4096),
      new Case("h100", 8192, 1024, 8192),
      new Case("trn2", 4096, 4096, 4096),
      new Case("trn2", 4096 + 128, 2048, 4096 + 512));

  @Test
  void classesEqualEveryCoreSimulated() {
    for (Case c : GOLDEN) {
      HardwareSpec hw = LOADER.load(c.hw(), List.of()).spec();
      int cores = Targets.of(hw).cores();
      Program p = GemmLowering.lower(Targets.of(hw), new GemmSpec(c.m(), c.k(), c.n(), DType.BF16, false, false), cores);
      ChipModel full = new ChipModel(hw, p, new Simulation(), TraceSink.NONE, null, false);
      ChipModel classes = new ChipModel(hw, p, new Simulation(), TraceSink.NONE, null, true);
      long fullEnd = full.run();
      long classEnd = classes.run();
      String what = c + " (" + classes.simulatedCores() + " of " + full.simulatedCores() + " cores simulated)";
      System.out.println("core classes " + what);
      assertThat(classes.simulatedCores()).as(what).isLessThan(full.simulatedCores());
      assertThat(classEnd).as(what).isEqualTo(fullEnd);
      assertThat(classes.stats().values()).as(what).isEqualTo(full.stats().values());
    }
  }

  @Test
  void coresWithDistinctProgramsAreEachSimulated() {
    // trn2's two-core GEMM of one tile column per core: ragged M gives each core its own slab shape.
    HardwareSpec hw = LOADER.load("trn2", List.of()).spec();
    Program p = GemmLowering.lower(Targets.of(hw), new GemmSpec(128 * 3, 512, 512, DType.BF16, false, false), 2);
    ChipModel classes = new ChipModel(hw, p, new Simulation(), TraceSink.NONE, null, true);
    long distinct = p.cores().stream().map(System::identityHashCode).distinct().count();
    assertThat(classes.simulatedCores()).isEqualTo((int) distinct);
  }
}
