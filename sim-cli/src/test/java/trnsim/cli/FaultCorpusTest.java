package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The second corpus of faults (the classes that hung, exhausted the heap or the stack,
 * destroyed input files or exited 0 on a failed write). Every case asserts the exact error line,
 * exit 2, and that nothing was written or overwritten.
 */
class FaultCorpusTest {
  @TempDir
  Path tmp;

  static final Path HW = CliHarness.HOME.resolve("configs/hardware");

  private static void fails(String expected, String... args) {
    var r = CliHarness.run(args);
    assertThat(r.code()).as(r.err()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().strip()).isEqualTo(expected);
  }

  private Path fifo(String name) throws Exception {
    Path p = tmp.resolve(name);
    Process mk = new ProcessBuilder("mkfifo", p.toString()).start();
    assertThat(mk.waitFor()).isZero();
    return p;
  }

  @Test
  void aFifoOrADeviceIsRefusedAsAnyInputFileInsteadOfHanging() throws Exception {
    Path f = fifo("hw.yaml");
    fails("error: " + f + ": not a regular file (a directory, FIFO or device)", "run", "-H", f.toString(), "-w", "copy:bytes=1MiB");
    fails("error: " + f + ": not a regular file (a directory, FIFO or device)", "verify", f.toString());
    Path zero = tmp.resolve("zero.yaml");
    Files.createSymbolicLink(zero, Path.of("/dev/zero"));
    fails("error: " + zero + ": not a regular file (a directory, FIFO or device)", "run", "-H", zero.toString(), "-w", "copy:bytes=1MiB");
    // An energy table reached through a symlink to an endless device.
    Path hw = tmp.resolve("energy-dev.yaml");
    Files.writeString(hw, "extends: " + HW.resolve("trn2.yaml") + "\nchip:\n  power:\n    energy_table: " + zero + "\n");
    var r = CliHarness.run("run", "-H", hw.toString(), "-w", "copy:bytes=1MiB");
    assertThat(r.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(r.err()).contains("not a regular file");
  }

  @Test
  void extendsChainsAreBoundedAndResolveFromConfigsHardwareNamingWhereTheyLooked() throws Exception {
    Files.writeString(tmp.resolve("c0.yaml"), "extends: " + HW.resolve("trn2.yaml") + "\n");
    for (int i = 1; i < 5000; i++) {
      Files.writeString(tmp.resolve("c" + i + ".yaml"), "extends: c" + (i - 1) + ".yaml\n");
    }
    fails("error: " + tmp.resolve("c4967.yaml") + ": extends: extends chain longer than 32 files",
        "run", "-H", tmp.resolve("c4999.yaml").toString(), "-w", "copy:bytes=1MiB");
    // extends: trn3 from outside configs/hardware (was "base config not found").
    Path mine = tmp.resolve("mine.yaml");
    Files.writeString(mine, "extends: trn3\nchip:\n  hbm:\n    bandwidth: 8 TB/s\n");
    var r = CliHarness.run("config", "show", mine.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("bandwidth: 8 TB/s");
    Files.writeString(mine, "extends: trn9\n");
    fails("error: " + mine + ": extends = 'trn9': base config not found; looked for " + tmp.resolve("trn9") + ", "
        + HW.resolve("trn9") + ", " + HW.resolve("trn9.yaml"), "config", "show", mine.toString());
  }

  @Test
  void deepKeyPathsAndHugeSystemCountsAreRefusedBeforeTheyExhaustMemory() {
    String deep = String.join(".", java.util.Collections.nCopies(50_000, "a"));
    var set = CliHarness.run("config", "show", "trn2", "--set", deep + "=1");
    assertThat(set.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(set.err()).startsWith("error: --set: a.a.a.").contains("... (message of").hasLineCount(1);
    assertThat(set.err().length()).isLessThan(500);
    fails("error: --vary: key path deeper than 16 parts",
        "sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", deep + "=1,2", "--out", "unused.jsonl");
    fails("error: --systems = '1000000': 256000000 ranks; at most 131072 in one collective",
        "collective", "-H", "trn2-ultraserver", "--op", "all-reduce", "--bytes", "1MiB", "--systems", "1000000");
  }

  @Test
  void sweepPointCountsAreCheckedBeforeExpansionWithoutIntOverflow() {
    String[] big = new String[8];
    for (int i = 0; i < big.length; i++) {
      big[i] = "workload.p" + i + "=" + String.join(",", java.util.stream.IntStream.range(0, 9000).mapToObj(String::valueOf).toList());
    }
    // 9000^8 passes a long's square root and an int many times over; it was an ArithmeticException (exit 3).
    fails("error: --vary: more than 100000 points in one sweep", "sweep", "-H", "trn2", "-w", "copy:bytes=1MiB",
        "--vary", big[0], "--vary", big[1], "--vary", big[2], "--vary", big[3], "--vary", big[4], "--vary", big[5],
        "--vary", big[6], "--vary", big[7], "--out", "unused.jsonl");
  }

  @Test
  void outputsNeverOverwriteInputsOrEachOtherOrDeviceNodes() throws Exception {
    Path claims = tmp.resolve("claims.yaml");
    Files.copy(CliHarness.HOME.resolve("configs/claims/trn3-vs-trn2.yaml"), claims);
    String before = Files.readString(claims);
    fails("error: --junit = '" + claims + "': is the CLAIMS.yaml input file; it would be overwritten",
        "verify", claims.toString(), "--junit", claims.toString());
    assertThat(Files.readString(claims)).isEqualTo(before);
    Path hw = tmp.resolve("hw.yaml");
    Files.writeString(hw, "extends: trn2\n");
    fails("error: --trace = '" + hw + "': is the --hardware input file; it would be overwritten",
        "run", "-H", hw.toString(), "-w", "copy:bytes=1MiB", "--trace", hw.toString());
    assertThat(Files.readString(hw)).isEqualTo("extends: trn2\n");
    Path shipped = HW.resolve("trn2.yaml");
    fails("error: --trace = '" + shipped + "': is inside the configs folder, which holds trnsim's inputs",
        "run", "-H", "trn2", "-w", "copy:bytes=1MiB", "--trace", shipped.toString());
    Path out = tmp.resolve("s.jsonl");
    fails("error: --csv = '" + out + "': is also the --out output",
        "sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "chip.hbm.bandwidth=1TB/s,2TB/s", "--out", out.toString(),
        "--csv", out.toString());
    assertThat(out).doesNotExist();
    fails("error: --trace = '/dev/null': not a regular file (a directory, device or FIFO); write to a file path",
        "run", "-H", "trn2", "-w", "copy:bytes=1MiB", "--trace", "/dev/null");
    assertThat(Files.isRegularFile(Path.of("/dev/null"))).isFalse();
    Path file = tmp.resolve("plain");
    Files.writeString(file, "x");
    fails("error: --trace = '" + file.resolve("t.json") + "': cannot be created: '" + file + "' is a file, not a folder",
        "run", "-H", "trn2", "-w", "copy:bytes=1MiB", "--trace", file.resolve("t.json").toString());
  }

  @Test
  void aFailedWriteToStandardOutputIsAFailureNotExitZero() {
    Writer full = new Writer() {
      @Override
      public void write(char[] cbuf, int off, int len) throws IOException {
        throw new IOException("No space left on device");
      }

      @Override
      public void flush() throws IOException {
        throw new IOException("No space left on device");
      }

      @Override
      public void close() {}
    };
    StringWriter err = new StringWriter();
    int code = Cli.newCommandLine(new PrintWriter(full, true), new PrintWriter(err, true), CliHarness.HOME)
        .execute("run", "-H", "trn2", "-w", "copy:bytes=1MiB");
    assertThat(code).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(err.toString().strip()).isEqualTo("error: standard output: write failed (disk full or output closed); the report is incomplete");
  }

  @Test
  void junitXmlStaysWellFormedWhateverTheClaimNameHolds() throws Exception {
    // Seeded: claim names with characters XML 1.0 cannot carry (C0 controls, U+FFFE, lone surrogates).
    SplittableRandom rnd = new SplittableRandom(16);
    char[] awkward = {'\u0001', '\u0008', '\u001b', '\ufffe', '\uffff', '\ud800', '\udfff', '<', '&', '"', '\u00e9'};
    StringBuilder name = new StringBuilder("claim");
    for (int i = 0; i < 12; i++) {
      name.append(awkward[rnd.nextInt(awkward.length)]);
    }
    String xml = VerifyCommand.xml(name.toString());
    var db = javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder();
    var doc = db.parse(new java.io.ByteArrayInputStream(
        ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><t n=\"" + xml + "\">" + xml + "</t>").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    assertThat(doc.getDocumentElement().getAttribute("n")).startsWith("claim");
  }

  /** A failed write names the option, the path and the cause (it named a temporary file, or no reason). */
  @Test
  void aFailedOutputWriteNamesTheOptionThePathAndTheCause() {
    Path f = Path.of("/proc/self/trace.json");
    fails("error: --trace: cannot write " + f + ": no such file or directory",
        "run", "-H", "trn2", "-w", "copy:bytes=1MiB", "--trace", f.toString(), "--format", "json");
  }

  /** Two sweeps on one output interleaved their rows; the second is refused while the first holds the file. */
  @Test
  void aSecondSweepOnTheSameOutputIsRefusedWhileTheFirstWrites() throws Exception {
    Path out = tmp.resolve("shared.jsonl");
    try (var ch = java.nio.channels.FileChannel.open(out, java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.WRITE); var lock = ch.lock()) {
      fails("error: --out = '" + out + "': another sweep is writing this file",
          "sweep", "-H", "trn2", "-w", "copy:bytes=1MiB", "--vary", "workload.bytes=1MiB,2MiB", "--out", out.toString(), "--no-progress");
    }
    assertThat(Files.size(out)).isZero();
  }

  /**
   * Under {@code LANG=C} the JVM decodes a non-ASCII argument to replacement characters; that was an
   * internal error (exit 3). A real child JVM in the C locale: one line, exit 2.
   */
  @Test
  void aNonAsciiWorkloadUnderTheCLocaleIsBadInput() throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        "-Dtrnsim.home=" + CliHarness.HOME, "trnsim.cli.Main", "run", "-H", "trn2", "-w", "gemm:m=1024,k=1024,n=1\u00e9"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(tmp.resolve("err").toFile()).redirectOutput(tmp.resolve("out").toFile());
    pb.environment().put("LANG", "C");
    pb.environment().put("LC_ALL", "C");
    Process p = pb.start();
    assertThat(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    List<String> err = Files.readAllLines(tmp.resolve("err"), java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThat(p.exitValue()).as(String.join("\n", err)).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(err).hasSize(1);
    assertThat(err.get(0)).startsWith("error: --workload: gemm.n = '1").endsWith("': not a number (digits must be ASCII 0-9)");
    assertThat(Files.size(tmp.resolve("out"))).isZero();
  }

  /**
   * A simulation larger than the JVM's heap (a child JVM with 8 MiB and a --no-steady-state h100
   * GEMM that holds every block's instructions) is a runtime fault: one line saying how to raise the
   * heap, exit 3, no stack trace, and no output file half-written.
   */
  @Test
  void runningOutOfHeapIsOneLineAndNoPartialFile() throws Exception {
    Path json = tmp.resolve("out.json");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx8m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        "-Dtrnsim.home=" + CliHarness.HOME, "trnsim.cli.Main", "run", "-H", "h100", "-w", "gemm:m=8192,k=8192,n=8192",
        "--no-steady-state", "--format", "json", "--outdir", tmp.resolve("rd").toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(tmp.resolve("err").toFile()).redirectOutput(json.toFile());
    Process p = pb.start();
    assertThat(p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    List<String> err = Files.readAllLines(tmp.resolve("err"));
    assertThat(p.exitValue()).as(String.join("\n", err)).isEqualTo(ExitCodes.INTERNAL);
    assertThat(err).hasSize(1);
    assertThat(err.get(0)).startsWith("error: out of memory: this simulation needs more than the JVM's ")
        .endsWith("MiB heap; give it more, e.g. TRNSIM_JAVA_OPTS=-Xmx8g ./trnsim ...");
    assertThat(Files.size(json)).isZero();
    assertThat(tmp.resolve("rd")).doesNotExist();
  }

  @Test
  void anInfinitePriceIsRefused() {
    fails("error: --set: system.price_per_node_hour_usd = 'Infinity': must be a positive finite price below 1e12 USD",
        "run", "-H", "trn2-ultraserver", "-w", "copy:bytes=1MiB", "--set", "system.price_per_node_hour_usd=1e309");
  }
}
