package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.core.config.ConfigException;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.SystemSpec;
import trnsim.core.system.Collectives.Algo;
import trnsim.core.system.Collectives.Op;
import trnsim.isa.DType;

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
  void recursiveHalvingDoublingOnARingOfFourStaysOnNeighbourLinks() {
    Fabric f = new Fabric(sys("trn2-ultraserver"), 1);
    double bytes = 32L << 20;
    var r = Collectives.runOne(f, Op.ALL_REDUCE, range(0, 4, 1), bytes, Algo.RDH);
    // Hypercube order (Gray code on the ring of 4: 0, 1, 3, 2): halving exchanges S/2 between torus
    // neighbours (0-3 over the wrap-around, 1-2), then S/4 between the other neighbours (0-1, 3-2), one flow
    // per link direction; doubling mirrors it. Per half: 2 hops of latency + 3/4 S at link speed.
    assertThat(r.seconds()).isCloseTo(2 * (2 * 1.5e-6 + 0.75 * bytes / 128e9), within(1e-12));
    assertThat(r.steps()).isEqualTo(4);
  }

  // ---- The collective runtime (chip.collectives): Trainium configs through Fabric.of ----

  static HardwareSpec hw(String name, String... sets) {
    return LOADER.load(name, List.of(sets)).spec();
  }

  static Fabric fabric(String name, int systems) {
    HardwareSpec h = hw(name);
    return Fabric.of(h, systems, RankLayout.of(h.chip(), null));
  }

  // Values from the configs' sources, restated here so that the closed forms are computed independently.
  static final double TRN1_LAUNCH = 55.4e-6;       // trn1.yaml, FITTED
  static final double TRN1_GATHER_SETUP = 23.6e-6; // trn1.yaml, FITTED: part of the launch an all-reduce hides
  static final double TRN1_ISSUE = 1.3e-6;         // N-DMABW per-transfer cost
  static final double TRN1_RANK_BW = 4 * 17e9 * 0.9; // 4 rings x 17 GB/s x HBM efficiency 0.9
  static final double TRN1_REDUCE = 54.4e9;        // elements/s per NeuronCore-v2
  static final double TRN2_ISSUE = 1.3e-6;         // N-DMABW per-transfer cost, as trn1
  static final double TRN2_RANK_BW = 8 * 23e9 * 0.9; // LNC=2: 8 rings x 23 GB/s x 0.9
  static final double TRN2_REDUCE = 2 * 54.4e9;    // two NeuronCore-v3 per rank
  static final double HOP = 1.5e-6;

  @Test
  void twoCoresOfOneChipAllReduceIsLaunchPlusTwoStepsPlusBytesPlusExposedReduction() {
    Fabric f = fabric("trn1-32xl", 1);
    for (double bytes : new double[] {1024, 1 << 20, 64 << 20, 1L << 30}) {
      var r = Collectives.runOne(f, Op.ALL_REDUCE, List.of(0, 1), bytes, Algo.AUTO, DType.FP32, true);
      assertThat(r.algo()).isEqualTo(Algo.RING); // the 2023 runtime: ring inside a node
      double chunk = bytes / 2;
      double rings = Math.min(4, Math.max(1, Math.ceil(chunk / 65536)));
      double tx = chunk / (rings * 17e9 * 0.9);
      double tr = chunk / 4 / TRN1_REDUCE;
      // Reduce-scatter step: transfer and reduction in two slices; all-gather step: transfer. The
      // all-gather half's setup (the launch's last 23.6 us) runs while the reduce-scatter bytes move.
      double rs = Math.max(tx, tr) + Math.min(tx, tr) / 2;
      double expected = TRN1_LAUNCH - Math.min(TRN1_GATHER_SETUP, rs) + 2 * TRN1_ISSUE + rs + tx;
      assertThat(r.seconds()).as("%s bytes", bytes).isCloseTo(expected, within(1e-12));
      assertThat(r.fixedSeconds() + r.syncSeconds() + r.transferSeconds() + r.reduceSeconds())
          .isCloseTo(r.seconds(), within(1e-15));
      assertThat(r.steps()).isEqualTo(2);
    }
  }

  @Test
  void ringAllGatherAcrossChipsPaysTheHopAndOneRingPerSmallPacket() {
    Fabric f = fabric("trn1-32xl", 1);
    double bytes = 512 << 10; // 32 ranks: 16 KiB chunks, one 64 KiB packet -> one ring at 17 GB/s x 0.9
    var r = Collectives.runOne(f, Op.ALL_GATHER, range(0, 32, 1), bytes, Algo.AUTO, DType.FP32, true);
    assertThat(r.algo()).isEqualTo(Algo.RING);
    assertThat(r.steps()).isEqualTo(31);
    double chunk = bytes / 32;
    double expected = TRN1_LAUNCH + 31 * (TRN1_ISSUE + HOP + chunk / (17e9 * 0.9));
    assertThat(r.seconds()).isCloseTo(expected, within(1e-12));
    assertThat(r.reduceSeconds()).isZero();
  }

  @Test
  void meshPaysOneIssuePerPeerSpreadOverTheRanksRings() {
    // One rank per chip (LNC=2 on trn1): a flat mesh, each rank writes to 15 peers over its 2 x 4 rings.
    HardwareSpec h = hw("trn1-32xl", "chip.collectives.algorithms=neuron");
    Fabric f = Fabric.of(h, 1, RankLayout.of(h.chip(), 2));
    var r = Collectives.runOne(f, Op.ALL_GATHER, range(0, 16, 1), 1024, Algo.AUTO, DType.FP32, false);
    assertThat(r.algo()).isEqualTo(Algo.MESH);
    assertThat(r.steps()).isEqualTo(1);
    // ceil(15 peers / 8 rings) issues, and the farthest chip is 2 + 2 hops away on the 4x4 torus.
    assertThat(r.syncSeconds()).isCloseTo(2 * TRN1_ISSUE + 4 * HOP, within(1e-15));
    assertThat(r.fixedSeconds()).isZero(); // in a compiled graph
    assertThat(r.transferSeconds()).isPositive().isLessThan(1e-6);
    // With two ranks per chip the runtime's two-step mesh (R-INTRA): 8 destination chips per rank, then the partner.
    Fabric two = Fabric.of(h, 1, RankLayout.of(h.chip(), null));
    var m = Collectives.runOne(two, Op.ALL_GATHER, range(0, 32, 1), 1024, Algo.AUTO, DType.FP32, false);
    assertThat(m.steps()).isEqualTo(2);
    // Step 0: ceil((8 chips + 1 local peer) / 4 rings) = 3 issues + the farthest chip's 4 hops; step 1: 1 issue.
    assertThat(m.syncSeconds()).isCloseTo(3 * TRN1_ISSUE + 4 * HOP + TRN1_ISSUE, within(1e-15));
  }

  @Test
  void rdhHasTwoLogNStepsWithTheChipStagesInsideTheChip() {
    Fabric f = fabric("trn2-48xl", 1); // first 16 ranks: 4 chips of the X ring, 4 ranks each
    var r = Collectives.runOne(f, Op.ALL_REDUCE, range(0, 16, 1), 8 << 20, Algo.AUTO, DType.BF16, true);
    assertThat(r.algo()).isEqualTo(Algo.RDH);
    assertThat(r.steps()).isEqualTo(8);
    // 8 issues; the 2 intra-chip halving and 2 doubling steps have no hop, the 4 across chips one hop each.
    assertThat(r.syncSeconds()).isCloseTo(8 * TRN2_ISSUE + 4 * HOP, within(1e-15));
    // Bytes: every rank sends S/2 + S/4 + ... + S/16 each way; no step is faster than its DMA rings allow.
    double perRank = 2 * (8 << 20) * (1 - 1.0 / 16);
    assertThat(r.transferSeconds()).isGreaterThanOrEqualTo(perRank / TRN2_RANK_BW);
  }

  @Test
  void kangaRingHalvesTheRingSteps() {
    Fabric f = fabric("trn2-48xl", 1);
    List<Integer> all = range(0, 64, 1);
    var ring = Collectives.runOne(f, Op.ALL_REDUCE, all, 1L << 30, Algo.RING, DType.BF16, true);
    var kanga = Collectives.runOne(f, Op.ALL_REDUCE, all, 1L << 30, Algo.AUTO, DType.BF16, true);
    assertThat(kanga.algo()).isEqualTo(Algo.KANGARING);
    assertThat(ring.steps()).isEqualTo(2 * 63);
    assertThat(kanga.steps()).isEqualTo(2 * 32); // per half: the partner step + 31 steps over 32 pairs
    assertThat(kanga.seconds()).isLessThan(ring.seconds());
  }

  // One rank per Trn3 chip (LNC=8: 32 rings x 33 GB/s x 0.9 = 950.4 GB/s per rank) on the 1.28 TB/s switch ports:
  // the rank's DMA rings are the bottleneck, so each algorithm has a closed form.
  static final double TRN3_RANK_BW = 32 * 33e9 * 0.9;
  static final double TRN3_REDUCE = 8 * 153.6e9;
  static final double SWITCH_HOP = 1.5e-6;

  static Fabric trn3OneRankPerChip() {
    HardwareSpec h = hw("trn3-ultraserver-gen1");
    return Fabric.of(h, 1, RankLayout.of(h.chip(), 8));
  }

  @Test
  void meshAllGatherIsOneIssueOneHopAndThePeersBytesThroughTheRings() {
    Fabric f = trn3OneRankPerChip();
    double bytes = 256L << 20; // 64 MiB per rank: 1024 packets, every ring busy
    var r = Collectives.runOne(f, Op.ALL_GATHER, range(0, 4, 1), bytes, Algo.MESH, DType.BF16, false);
    double chunk = bytes / 4;
    // 3 transfers over 32 rings: one issue; one switch hop; 3 chunks out of the rank's rings (ports: 3 chunks at 1.28 TB/s).
    assertThat(r.seconds()).isCloseTo(TRN2_ISSUE + SWITCH_HOP + 3 * chunk / TRN3_RANK_BW, within(1e-12));
    assertThat(r.steps()).isEqualTo(1);
  }

  @Test
  void rdhAllReduceHalvesThenDoublesWithTheReductionInTwoSlices() {
    Fabric f = trn3OneRankPerChip();
    double bytes = 8 << 20;
    var r = Collectives.runOne(f, Op.ALL_REDUCE, range(0, 4, 1), bytes, Algo.RDH, DType.BF16, false);
    double expected = 0;
    for (double part : new double[] {bytes / 2, bytes / 4}) {
      double tx = part / TRN3_RANK_BW;
      double tr = part / 2 / TRN3_REDUCE; // bf16: two bytes per element
      expected += 2 * (TRN2_ISSUE + SWITCH_HOP) + Collectives.pipelined(tx, tr) + tx; // halving step + doubling step
    }
    assertThat(r.seconds()).isCloseTo(expected, within(1e-12));
    assertThat(Collectives.pipelined(2, 1)).isEqualTo(2.5); // the longer, plus half the shorter
    assertThat(r.steps()).isEqualTo(4);
  }

  @Test
  void kangaRingOnOneChipIsThePartnerStepThenARingStepWithDuplicates() {
    Fabric f = fabric("trn2-48xl", 1);
    double bytes = 512L << 20;
    double chunk = bytes / 4; // 4 ranks of chip 0 = 2 pairs
    var r = Collectives.runOne(f, Op.ALL_GATHER, range(0, 4, 1), bytes, Algo.KANGARING, DType.BF16, false);
    // Partner step: one chunk per rank through its rings (HBM: 8 chunk touches at 2.61 TB/s is faster).
    // Ring step: each primary writes a chunk to the other pair's primary and duplicates it to its partner: 2 chunks.
    assertThat(r.seconds()).isCloseTo(2 * TRN2_ISSUE + chunk / TRN2_RANK_BW + 2 * chunk / TRN2_RANK_BW, within(1e-12));
    assertThat(r.steps()).isEqualTo(2);
  }

  @Test
  void autoFollowsTheRuntimePolicyAndItsSizeThresholds() {
    Fabric f = fabric("trn2-48xl", 1);
    List<Integer> g = range(0, 64, 1);
    assertThat(Collectives.choose(f, Op.ALL_REDUCE, g, 999_999)).isEqualTo(Algo.MESH);
    assertThat(Collectives.choose(f, Op.ALL_REDUCE, g, 1_000_000)).isEqualTo(Algo.RDH);
    assertThat(Collectives.choose(f, Op.ALL_REDUCE, g, 56e6)).isEqualTo(Algo.RDH);
    assertThat(Collectives.choose(f, Op.ALL_REDUCE, g, 56e6 + 1)).isEqualTo(Algo.KANGARING);
    Fabric t1 = fabric("trn1-32xl", 1);
    for (double b : new double[] {1024, 8e6, 1e9}) {
      assertThat(Collectives.choose(t1, Op.ALL_REDUCE, range(0, 32, 1), b)).isEqualTo(Algo.RING);
    }
    Fabric t1x2 = fabric("trn1-32xl", 2);
    assertThat(Collectives.choose(t1x2, Op.ALL_REDUCE, Collectives.spread(t1x2, 64), 1024)).isEqualTo(Algo.HIERARCHICAL);
    assertThat(Collectives.spread(t1x2, 4)).containsExactly(0, 1, 32, 33);
  }

  @Test
  void placementSetsThePathIntraChipThenNeuronLinkThenEfa() {
    Fabric f = fabric("trn2-48xl", 2);
    double bytes = 1L << 30;
    double chunk = bytes / 2;
    var chip = Collectives.runOne(f, Op.ALL_GATHER, List.of(0, 1), bytes, Algo.RING, DType.BF16, false);
    var link = Collectives.runOne(f, Op.ALL_GATHER, List.of(0, 4), bytes, Algo.RING, DType.BF16, false);
    var efa = Collectives.runOne(f, Op.ALL_GATHER, List.of(0, 64), bytes, Algo.RING, DType.BF16, false);
    // One step each: the DMA rings inside a chip, the 128 GB/s torus link, the 200 Gbps NIC.
    assertThat(chip.seconds()).isCloseTo(TRN2_ISSUE + chunk / TRN2_RANK_BW, within(1e-12));
    assertThat(link.seconds()).isCloseTo(TRN2_ISSUE + HOP + chunk / 128e9, within(1e-12));
    assertThat(efa.seconds()).isCloseTo(TRN2_ISSUE + 15e-6 + chunk / 25e9, within(1e-12));
    assertThat(chip.seconds()).isLessThan(link.seconds());
    assertThat(link.seconds()).isLessThan(efa.seconds());
    // Two cores of one chip share its HBM: 8 ranks of two chips are slower than 4 ranks of one only when links are.
    var oneChip = Collectives.runOne(f, Op.ALL_REDUCE, range(0, 4, 1), bytes, Algo.RING, DType.BF16, false);
    var twoChips = Collectives.runOne(f, Op.ALL_REDUCE, List.of(0, 1, 4, 5), bytes, Algo.RING, DType.BF16, false);
    assertThat(twoChips.seconds()).isGreaterThan(oneChip.seconds());
  }

  @Test
  void moreRanksNeverFewerRingSteps() {
    Fabric f = fabric("trn1-32xl", 1);
    long lastSteps = 0;
    for (int n = 2; n <= 32; n++) {
      var r = Collectives.runOne(f, Op.ALL_REDUCE, range(0, n, 1), 4096, Algo.RING, DType.FP32, true);
      assertThat(r.steps()).isEqualTo(2L * (n - 1)).isGreaterThan(lastSteps);
      lastSteps = r.steps();
    }
    // Time grows with the group when every ring closes over neighbours (2, 4, 8, 16, 32 ranks in snake order);
    // in between, a ring whose last hop crosses two links can be slower than the next larger one.
    double last = 0;
    for (int n = 2; n <= 32; n *= 2) {
      var r = Collectives.runOne(f, Op.ALL_REDUCE, range(0, n, 1), 4096, Algo.RING, DType.FP32, true);
      assertThat(r.seconds()).isGreaterThan(last);
      last = r.seconds();
    }
  }

  @Test
  void uint8IsSlowerThanFp32AtEqualBytesWhenTheReductionBinds() {
    Fabric f = fabric("trn1-32xl", 1);
    double bytes = 32 << 20;
    var u8 = Collectives.runOne(f, Op.ALL_REDUCE, List.of(0, 1), bytes, Algo.AUTO, DType.INT8, true);
    var fp32 = Collectives.runOne(f, Op.ALL_REDUCE, List.of(0, 1), bytes, Algo.AUTO, DType.FP32, true);
    double chunk = bytes / 2;
    double tx = chunk / TRN1_RANK_BW;
    double trU8 = chunk / TRN1_REDUCE; // one byte per element: 4x the elements of fp32
    assertThat(trU8).isGreaterThan(tx); // the reduction binds for uint8 ...
    assertThat(chunk / 4 / TRN1_REDUCE).isLessThan(tx); // ... but not for fp32
    assertThat(u8.reduceSeconds()).isCloseTo(trU8 + tx / 2 - tx, within(1e-12));
    assertThat(u8.seconds()).isGreaterThan(fp32.seconds());
    assertThat(u8.transferSeconds()).isCloseTo(fp32.transferSeconds(), within(1e-15));
    // Nothing to reduce in an all-gather: the element type does not matter.
    var agU8 = Collectives.runOne(f, Op.ALL_GATHER, List.of(0, 1), bytes, Algo.AUTO, DType.INT8, true);
    var agFp32 = Collectives.runOne(f, Op.ALL_GATHER, List.of(0, 1), bytes, Algo.AUTO, DType.FP32, true);
    assertThat(agU8.seconds()).isEqualTo(agFp32.seconds());
  }

  @Test
  void insideAGraphACollectiveSkipsOnlyTheHostLaunch() {
    Fabric f = fabric("trn1-32xl", 1);
    List<List<Integer>> groups = List.of(range(0, 16, 1), range(16, 32, 1));
    var standalone = Collectives.run(f, Op.ALL_REDUCE, groups, 8192, Algo.AUTO, DType.BF16, true);
    var graph = Collectives.run(f, Op.ALL_REDUCE, groups, 8192, Algo.AUTO);
    assertThat(graph.standalone()).isFalse();
    assertThat(graph.dtype()).isEqualTo(DType.BF16);
    assertThat(graph.fixedSeconds()).isZero();
    // 16-rank rings: the reduce-scatter half's 15 steps of 256 B move in well under the gather setup,
    // so all of those bytes hide behind the launch.
    double rsBytes = graph.transferSeconds() / 2 + graph.reduceSeconds();
    assertThat(rsBytes).isLessThan(TRN1_GATHER_SETUP);
    assertThat(standalone.seconds() - graph.seconds()).isCloseTo(TRN1_LAUNCH - rsBytes, within(1e-15));
    assertThat(standalone.fixedSeconds()).isCloseTo(TRN1_LAUNCH - rsBytes, within(1e-15));
    assertThat(graph.syncSeconds()).isEqualTo(standalone.syncSeconds());
  }

  @Test
  void anAllReduceHidesAtMostTheGatherSetupAndAtMostItsReduceScatterBytes() {
    Fabric with = fabric("trn1-32xl", 1);
    HardwareSpec h0 = hw("trn1-32xl", "chip.collectives.gather_setup=0us");
    Fabric without = Fabric.of(h0, 1, RankLayout.of(h0.chip(), null));
    for (List<Integer> group : List.of(List.of(0, 1), range(0, 32, 1))) {
      double previous = 0;
      for (double bytes = 1024; bytes <= (1L << 30); bytes *= 2) {
        var a = Collectives.runOne(with, Op.ALL_REDUCE, group, bytes, Algo.AUTO, DType.FP32, true);
        var b = Collectives.runOne(without, Op.ALL_REDUCE, group, bytes, Algo.AUTO, DType.FP32, true);
        // a ring's reduce-scatter and all-gather halves move the same bytes in the same number of steps
        double rsBytes = b.transferSeconds() / 2 + b.reduceSeconds();
        assertThat(b.seconds() - a.seconds()).as("%s B", bytes).isCloseTo(Math.min(TRN1_GATHER_SETUP, rsBytes), within(1e-15));
        assertThat(b.fixedSeconds()).isEqualTo(TRN1_LAUNCH);
        // only the launch moves: steps, bytes on links and the parts after the launch are the same
        assertThat(a.linkBytes()).isEqualTo(b.linkBytes());
        assertThat(a.transferSeconds() + a.syncSeconds() + a.reduceSeconds())
            .isEqualTo(b.transferSeconds() + b.syncSeconds() + b.reduceSeconds());
        assertThat(a.seconds()).isGreaterThanOrEqualTo(previous - 1e-15); // still monotone in the message size
        previous = a.seconds();
      }
    }
  }

  @Test
  void whileTheReduceScatterHalfHidesTheSetupTheCurveGrowsAtHalfItsLargeSizeSlope() {
    // Closed form for 2 ranks, sizes of >= 4 packets per chunk (all 4 rings): t(B) = L + 2 issue + RS(B) + AG(B)
    // - min(W, RS(B)), RS = AG + half the exposed slice; below W the launch absorbs RS, above it only W.
    Fabric f = fabric("trn1-32xl", 1);
    java.util.function.DoubleUnaryOperator t = b ->
        Collectives.runOne(f, Op.ALL_REDUCE, List.of(0, 1), b, Algo.AUTO, DType.FP32, true).seconds();
    // reduce-scatter bytes of a 2 MiB message: its 1 MiB chunk plus half the exposed reduction slice
    double rsAt2MiB = (1 << 20) / TRN1_RANK_BW + (1 << 20) / 4.0 / TRN1_REDUCE / 2;
    double medium = t.applyAsDouble(1 << 21) - t.applyAsDouble(1 << 20);   // both RS halves under 23.6 us
    double large = t.applyAsDouble(1L << 28) - t.applyAsDouble(1L << 27);  // both above
    double perByteAg = 1 / (2 * TRN1_RANK_BW);                              // all-gather step, per message byte
    double perByteRs = perByteAg + (1 / (2.0 * 4 * TRN1_REDUCE)) / 2;       // + half of the hidden reduction slice
    assertThat(rsAt2MiB).isLessThan(TRN1_GATHER_SETUP);
    assertThat(medium).isCloseTo(perByteAg * (1 << 20), within(1e-12));
    assertThat(large).isCloseTo((perByteAg + perByteRs) * (1L << 27), within(1e-9));
    // an all-gather or reduce-scatter alone has one half: it pays the whole launch
    for (Op op : new Op[] {Op.ALL_GATHER, Op.REDUCE_SCATTER}) {
      var r = Collectives.runOne(f, op, List.of(0, 1), 1 << 20, Algo.AUTO, DType.FP32, true);
      assertThat(r.fixedSeconds()).as(op.label()).isEqualTo(TRN1_LAUNCH);
    }
  }

  @Test
  void aGpuConfigKeepsTheBareLinkModel() {
    HardwareSpec h = hw("h100-hgx8");
    assertThat(h.chip().collectives()).isNull();
    Fabric of = Fabric.of(h, 1);
    Fabric bare = new Fabric(h.system(), 1);
    for (Algo a : new Algo[] {Algo.AUTO, Algo.RING, Algo.MESH, Algo.RDH}) {
      var x = Collectives.runOne(of, Op.ALL_REDUCE, range(0, 8, 1), 64 << 20, a, DType.FP32, true);
      var y = Collectives.runOne(bare, Op.ALL_REDUCE, range(0, 8, 1), 64 << 20, a);
      assertThat(x.seconds()).isEqualTo(y.seconds());
      assertThat(x.fixedSeconds() + x.reduceSeconds()).isZero();
    }
  }

  @Test
  void aRawWriteBetweenServersIsTheNetworkLatency() {
    Fabric f = fabric("trn2-48xl", 2);
    var raw = Collectives.rawTransfer(f, 0, 64, 8);
    // ib_write_lat between two trn2.48xlarge (R-CC): 15 us; 8 bytes through a 200 Gbps NIC add 0.3 ns.
    assertThat(raw.seconds()).isCloseTo(15e-6 + 8 / 25e9, within(1e-15));
    // The same 8 bytes as a runtime send/recv go through a DMA ring and pay its issue (and, standalone, the launch).
    var sr = Collectives.runOne(f, Op.SEND_RECV, List.of(0, 64), 8, Algo.AUTO, DType.INT8, false);
    assertThat(sr.seconds()).isCloseTo(15e-6 + TRN2_ISSUE + 8 / (23e9 * 0.9), within(1e-15)); // one DMA ring
    assertThat(sr.seconds()).isGreaterThan(raw.seconds());
  }

  @Test
  void collectiveConfigErrorsNameTheKey() {
    assertThatThrownBy(() -> hw("trn1-32xl", "chip.collectives.algorithms=tree"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("algorithms").hasMessageContaining("tree");
    assertThatThrownBy(() -> hw("trn2", "chip.collectives.dma_rings_per_core=17"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("dma_rings_per_core");
    assertThatThrownBy(() -> hw("trn1-32xl", "chip.collectives.gather_setup=60us"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("gather_setup").hasMessageContaining("launch");
    assertThatThrownBy(() -> hw("trn2", "chip.collectives.reduce_elements_per_ns_per_core=-1"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("reduce_elements_per_ns_per_core");
  }
}
