package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded corpora of malformed claims files and sweep specifications, run through the real command
 * line. Malformed input must end with exit 2 and one error line, never a stack trace or a hang; a
 * mutation that happens to stay valid must behave as a valid input (exit 0 or 1 for verify).
 * Run more with -Dcorpus.cases=100000.
 */
class BadClaimsAndSweepCorpusTest {
  @TempDir
  Path tmp;

  static final String CLAIMS = """
      description: corpus base
      claims:
        - name: copy-speedup
          statement: "HBM bandwidth ratio"
          baseline: trn2
          target: trn3
          workload: copy:bytes=1MiB
          metric: speedup
          published: 1.7
          expected: {min: 1.0, max: 3.0}
          source: "test"
      """;

  static final String[] BAD = {"-1", "0", "abc", "[1, 2]", "{a: 1}", "1e400", "''", "null", "trn9", "gemm:m=-1",
      "speedupp", "{min: 3, max: 1}", "99999999999999999999", "\"\\u0000\"", "*alias", "&anchor x", "]["};

  private static void oneLine(TrnsimRun r, String what) {
    assertThat(r.code).as("exit for %s: %s", what, r.err).isEqualTo(ExitCodes.BAD_INPUT);
    String err = r.err.strip();
    assertThat(err.lines().count()).as("one line for %s: %s", what, err).isEqualTo(1);
    assertThat(err).as(what).startsWith("error: ").doesNotContain("Exception").doesNotContain("\tat ");
  }

  record TrnsimRun(int code, String out, String err) {}

  private static TrnsimRun run(String... args) {
    var r = CliHarness.run(args);
    return new TrnsimRun(r.code(), r.out(), r.err());
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES) // a hang guard, not a speed target
  void malformedClaimsFiles() throws Exception {
    int cases = Integer.getInteger("corpus.cases", 1000);
    SplittableRandom rnd = new SplittableRandom(424242);
    List<String> lines = CLAIMS.lines().toList();
    int malformed = 0;
    for (int i = 0; i < cases; i++) {
      List<String> out = new ArrayList<>(lines);
      int idx = rnd.nextInt(out.size());
      String line = out.get(idx);
      int colon = line.indexOf(':');
      byte[] bytes = null;
      switch (rnd.nextInt(7)) {
        case 0 -> {
          if (colon > 0) {
            out.set(idx, line.substring(0, colon + 1) + " " + BAD[rnd.nextInt(BAD.length)]);
          }
        }
        case 1 -> out.add(idx, line.replaceFirst("\\S.*", "bogus" + rnd.nextInt(9) + ": 1"));
        case 2 -> out.remove(idx);
        case 3 -> out = new ArrayList<>(out.subList(0, idx));
        case 4 -> {
          bytes = new byte[1 + rnd.nextInt(300)];
          for (int j = 0; j < bytes.length; j++) {
            bytes[j] = (byte) rnd.nextInt(256);
          }
          bytes[0] = (byte) 0xfe;
        }
        case 5 -> out = List.of();
        default -> out.set(idx, "\t" + line + " : : ]");
      }
      Path f = tmp.resolve("claims" + i + ".yaml");
      if (bytes != null) {
        Files.write(f, bytes);
      } else {
        Files.writeString(f, String.join("\n", out) + "\n");
      }
      TrnsimRun r = run("verify", f.toString(), "--format", "json");
      if (r.code == ExitCodes.OK || r.code == ExitCodes.CLAIM_FAILED) {
        assertThat(r.out).as("case %d", i).contains("\"claims\"");
        continue;
      }
      malformed++;
      oneLine(r, "claims case " + i + ":\n" + String.join("\n", out));
    }
    assertThat(malformed).isGreaterThan(cases / 2);
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES) // a hang guard, not a speed target
  void malformedSweepSpecs() throws Exception {
    int cases = Integer.getInteger("corpus.cases", 1000);
    SplittableRandom rnd = new SplittableRandom(777);
    String[] keys = {"chip.hbm.bandwidth", "chip.core.sbuf.size", "chip.cores", "workload.bytes", "chip.nope",
        "workload.zz", "", "chip..x", "=", "chip.core.tensor.clock"};
    String[] vals = {"2TB/s,3TB/s", "1TB/s..4TB/s:3", "4..1:3", "1..2:0", "1..2:-3", "1..2:1000000000", "a..b:2", "12MiB,-1MiB",
        "", ",", "2TB/s..", "..:", "1e400", "3", "2.4GHz", "8", "1MiB,2MiB", "0"};
    int malformed = 0;
    for (int i = 0; i < cases; i++) {
      String vary = keys[rnd.nextInt(keys.length)] + (rnd.nextInt(10) == 0 ? "" : "=") + vals[rnd.nextInt(vals.length)];
      Path out = tmp.resolve("sweep" + i + ".jsonl");
      TrnsimRun r = run("sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", vary, "--out", out.toString(),
          "--no-progress", "--threads", "1", "--format", "json");
      if (r.code == ExitCodes.OK) {
        assertThat(out).as(vary).exists();
        continue;
      }
      malformed++;
      oneLine(r, "sweep --vary " + vary);
    }
    assertThat(malformed).isGreaterThan(cases / 2);
  }
}
