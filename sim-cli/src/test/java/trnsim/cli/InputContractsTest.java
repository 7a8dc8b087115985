package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Round two of the bad-input contract (issue: settings that do nothing, overflow to exit 3,
 * endless searches): every case is one line on stderr, exit 2, nothing on stdout, and the exact
 * message is asserted. Each case failed before (exit 0 with an ignored setting, exit 3, or a hang).
 */
class InputContractsTest {
  static Stream<Arguments> cases() {
    return Stream.of(
        // A key no model read (the DMA latency already holds the first HBM access): was exit 0, identical results.
        Arguments.of("error: --set: chip.hbm.latency = '5ms': read by no model (the fitted chip.core.dma.latency already holds"
            + " the first HBM access; a second latency would count it twice); setting it would change no result",
            new String[] {"run", "-H", "trn2", "-w", "copy:bytes=1GiB", "--set", "chip.hbm.latency=5ms"}),
        // A dataflow the trainium timing model ignored: was exit 0, identical results.
        Arguments.of("error: --set: chip.core.tensor.dataflow = 'output_stationary': the trainium array is weight_stationary;"
            + " other dataflows need type: systolic",
            new String[] {"run", "-H", "trn2", "-w", "gemm:m=1024,k=1024,n=1024", "--set", "chip.core.tensor.dataflow=output_stationary"}),
        // Absurd rates: 1e300 sent the tiling search into an endless loop; 1e-300 overflowed (exit 3).
        Arguments.of("error: --set: chip.core.tensor.dtype_rates.bf16 = '1.0E300': must be between 1/64 and 64 (a multiple of the bf16 rate)",
            new String[] {"run", "-H", "trn2", "-w", "gemm:m=1024,k=1024,n=1024", "--set", "chip.core.tensor.dtype_rates.bf16=1e300"}),
        Arguments.of("error: --set: chip.core.tensor.dtype_rates.bf16 = '1.0E-300': must be between 1/64 and 64 (a multiple of the bf16 rate)",
            new String[] {"run", "-H", "trn2", "-w", "gemm:m=1024,k=1024,n=1024", "--set", "chip.core.tensor.dtype_rates.bf16=1e-300"}),
        // Times past the tick range: were "internal error: cannot schedule in the past" (exit 3).
        Arguments.of("error: simulated time would pass 2^63 ps (about 106 days): a bandwidth, rate, efficiency or clock in the config"
            + " is too small to simulate",
            new String[] {"run", "-H", "trn2", "-w", "gemm:m=1024,k=1024,n=1024", "--set", "chip.hbm.bandwidth=1B/s"}),
        Arguments.of("error: simulated time would pass 2^63 ps (about 106 days): a bandwidth, rate, efficiency or clock in the config"
            + " is too small to simulate",
            new String[] {"run", "-H", "trn2", "-w", "gemm:m=1024,k=1024,n=1024", "--set", "chip.hbm.efficiency=1e-300"}),
        Arguments.of("error: simulated time would pass 2^63 ps (about 106 days): a bandwidth, rate, efficiency or clock in the config"
            + " is too small to simulate",
            new String[] {"run", "-H", "trn2", "-w", "elementwise:op=gelu,numel=1048576", "--set", "chip.core.scalar.unary16_rate=1e-300"}),
        // A clock faster than the 1 ps tick: was "internal error: clock must be between 1 Hz and 1 THz".
        Arguments.of("error: --set: chip.core.tensor.clock = '1001GHz': frequency above 1000 GHz (its period would be under the 1 ps tick)",
            new String[] {"run", "-H", "trn2", "-w", "gemm:m=512,k=512,n=512", "--set", "chip.core.tensor.clock=1001GHz"}),
        // Full-width digits were accepted and kept un-normalised in the reported spec (resume keys differed).
        Arguments.of("error: --workload: gemm.m = '\uff11\uff10\uff12\uff14': not a number (digits must be ASCII 0-9)",
            new String[] {"run", "-H", "trn2", "-w", "gemm:m=\uff11\uff10\uff12\uff14,k=1024,n=1024"}),
        Arguments.of("error: --workload: copy.bytes = '\uff11MiB': not a number (digits must be ASCII 0-9)",
            new String[] {"run", "-H", "trn2", "-w", "copy:bytes=\uff11MiB"}),
        // NUL and ESC were printed raw (an ESC sequence recolours the terminal).
        Arguments.of("error: --workload: gemm.m = 'a\\x00\\x1b[31mb': not a number",
            new String[] {"run", "-H", "trn2", "-w", "gemm:m=a\u0000\u001b[31mb,k=1,n=1"}),
        // A 100,000-digit number: refused at once, not echoed whole.
        Arguments.of("error: --workload: gemm.m = '" + "9".repeat(375) + "... (message of 100057 characters cut)",
            new String[] {"run", "-H", "trn2", "-w", "gemm:m=" + "9".repeat(100_000) + ",k=1,n=1"}));
  }

