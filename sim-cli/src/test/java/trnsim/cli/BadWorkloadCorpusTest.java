package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A seeded corpus of malformed workload specs run through the real command line: wrong types,
 * missing and unknown keys, absurd, negative and overflowing sizes, garbage. Each must end with
 * exit 2 and exactly one error line naming the offending key or value, never a stack trace, and
 * quickly (the whole corpus runs in a few seconds). Run more with -Dcorpus.cases=100000.
 */
class BadWorkloadCorpusTest {
  static final String[] KINDS = {"gemm", "copy", "elementwise", "softmax", "rmsnorm", "attention", "attention-decode", "layer", "mamba"};
  static final String[] KEYS = {"m", "k", "n", "dtype", "bytes", "numel", "op", "rows", "cols", "b", "h", "s", "d",
      "ctx", "causal", "pass", "cores", "model", "phase", "batch", "strategy", "kv_heads", "block_m", "channels", "seq",
      "state", "version", "seq_tile", "hoist"};
  static final String[] BAD = {"-1", "0", "-3GiB", "1e400", "99999999999999999999999", "abc", "1.5", "", "true",
      "fp7", "9223372036854775807", "1e15", "1PiB", "2TiB", "llama9", "sideways", "0x10", "NaN", "-0", "1_0_", "9e18",
      "4096,4096", "=", "%00", "\u00e9"};

  @Test
  @org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES) // a hang guard, not a speed target
  void malformedWorkloadsFailWithOneLine() {
    int cases = Integer.getInteger("corpus.cases", 1000);
    SplittableRandom rnd = new SplittableRandom(9001);
    List<String> valid = List.of("gemm:m=512,k=512,n=512", "copy:bytes=1MiB", "elementwise:op=add,numel=65536",
        "softmax:rows=256,cols=1024", "attention:b=1,h=2,s=256,d=64", "layer:model=llama3-8b,phase=decode,batch=1,ctx=128",
        "mamba:channels=256,seq=512,version=v3,seq_tile=256");
    int passed = 0;
    for (int i = 0; i < cases; i++) {
      String spec = mutate(valid.get(rnd.nextInt(valid.size())), rnd);
      var r = CliHarness.run("run", "--hardware", "trn2", "--workload", spec, "--format", "json");
      if (r.code() == 0) {
        // A mutation can produce a valid, small workload; then it must have produced a report.
        assertThat(r.out()).as(spec).contains("\"time_s\"");
        passed++;
        continue;
      }
      assertThat(r.code()).as("exit code for %s: %s", spec, r.err()).isEqualTo(ExitCodes.BAD_INPUT);
      assertThat(r.out()).as(spec).isEmpty();
      String err = r.err().strip();
      assertThat(err.lines().count()).as("one line for %s: %s", spec, err).isEqualTo(1);
      assertThat(err).as(spec).startsWith("error: ").doesNotContain("Exception").doesNotContain("\tat ");
    }
    assertThat(passed).as("most mutations are invalid").isLessThan(cases / 2);
  }

  private static String mutate(String valid, SplittableRandom rnd) {
    String kind = valid.substring(0, valid.indexOf(':'));
    List<String> parts = new ArrayList<>(List.of(valid.substring(valid.indexOf(':') + 1).split(",")));
    switch (rnd.nextInt(6)) {
      case 0 -> {
        int i = rnd.nextInt(parts.size());
        String key = parts.get(i).substring(0, parts.get(i).indexOf('='));
        parts.set(i, key + "=" + BAD[rnd.nextInt(BAD.length)]);
      }
      case 1 -> parts.add(KEYS[rnd.nextInt(KEYS.length)] + "x=" + rnd.nextInt(10));
      case 2 -> parts.remove(rnd.nextInt(parts.size()));
      case 3 -> kind = rnd.nextBoolean() ? KINDS[rnd.nextInt(KINDS.length)] : "k" + rnd.nextInt(1000);
      case 4 -> {
        int i = rnd.nextInt(parts.size());
        String key = parts.get(i).substring(0, parts.get(i).indexOf('='));
        parts.set(i, key + "=" + (rnd.nextBoolean() ? "1e14" : "123456789012"));
      }
      default -> {
        StringBuilder sb = new StringBuilder();
        for (int j = 0; j < 1 + rnd.nextInt(40); j++) {
          sb.append((char) (33 + rnd.nextInt(94)));
        }
        return sb.toString();
      }
    }
    return kind + ":" + String.join(",", parts);
  }
}
