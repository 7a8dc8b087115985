package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.SystemSpec;
import trnsim.core.system.Collectives.Algo;
import trnsim.core.system.Collectives.Op;

/** Collective times against the alpha-beta closed forms and the topology's link speeds. */
class CollectivesTest {
  static final HardwareLoader LOADER = new HardwareLoader(Path.of("..", "configs").toAbsolutePath().normalize());

  static SystemSpec sys(String name) {
    return LOADER.load(name, List.of()).spec().system();
  }

  static List<Integer> range(int from, int to, int step) {
    List<Integer> g = new ArrayList<>();
    for (int i = from; i < to; i += step) {
      g.add(i);
    }
    return g;
  }

  @Test
  void ringAllReduceApproachesTheBandwidthTermForLargeMessages() {
    Fabric f = new Fabric(sys("trn2-48xl"), 1); // 4x4 torus, 128 GB/s per link and direction, 1.5 us per hop
    double bytes = 1L << 30;
    var r = Collectives.runOne(f, Op.ALL_REDUCE, range(0, 16, 1), bytes, Algo.RING);
    double bandwidthTerm = 2.0 * 15 / 16 * bytes / 128e9;
    double latencyTerm = 2 * 15 * 1.5e-6;
    assertThat(r.seconds()).isCloseTo(bandwidthTerm + latencyTerm, within(1e-9));
    assertThat(r.seconds() / bandwidthTerm).isBetween(1.0, 1.01);
    // nccl-tests bus bandwidth of a ring on neighbour links approaches the link speed.
    assertThat(r.busBandwidth() / 128e9).isBetween(0.99, 1.0);
  }

  @Test
  void ringAllReduceIsTheLatencyTermForSmallMessages() {
    Fabric f = new Fabric(sys("trn2-48xl"), 1);
    var r = Collectives.runOne(f, Op.ALL_REDUCE, range(0, 16, 1), 1024, Algo.RING);
    assertThat(r.seconds() / (2 * 15 * 1.5e-6)).isBetween(1.0, 1.001);
    assertThat(r.steps()).isEqualTo(30);
  }

  @Test
  void aCollectiveOverSlowerLinksIsSlower() {
    Fabric f = new Fabric(sys("trn2-ultraserver"), 1); // X/Y 128 GB/s, Z (across instances) 64 GB/s
    double bytes = 256L << 20;
    var x = Collectives.runOne(f, Op.ALL_REDUCE, range(0, 4, 1), bytes, Algo.RING);
    var z = Collectives.runOne(f, Op.ALL_REDUCE, range(0, 64, 16), bytes, Algo.RING);
    assertThat(z.seconds()).isGreaterThan(x.seconds());
    assertThat(z.seconds() / x.seconds()).isCloseTo(2.0, within(0.02)); // half the bandwidth, bandwidth-bound
    // EFA between two systems (200 Gbps) is slower still than the NeuronLink ring inside one.
    Fabric two = new Fabric(sys("trn2-48xl"), 2);
    var efa = Collectives.runOne(two, Op.ALL_REDUCE, List.of(0, 16), bytes, Algo.RING);
    var link = Collectives.runOne(two, Op.ALL_REDUCE, List.of(0, 1), bytes, Algo.RING);
    assertThat(efa.seconds()).isGreaterThan(5 * link.seconds());
  }

  @Test
  void autoChoosesByMessageSizeAsTheNeuronRuntime() {
    Fabric f = new Fabric(sys("trn2-48xl"), 1);
    List<Integer> g = range(0, 16, 1);
    assertThat(Collectives.runOne(f, Op.ALL_REDUCE, g, 512 << 10, Algo.AUTO).algo()).isEqualTo(Algo.MESH);
    assertThat(Collectives.runOne(f, Op.ALL_REDUCE, g, 8 << 20, Algo.AUTO).algo()).isEqualTo(Algo.RDH);
    assertThat(Collectives.runOne(f, Op.ALL_REDUCE, g, 1L << 30, Algo.AUTO).algo()).isEqualTo(Algo.KANGARING);
    // Mesh has 2 steps instead of 30, each as long as the farthest peer (2 + 2 hops on a 4x4 torus): latency wins.
    double mesh = Collectives.runOne(f, Op.ALL_REDUCE, g, 4096, Algo.MESH).seconds();
    assertThat(mesh / (2 * 4 * 1.5e-6)).isBetween(1.0, 1.01);
    assertThat(mesh).isLessThan(Collectives.runOne(f, Op.ALL_REDUCE, g, 4096, Algo.RING).seconds() / 3);
    // KangaRing's two counter-rotating rings use both directions of each ring link: about twice a ring's bandwidth.
    double ring = Collectives.runOne(f, Op.ALL_REDUCE, g, 1L << 30, Algo.RING).seconds();
    double kanga = Collectives.runOne(f, Op.ALL_REDUCE, g, 1L << 30, Algo.KANGARING).seconds();
    assertThat(ring / kanga).isCloseTo(2.0, within(0.02));
  }

  @Test
  void switchedFabricAllGatherIsBoundByThePort() {
    Fabric f = new Fabric(sys("trn3-ultraserver-gen1"), 1); // 64 chips, 1.28 TB/s per port and direction
    double bytes = 1L << 30;
    var r = Collectives.runOne(f, Op.ALL_GATHER, range(0, 64, 1), bytes, Algo.RING);
    // 63 ring steps, each one switch hop (1.5 us) plus 1/64 of the buffer through a port.
    assertThat(r.seconds()).isCloseTo(63 * (1.5e-6 + bytes / 64 / 1.28e12), within(1e-9));
  }

  @Test
  void concurrentGroupsShareLinks() {
    Fabric f = new Fabric(sys("trn2-48xl"), 1);
    double bytes = 64L << 20;
    // Two pairs whose routes overlap on the link 1 -> 2: (0 -> 2) and (1 -> 2) on the X ring of row 0.
    var alone = Collectives.run(f, Op.SEND_RECV, List.of(List.of(0, 2)), bytes, Algo.AUTO);
    var shared = Collectives.run(f, Op.SEND_RECV, List.of(List.of(0, 2), List.of(1, 2)), bytes, Algo.AUTO);
    assertThat(shared.seconds() / alone.seconds()).isCloseTo(2.0, within(0.01));
  }

  @Test
  void recursiveHalvingDoublingOnARingOfFourUsesBothDirections() {
    Fabric f = new Fabric(sys("trn2-ultraserver"), 1);
    double bytes = 32L << 20;
    var r = Collectives.runOne(f, Op.ALL_REDUCE, range(0, 4, 1), bytes, Algo.RDH);
    // Halving: partners 2 hops apart exchange S/2 (opposite partners go opposite ways, one flow per link),
    // then neighbours exchange S/4; doubling mirrors it. Per half: 3 hops of latency + 3/4 S at link speed.
    assertThat(r.seconds()).isCloseTo(2 * (3 * 1.5e-6 + 0.75 * bytes / 128e9), within(1e-12));
    assertThat(r.steps()).isEqualTo(4);
  }
}
