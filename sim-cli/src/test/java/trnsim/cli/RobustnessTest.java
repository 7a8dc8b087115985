package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Valid-but-impossible inputs, resource guards and determinism, through the real command line. */
class RobustnessTest {
  private static void badInput(String expect, String... args) {
    var r = CliHarness.run(args);
    assertThat(r.code()).as(r.err()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).contains(expect);
  }

  @Test
  void tilesThatCannotFitAreClearErrors() {
    // Blocks of 8192 x 8192 with all of K would need far more than 224 KiB per SBUF partition.
    badInput("bytes per SBUF partition", "run", "-H", "trn2", "-w", "gemm:m=8192,k=8192,n=8192,block_m=8192,block_n=8192,block_k=8192,cores=1");
    // Shrinking SBUF below what any GEMM block needs.
    badInput("fits in SBUF", "run", "-H", "trn2", "-w", "gemm:m=512,k=512,n=512", "--set", "chip.core.sbuf.size=128KiB");
  }

  @Test
  void hugeProblemsHitTheResourceGuardImmediately() {
    badInput("resource guard", "run", "-H", "trn2", "-w", "gemm:m=1000000,k=1000000,n=1000000");
    badInput("resource guard", "run", "-H", "trn2", "-w", "copy:bytes=1000TiB");
    badInput("resource guard", "run", "-H", "trn2", "-w", "attention:b=64,h=128,s=1000000,d=128");
    // A guard inside an attention or a layer named only the part ("attention: needs about ..."), neither
    // --workload nor the spec.
    badInput("--workload: attention = 'attention:b=64,h=128,s=1000000,d=128': attention: needs about 2.90e+08 instructions",
        "run", "-H", "trn2", "-w", "attention:b=64,h=128,s=1000000,d=128");
    badInput("--workload: layer = 'layer:model=llama3-405b,phase=prefill,batch=4096,seq=131072': rmsnorm: needs about",
        "run", "-H", "trn2", "-w", "layer:model=llama3-405b,phase=prefill,batch=4096,seq=131072");
  }

  @Test
  void unsupportedDtypeNamesTheChip() {
    badInput("trn2 does not support it", "run", "-H", "trn2", "-w", "gemm:m=1024,k=1024,n=1024,dtype=mxfp4");
  }

  @Test
  void byteIdenticalJsonWhateverRunsAlongside() throws Exception {
    String[] a = {"run", "-H", "trn2", "-w", "gemm:m=1024,k=2048,n=1536", "--format", "json"};
    String[] b = {"run", "-H", "trn3", "-w", "attention:b=1,h=4,s=1024,d=128,causal=true", "--format", "json"};
    String aloneA = CliHarness.run(a).out();
    String aloneB = CliHarness.run(b).out();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<String>> fa = new ArrayList<>();
      List<Future<String>> fb = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        fa.add(pool.submit(() -> CliHarness.run(a).out()));
        fb.add(pool.submit(() -> CliHarness.run(b).out()));
      }
      for (Future<String> f : fa) {
        assertThat(f.get()).isEqualTo(aloneA);
      }
      for (Future<String> f : fb) {
        assertThat(f.get()).isEqualTo(aloneB);
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void aSimulationInsideASweepMatchesItAlone(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
    var out = tmp.resolve("s.jsonl");
    var sweep = CliHarness.run("sweep", "-H", "trn2", "-w", "gemm:m=1024,k=1024,n=1024", "--vary", "chip.hbm.bandwidth=2TB/s,3TB/s",
        "--out", out.toString(), "--no-progress", "--threads", "2");
    assertThat(sweep.code()).as(sweep.err()).isZero();
    var alone = Json.MAPPER.readTree(CliHarness.run("run", "-H", "trn2", "-w", "gemm:m=1024,k=1024,n=1024",
        "--set", "chip.hbm.bandwidth=3TB/s", "--format", "json").out());
    com.fasterxml.jackson.databind.JsonNode row = null;
    for (String line : java.nio.file.Files.readAllLines(out)) {
      var n = Json.MAPPER.readTree(line);
      if (n.toString().contains("3 TB/s") || n.toString().contains("3TB/s")) {
        row = n;
      }
    }
    assertThat(row).as("row for 3TB/s").isNotNull();
    int compared = 0;
    for (String k : new String[] {"time_s", "flops", "achieved_tflops", "hbm_bytes", "energy_j", "avg_power_w", "bottleneck", "engines"}) {
      if (alone.has(k) && row.has(k)) {
        assertThat(row.get(k)).as(k).isEqualTo(alone.get(k));
        compared++;
      }
    }
    assertThat(compared).isGreaterThanOrEqualTo(7);
  }

  @Test
  void badOptionsAreOneLineExitTwo() {
    badInput("--max-events", "run", "-H", "trn2", "-w", "copy:bytes=1MiB", "--max-events", "-5");
    badInput("--trace-window-us", "run", "-H", "trn2", "-w", "copy:bytes=1MiB", "--trace", "/tmp/x.json", "--trace-window-us", "5:1");
    badInput("Missing required option", "run", "-H", "trn2");
    badInput("Invalid value for option '--format'", "run", "-H", "trn2", "-w", "copy:bytes=1MiB", "--format", "yaml");
  }
}
