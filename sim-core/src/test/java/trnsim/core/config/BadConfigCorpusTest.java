package trnsim.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded corpus of malformed hardware configs, made by mutating the shipped trn2 config: wrong
 * types, unknown and deleted keys, absurd, negative and overflowing values, binary garbage, empty
 * and truncated files. Every case must fail with one ConfigException line that names the file and,
 * where there is one, the key; none may pass, hang or escape as another exception.
 * Run more cases with -Dcorpus.cases=100000.
 */
class BadConfigCorpusTest {
  @TempDir
  Path tmp;

  static final String[] BAD_VALUES = {"-3 GiB", "0 MiB", "2.4 GHz", "9999999999 TiB", "1e30 B", "abc", "[1, 2]",
      "{a: 1}", "-1", "0", "2.5", "''", "null", "true", "99999999999999999999", "1 parsec", "NaN", "-0.5 W", "1e400 Hz"};

  @Test
  @org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES) // a hang guard, not a speed target
  void malformedConfigsAlwaysFailWithOneClearLine() throws Exception {
    int cases = Integer.getInteger("corpus.cases", 1200);
    Path configs = Path.of("..", "configs").toAbsolutePath().normalize();
    HardwareLoader shipped = new HardwareLoader(configs);
    String base = shipped.toYaml(shipped.load("trn2", List.of()).spec()).replaceFirst("(?m)^name: .*\\n", "");
    List<String> lines = base.lines().toList();
    Path dir = tmp.resolve("hardware");
    Files.createDirectories(dir);
    HardwareLoader loader = new HardwareLoader(tmp);
    SplittableRandom rnd = new SplittableRandom(20261126L);
    int failed = 0;
    for (int i = 0; i < cases; i++) {
      String text = mutate(lines, rnd);
      Path f = dir.resolve("c" + i + ".yaml");
      if (text == null) {
        byte[] junk = new byte[1 + rnd.nextInt(512)];
        for (int j = 0; j < junk.length; j++) {
          junk[j] = (byte) rnd.nextInt(256);
        }
        junk[0] = (byte) 0xff;
        Files.write(f, junk);
      } else {
        Files.writeString(f, text);
      }
      try {
        loader.load("c" + i, List.of());
        // A mutation may leave a valid config (e.g. an optional key deleted); that must be genuinely valid.
      } catch (ConfigException e) {
        failed++;
        assertThat(e.getMessage()).as("case %d:%n%s", i, text).doesNotContain("\n").startsWith(f.toString());
        assertThat(e.getMessage()).doesNotContain("Exception").doesNotContain("trnsim.core").doesNotContain("com.fasterxml")
            .doesNotContain("org.yaml").doesNotContain("snakeyaml").doesNotContain("java.");
      }
      Files.delete(f);
    }
    assertThat(failed).as("most mutations are invalid").isGreaterThan(cases / 2);
  }

  private static String mutate(List<String> lines, SplittableRandom rnd) {
    List<String> out = new ArrayList<>(lines);
    int kind = rnd.nextInt(7);
    int idx = rnd.nextInt(out.size());
    String line = out.get(idx);
    int colon = line.indexOf(':');
    switch (kind) {
      case 0 -> {
        if (colon > 0) {
          out.set(idx, line.substring(0, colon + 1) + " " + BAD_VALUES[rnd.nextInt(BAD_VALUES.length)]);
        }
      }
      case 1 -> out.add(idx, line.replaceFirst("\\S.*", "bogus_key_" + rnd.nextInt(100) + ": 1"));
      case 2 -> out.remove(idx);
      case 3 -> {
        return String.join("\n", out.subList(0, idx)) + "\n  : [";
      }
      case 4 -> {
        return null;
      }
      case 5 -> {
        return "";
      }
      default -> out.set(idx, "\t" + line + " : : ]");
    }
    return String.join("\n", out) + "\n";
  }
}
