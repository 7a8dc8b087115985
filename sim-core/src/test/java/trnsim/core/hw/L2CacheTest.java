package trnsim.core.hw;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.core.config.ChipSpec;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.KernelSimulator;
import trnsim.core.run.RunOptions;
import trnsim.core.run.RunResult;
import trnsim.core.run.Targets;
import trnsim.isa.DType;
import trnsim.isa.Program;
import trnsim.isa.lower.GemmLowering;
import trnsim.isa.lower.GemmSpec;
import trnsim.isa.lower.StreamLowering;

/** The shared on-chip cache as a reuse filter: operand re-reads hit, streams do not, no L2 = old model. */
class L2CacheTest {
  static final HardwareLoader LOADER = new HardwareLoader(Path.of("..", "configs").toAbsolutePath().normalize());

  static HardwareSpec withoutL2(HardwareSpec hw) {
    ChipSpec c = hw.chip();
    return new HardwareSpec(hw.name(), hw.description(), new ChipSpec(c.cores(), c.core(), c.hbm(), null, c.power()), hw.system());
  }

  @Test
  void gemmReReadsHitTheL2AndOnlyCompulsoryBytesComeFromHbm() {
    HardwareSpec h100 = LOADER.load("h100", List.of()).spec();
    Program p = GemmLowering.lower(Targets.of(h100), new GemmSpec(1024, 1024, 1024, DType.BF16, false, false), 132);
    double hit = ChipModel.l2HitFraction(p);
    assertThat(hit).isBetween(0.5, 1.0);
    RunResult with = KernelSimulator.run(h100, p, DType.BF16, RunOptions.defaults());
    RunResult without = KernelSimulator.run(withoutL2(h100), p, DType.BF16, RunOptions.defaults());
    // With the L2, HBM moves the compulsory bytes (inputs once, output once); without it, every re-read.
    assertThat(with.hbmBytes()).isCloseTo(p.hbmBytesMin(), within(p.hbmBytesMin() * 1e-6));
    assertThat(without.hbmBytes()).isGreaterThan(1.5 * p.hbmBytesMin());
    assertThat(with.timeSeconds()).isLessThan(without.timeSeconds());
    // Hits plus misses are the bytes the DMAs read.
    double hits = with.stats().sumEndingWith(".l2_hit_bytes");
    double reads = with.stats().sumEndingWith(".hbm_read_bytes");
    assertThat(hits / (hits + reads)).isCloseTo(hit, within(1e-9));
    assertThat(without.stats().sumEndingWith(".l2_hit_bytes")).isZero();
  }

  @Test
  void aStreamReadOnceGetsNoHits() {
    HardwareSpec h100 = LOADER.load("h100", List.of()).spec();
    Program p = StreamLowering.elementwise(Targets.of(h100), "add", 1 << 20, DType.BF16, 132);
    assertThat(ChipModel.l2HitFraction(p)).isZero();
    RunResult with = KernelSimulator.run(h100, p, DType.BF16, RunOptions.defaults());
    RunResult without = KernelSimulator.run(withoutL2(h100), p, DType.BF16, RunOptions.defaults());
    assertThat(with.timeSeconds()).isEqualTo(without.timeSeconds());
    assertThat(with.hbmBytes()).isEqualTo(without.hbmBytes());
  }
}