  @org.junit.jupiter.api.Test
  void aBareNumberIsBytesAndSuffixesFollowOneRule() throws Exception {
    // copy:bytes=1048576 was refused ("expected a size such as 1GiB").
    String bare = CliHarness.run("run", "-H", "trn2", "-w", "copy:bytes=1048576", "--format", "json").out();
    String unit = CliHarness.run("run", "-H", "trn2", "-w", "copy:bytes=1MiB", "--format", "json").out();
    assertThat(Json.MAPPER.readTree(bare).get("time_s")).isEqualTo(Json.MAPPER.readTree(unit).get("time_s"));
    // k is 1000 and Ki is 1024 in workload counts too (m=4k is 4000, documented in run --help).
    var k = Json.MAPPER.readTree(CliHarness.run("run", "-H", "trn2", "-w", "gemm:m=4k,k=512,n=512", "--format", "json").out());
    var ki = Json.MAPPER.readTree(CliHarness.run("run", "-H", "trn2", "-w", "gemm:m=4Ki,k=512,n=512", "--format", "json").out());
    assertThat(k.get("flops").asLong()).isEqualTo(2L * 4000 * 512 * 512);
    assertThat(ki.get("flops").asLong()).isEqualTo(2L * 4096 * 512 * 512);
    var sized = CliHarness.run("config", "show", "trn2", "--set", "chip.core.sbuf.size=25165824", "--format", "json");
    assertThat(sized.code()).as(sized.err()).isZero();
    assertThat(sized.out()).contains("24 MiB");
  }

  @org.junit.jupiter.api.Test
  void anAdjustmentTrnsimMakesIsANoteInTheTableAndTheJson() throws Exception {
    // 1024 sequences asked, dp=58 x 18 microbatches x 1 run: 1044, said in both renderings.
    String w = "llm-train:model=llama3-8b,dp=58,tp=4";
    String note = "global batch 1024 sequences is not dp x microbatches x mbs = 58 x 18 x 1; the step runs 1044 sequences";
    var table = CliHarness.run("run", "-H", "trn2-ultraserver", "-w", w);
    assertThat(table.code()).as(table.err()).isZero();
    assertThat(table.out()).contains("note                " + note);
    var json = Json.MAPPER.readTree(CliHarness.run("run", "-H", "trn2-ultraserver", "-w", w, "--format", "json").out());
    assertThat(json.get("notes").toString()).contains(note);
    assertThat(json.get("tokens").asDouble()).isEqualTo(1044.0 * 4096);
  }

  @org.junit.jupiter.api.Test
  void configShowMarksWhichModelsReadEachKey() {
    var r = CliHarness.run("config", "show", "h100", "--models");
    assertThat(r.code()).as(r.err()).isZero();
    // chip.l2.size was read by no model: it is no longer a key (and refused by name where it is written).
    assertThat(r.out()).contains("  l2:\n    bandwidth: 11 TB/s   # read by: timing\n")
        .doesNotContain("size: 50 MiB")
        .contains("    limit: 700 W   # read by: power-limiter")
        .contains("      clock: 1.98 GHz   # read by: timing, energy, power-limiter");
    var bad = CliHarness.run("sweep", "-H", "h100", "-w", "copy:bytes=1MiB", "--vary", "chip.l2.size=1MiB,2MiB", "--out", "unused.jsonl");
    assertThat(bad.code()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(bad.err()).contains("chip.l2.size").contains("read by no model");
  }

  @org.junit.jupiter.api.Test
  void versionOnEverySubcommandAndRunHelpListsEveryWorkloadKind() {
    String top = CliHarness.run("-V").out();
    assertThat(top).startsWith("trnsim ");
    for (String sub : new String[] {"run", "compare", "sweep", "verify", "plot", "collective", "serve", "config", "validate", "scalesim"}) {
      var r = CliHarness.run(sub, "-V");
      assertThat(r.out()).as(sub).isEqualTo(top);
    }
    String help = CliHarness.run("run", "--help").out();
    java.util.List<String> kinds = new java.util.ArrayList<>(trnsim.isa.lower.Workloads.kinds());
    kinds.addAll(trnsim.core.system.LlmSystem.KINDS);
    for (String kind : kinds) {
      assertThat(help).as(kind).containsPattern("(^|[\\s|])" + java.util.regex.Pattern.quote(kind) + "[:|]");
    }
  }

  @ParameterizedTest
  @MethodSource("cases")
  void oneLineExitTwoNothingOnStdout(String expected, String[] args) {
    var r = CliHarness.run(args);
    assertThat(r.code()).as(r.err()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().strip()).isEqualTo(expected);
  }
}
