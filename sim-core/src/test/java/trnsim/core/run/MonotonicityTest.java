package trnsim.core.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.isa.lower.Workloads;
import trnsim.isa.workload.WorkloadSpec;

/**
 * More of a resource never makes the same workload slower: SBUF, HBM bandwidth, DMA queue
 * bandwidth, cores or clock. A seeded property test over configs and GEMM shapes. (The bug: the
 * tiling chooser minimised traffic only, so a 4096^3 GEMM on trn2 ran slower with 24 MiB of SBUF
 * than with 12 MiB at 2-4 TB/s.)
 */
class MonotonicityTest {
  static final HardwareLoader LOADER = new HardwareLoader(Path.of("..", "configs").toAbsolutePath().normalize());

  static double time(String hw, String workload, List<String> sets) {
    HardwareSpec h = LOADER.load(hw, sets).spec();
    return WorkloadRunner.run(h, Workloads.lower(Targets.of(h), WorkloadSpec.parse(workload, "test"), null),
        RunOptions.defaults()).timeSeconds();
  }

  private static List<String> with(List<String> base, String set) {
    List<String> l = new ArrayList<>(base);
    l.add(set);
    return l;
  }

  @Test
  void theReadmeSweepIsMonotoneInSbuf() {
    for (String bw : new String[] {"2TB/s", "4TB/s"}) {
      List<String> base = List.of("chip.hbm.bandwidth=" + bw);
      double small = time("trn2", "gemm:m=4096,k=4096,n=4096", with(base, "chip.core.sbuf.size=12MiB"));
      double large = time("trn2", "gemm:m=4096,k=4096,n=4096", with(base, "chip.core.sbuf.size=24MiB"));
      assertThat(large).as("24 MiB vs 12 MiB at %s", bw).isLessThanOrEqualTo(small);
    }
  }

  @Test
  void moreOfAnyResourceIsNeverSlower() {
    SplittableRandom rnd = new SplittableRandom(Long.getLong("monotonicity.seed", 16L));
    String[] hws = {"trn1", "trn2", "trn3"};
    long[] dims = {256, 512, 768, 1024, 1536, 2048};
    int cases = Integer.getInteger("monotonicity.cases", 6);
    for (int i = 0; i < cases; i++) {
      String hw = hws[rnd.nextInt(hws.length)];
      String gemm = "gemm:m=" + dims[rnd.nextInt(dims.length)] + ",k=" + dims[rnd.nextInt(dims.length)] + ",n="
          + dims[rnd.nextInt(dims.length)];
      HardwareSpec spec = LOADER.load(hw, List.of()).spec();
      long sbufMiB = spec.chip().core().sbuf().size().bytes() >> 20;
      double hbmTBs = spec.chip().hbm().bandwidth().bytesPerSecond() / 1e12;
      double ghz = spec.chip().core().tensor().clock().gigahertz();
      double base = time(hw, gemm, List.of());
      String what = hw + " " + gemm;
      assertThat(time(hw, gemm, List.of("chip.core.sbuf.size=" + 2 * sbufMiB + "MiB"))).as("%s, 2x SBUF", what)
          .isLessThanOrEqualTo(base);
      assertThat(time(hw, gemm, List.of("chip.core.sbuf.size=" + (sbufMiB + sbufMiB / 3) + "MiB"))).as("%s, 4/3 SBUF", what)
          .isLessThanOrEqualTo(base);
      assertThat(time(hw, gemm, List.of(String.format(java.util.Locale.ROOT, "chip.hbm.bandwidth=%.3fTB/s", 1.5 * hbmTBs))))
          .as("%s, 1.5x HBM", what).isLessThanOrEqualTo(base);
      assertThat(time(hw, gemm, List.of(String.format(java.util.Locale.ROOT, "chip.core.tensor.clock=%.4fGHz", 1.25 * ghz))))
          .as("%s, 1.25x tensor clock", what).isLessThanOrEqualTo(base);
      assertThat(time(hw, gemm, List.of("chip.cores=" + 2 * spec.chip().cores()))).as("%s, 2x cores", what)
          .isLessThanOrEqualTo(base);
    }
  }
}
