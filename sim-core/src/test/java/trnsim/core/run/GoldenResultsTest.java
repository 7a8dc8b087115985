package trnsim.core.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.ModelLoader;
import trnsim.isa.lower.Workloads;
import trnsim.isa.workload.WorkloadSpec;

/**
 * Golden results: exact simulated end ticks, event counts and a digest of every statistic of a few
 * representative workloads, recorded from the simulator before the hot-path optimisations of issue
 * #8. Performance work must keep these byte-identical; a deliberate model change updates them (and
 * says so in its commit).
 */
class GoldenResultsTest {
  static final Path CONFIGS = Path.of("..", "configs").toAbsolutePath().normalize();
  static final HardwareLoader LOADER = new HardwareLoader(CONFIGS);
  static final ModelLoader MODELS = new ModelLoader(CONFIGS);

  /** SHA-256 over "name=value\n" of every statistic of every step, in name order, plus the totals. */
  static String digest(WorkloadResult r) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    StringBuilder sb = new StringBuilder();
    for (var s : r.steps()) {
      RunResult k = s.result();
      sb.append(s.label()).append(' ').append(s.repeat()).append(' ').append(k.timeSeconds()).append(' ')
          .append(k.flops()).append(' ').append(k.hbmBytes()).append(' ').append(k.instructions()).append(' ')
          .append(k.engines()).append(' ').append(k.bottleneck()).append('\n');
      for (Map.Entry<String, Double> e : k.stats().values().entrySet()) {
        sb.append(e.getKey()).append('=').append(e.getValue()).append('\n');
      }
    }
    sb.append(r.timeSeconds()).append(' ').append(r.flops()).append(' ').append(r.hbmBytes()).append(' ')
        .append(r.engineBusy()).append(' ').append(r.bottleneck()).append('\n');
    return HexFormat.of().formatHex(md.digest(sb.toString().getBytes(StandardCharsets.UTF_8)));
  }

  static long sumStat(WorkloadResult r, String name) {
    long s = 0;
    for (var st : r.steps()) {
      s += (long) st.result().stats().get(name);
    }
    return s;
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "trn2|gemm:m=2048,k=2048,n=2048|53778862|4683|aa378bf384394a81bf15026a8cff409289596764048599a961d5be807f1f35cb",
      "trn2|gemm:m=1000,k=3000,n=700,strategy=naive|142303862|28957|c9591fb38d9b6aa341746506bc99bde98f3d448cbcc80623178c90c8a389f1db",
      "trn1|copy:bytes=64MiB|183166848|768|192a8e40ed0d17b8e7011be046862c8829c048a9e34de4840a2ff1d50c016578",
      "trn2|elementwise:op=gelu,numel=16777216|36614615|1605|3ef7760e444ff98a2a020009f51f317fdee035dfc74743230db673376282e877",
      "trn2|attention:b=1,h=8,s=1024,d=128,causal=true|19745756|6936|7eacbde4351c5a2541f0a545acd61bb5ecb91d3c547ca5c1c1737ca0e7d90187",
      "trn3|layer:model=llama3-8b,phase=prefill,batch=1,seq=512|608579707|59942|ecad860c9860ed8e97948ac7e08b02535722fdb7f613cc7486d12c5114d6795d",
  })
  void resultsStayByteIdentical(String hwName, String workload, long endPs, long events, String digest) throws Exception {
    HardwareSpec hw = LOADER.load(hwName, List.of()).spec();
    WorkloadResult r = WorkloadRunner.run(hw,
        Workloads.lower(Targets.of(hw), WorkloadSpec.parse(workload, "golden"), MODELS::model), RunOptions.defaults());
    long end = sumStat(r, "sim.end_ps");
    long ev = sumStat(r, "sim.events");
    String d = digest(r);
    assertThat(end).as("end tick").isEqualTo(endPs);
    assertThat(ev).as("events").isEqualTo(events);
    assertThat(d).as("digest of every statistic").isEqualTo(digest);
  }
}
