package trnsim.core.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareSpec;
import trnsim.core.stats.StatsSnapshot;

/**
 * The fused Mamba kernels simulated on the shipped trn1 config: VectorE work against the N-ISA-OLD
 * cost formulas summed by hand, time against every engine's busy time, HBM traffic against the
 * kernel's closed form (plus exactly the planner's spill and reload bytes), the launch overhead,
 * and the 21 published measurements against the thresholds.
 */
class MambaKernelSimTest {
  static final HardwareSpec TRN1 = LoweringSimTest.hw("trn1");
  static final double LAUNCH_S = TRN1.chip().core().launchOverhead().seconds();

  static WorkloadResult run(String w) {
    return LoweringSimTest.run(TRN1, w);
  }

  static StatsSnapshot stats(WorkloadResult r) {
    return r.steps().get(0).result().stats();
  }

  static double stat(WorkloadResult r, String name) {
    return stats(r).getOrZero("chip0.nc0." + name);
  }

  /**
   * VectorE cycles of one kernel from the N-ISA-OLD rules, fp32: tensor_tensor 2N (N with the
   * broadcast read from PSUM, which happens up to one 512-column bank), tensor_tensor_scan 2N,
   * memset and copy N, each at least MIN_II = 64; delta*u hoisted out of the state loop in v2/v3.
   */
  static long vectorCycles(int version, long channelTiles, long seq, long states) {
    long ones = 128; // memset of the [1 x 128] ones row
    if (version == 1) {
      long body = 2 * seq + seq + 2 * seq + seq + 2 * seq; // deltaU, deltaBu (PSUM), scan, scanC (PSUM), accum
      return ones + channelTiles * seq + channelTiles * states * body;
    }
    if (version == 2) {
      long bcast = seq <= 512 ? seq : 2 * seq;
      long body = bcast + 2 * seq + bcast + 2 * seq;
      return ones + channelTiles * (seq + 2 * seq) + channelTiles * states * body;
    }
    long tiles = seq / 512;
    long body = 512 + 1024 + 64 + 512 + 1024; // deltaBu, scan, carry copy, scanC, accum
    return ones + channelTiles * (seq + tiles * 1024) + channelTiles * states * (64 + tiles * body);
  }

  @Test
  void vectorEngineWorkIsTheCostFormulaSummedOverTheInstructions() {
    String[][] cases = {{"v1", "512", "512"}, {"v2", "512", "512"}, {"v2", "256", "2048"}, {"v3", "512", "512"},
        {"v3", "256", "2048"}};
    for (String[] c : cases) {
      WorkloadResult r = run("mamba:channels=" + c[1] + ",seq=" + c[2] + ",version=" + c[0]);
      long expected = vectorCycles(Integer.parseInt(c[0].substring(1)), Long.parseLong(c[1]) / 128, Long.parseLong(c[2]), 16);
      assertThat((long) stat(r, "vector.busy_cycles")).as(String.join(" ", c)).isEqualTo(expected);
    }
  }

  @Test
  void timeIsNeverBelowAnyEngineAndTrafficIsTheClosedFormPlusSpills() {
    for (String w : new String[] {"mamba:channels=1024,seq=2048,version=v2", "mamba:channels=1024,seq=2048,version=v3",
        "mamba:channels=512,seq=512,version=v1", "mamba:channels=256,seq=8192,version=v2"}) {
      WorkloadResult r = run(w);
      double kernel = r.steps().get(0).result().timeSeconds();
      for (String e : new String[] {"vector", "scalar", "tensor", "gpsimd"}) {
        assertThat(stat(r, e + ".busy_ps") / 1e12).as(w + " " + e).isLessThanOrEqualTo(kernel);
      }
      assertThat(r.timeSeconds()).isCloseTo(kernel + LAUNCH_S, within(1e-12));
    }
    // v2/v3 without spills: 52 KiB x L + 256 KiB at 4096 channels; per channel tile in general.
    for (String v : new String[] {"v2", "v3"}) {
      WorkloadResult r = run("mamba:channels=4096,seq=1024,version=" + v);
      assertThat(r.hbmBytes()).as(v).isEqualTo(52.0 * 1024 * 1024 + 256 * 1024);
    }
    // v2 at 8192: the closed form plus the spill stores and reloads, which are DMAs like any other.
    WorkloadResult spill = run("mamba:channels=256,seq=8192,version=v2");
    double closed = 4.0 * (3 * 256 * 8192 + 2 * 16 * 8192 * 2 + 256 * 16);
    assertThat(spill.hbmBytes()).isGreaterThan(closed);
    assertThat(spill.steps().get(0).result().notes().get(1)).contains("reloaded");
  }

  @Test
  void theLaunchOverheadIsChargedOncePerWorkloadAndOnlyWhereConfigured() {
    assertThat(LAUNCH_S).isPositive();
    WorkloadResult r = run("mamba:channels=256,seq=512,version=v1");
    assertThat(r.timeSeconds() - r.steps().get(0).result().timeSeconds()).isCloseTo(LAUNCH_S, within(1e-12));
    HardwareSpec trn2 = LoweringSimTest.hw("trn2");
    WorkloadResult r2 = LoweringSimTest.run(trn2, "mamba:channels=256,seq=512,version=v1");
    assertThat(r2.timeSeconds()).isEqualTo(r2.steps().get(0).result().timeSeconds());
  }

  /** The 21 elementwise_scan_mamba records: median |error| at most 10%, none worse than 30% (issue 18). */
  @Test
  void publishedMeasurementsAreReproduced() throws Exception {
    JsonNode records = new ObjectMapper().readTree(Path.of("..", "calibration", "trainium", "measurements.json").toFile());
    List<Double> errors = new ArrayList<>();
    StringBuilder table = new StringBuilder();
    for (JsonNode rec : records) {
      if (!rec.path("kind").asText().equals("elementwise_scan_mamba")) {
        continue;
      }
      JsonNode p = rec.path("params");
      String w = String.format(Locale.ROOT, "mamba:channels=%d,seq=%d,state=%d,batch=%d,version=%s,dtype=%s,cores=%d%s",
          p.path("channels").asLong(), p.path("seq_len").asLong(), p.path("state_size").asLong(), p.path("batch").asLong(),
          p.path("kernel_version").asText().replace("mamba_", ""), p.path("dtype").asText(),
          rec.path("hardware").path("neuron_cores_used").asInt(1),
          p.has("seq_len_tile") ? ",seq_tile=" + p.path("seq_len_tile").asLong() : "");
      double measured = rec.path("value").asDouble() * (rec.path("unit").asText().equals("us") ? 1e-6 : 1e-3);
      double predicted = run(w).timeSeconds();
      double err = predicted / measured - 1;
      errors.add(Math.abs(err));
      table.append(String.format(Locale.ROOT, "%s: %.4g vs %.4g ms (%+.1f%%)%n", rec.path("id").asText(), predicted * 1e3,
          measured * 1e3, 100 * err));
      assertThat(Math.abs(err)).as(rec.path("id").asText() + "\n" + table).isLessThanOrEqualTo(0.30);
    }
    assertThat(errors).hasSize(21);
    Collections.sort(errors);
    assertThat(errors.get(errors.size() / 2)).as("median |error|\n" + table).isLessThanOrEqualTo(0.10);
  }
}
