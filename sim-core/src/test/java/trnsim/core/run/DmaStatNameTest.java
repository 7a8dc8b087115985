package trnsim.core.run;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The hand-written stat-name test in KernelSimulator agrees with the regular expressions it replaced. */
class DmaStatNameTest {
  @Test
  void agreesWithTheRegex() {
    String[] names = {"chip0.nc0.dma0.busy_ps", "chip0.nc7.dma15.busy_ps", "chip0.nc0.dma.busy_ps", "dma0.busy_ps",
        ".dma0.busy_ps", "chip0.nc0.xdma0.busy_ps", "chip0.nc0.dma0x.busy_ps", "chip0.nc0.dma0.descriptor_busy_ps",
        "chip0.nc0.dma12.instructions", "chip0.nc0.tensor.instructions", "chip0.nc0.dma1.dma2.busy_ps",
        "chip0.nc0.dma٣.busy_ps", "chip0.nc0.dma0busy_ps", "a.dma9.instructions.x", ".dma1.instructions", ""};
    for (String n : names) {
      for (String suffix : new String[] {".busy_ps", ".descriptor_busy_ps", ".instructions"}) {
        boolean regex = n.matches(".*\\.dma\\d+" + java.util.regex.Pattern.quote(suffix));
        assertThat(KernelSimulator.isDmaStat(n, suffix)).as(n + " / " + suffix).isEqualTo(regex);
      }
    }
  }
}
