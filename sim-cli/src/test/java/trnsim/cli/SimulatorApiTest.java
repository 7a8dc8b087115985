package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import trnsim.core.api.ResultSchema;
import trnsim.core.api.Simulator;
import trnsim.core.run.RunOptions;

/** The API called directly writes, byte for byte, the JSON {@code run --format json} prints for the same point. */
class SimulatorApiTest {
  private final Simulator sim = new Simulator(CliHarness.HOME.resolve("configs"));

  private String api(String hardware, List<String> sets, String workload) {
    return Json.pretty(ResultSchema.json(sim.run(sim.hardware(hardware, sets), workload, RunOptions.defaults()))) + "\n";
  }

  @Test
  void aPowerLimitedKernelPoint() {
    String gemm = "gemm:m=1024,k=2048,n=1024";
    var cli = CliHarness.run("run", "-H", "trn2", "--set", "chip.power.limit=125W", "-w", gemm, "--format", "json");
    assertThat(cli.code()).as(cli.err()).isZero();
    assertThat(api("trn2", List.of("chip.power.limit=125W"), gemm)).isEqualTo(cli.out());
  }

  @Test
  void aSystemStep() {
    String step = "llm-infer:model=llama3-8b,phase=decode,batch=8,ctx=2048";
    var cli = CliHarness.run("run", "-H", "trn2-48xl", "-w", step, "--format", "json");
    assertThat(cli.code()).as(cli.err()).isZero();
    assertThat(api("trn2-48xl", List.of(), step)).isEqualTo(cli.out());
  }
}
