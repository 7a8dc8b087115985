package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.ModelLoader;
import trnsim.core.run.RunOptions;
import trnsim.isa.workload.WorkloadSpec;

/**
 * The llm-train plan search (the default when degrees are open): it never returns a plan slower
 * than the default chooser's; its lower bounds never exceed the simulated step of their plan; the
 * pruned search picks the exhaustive search's plan; and every plan it lists composes to the same
 * step as a run that gives that plan explicitly (the shared layer simulations change nothing).
 */
class PlanSearchTest {
  static final java.nio.file.Path CONFIGS = java.nio.file.Path.of("..", "configs").toAbsolutePath().normalize();
  static final ModelLoader MODELS = new ModelLoader(CONFIGS);

  static LlmResult run(String hw, String w) {
    var spec = new HardwareLoader(CONFIGS).load(hw, List.of()).spec();
    return LlmSystem.run(spec, WorkloadSpec.parse(w, "test"), MODELS::model, null, RunOptions.defaults());
  }

  /** Small cases over dense, MoE, sliding-window and latent-free GELU models, Trainium and GPU systems, and the plan options. */
  static final List<String[]> CASES = List.of(
      new String[] {"trn2-48xl", "llm-train:model=llama3.2-1b,seq=1024,global_batch=32"},
      new String[] {"trn2-48xl", "llm-train:model=llama3.2-1b,seq=1024,global_batch=32,sp=true,tp_overlap=true,dp_overlap=true"},
      new String[] {"trn1-32xl", "llm-train:model=llama3.2-3b,seq=2048,global_batch=64,framework=nxd,recompute=full"},
      new String[] {"trn2-48xl", "llm-train:model=gpt3-6.7b,seq=1024,global_batch=16,attn=eager,zero=3"},
      new String[] {"trn2-48xl", "llm-train:model=gpt-oss-20b,seq=512,global_batch=16"});

  record Listed(String label, double stepSeconds, double boundSeconds) {}

  static final Pattern PLAN = Pattern.compile("plan #\\d+ (tp=\\d+ pp=\\d+ dp=\\d+(?: ep=\\d+)? microbatches=\\d+): step ([0-9.]+) (ms|us) "
      + "\\(bound ([0-9.]+) (ms|us)\\)");

  static double seconds(String v, String unit) {
    return Double.parseDouble(v) * (unit.equals("ms") ? 1e-3 : 1e-6);
  }

  /** The simulated plans a search lists, with their step and bound. */
  static List<Listed> listed(LlmResult r) {
    List<Listed> out = new ArrayList<>();
    for (String n : r.notes()) {
      Matcher x = PLAN.matcher(n);
      if (x.find()) {
        out.add(new Listed(x.group(1), seconds(x.group(2), x.group(3)), seconds(x.group(4), x.group(5))));
      }
    }
    return out;
  }

  static int fitting(LlmResult r) {
    Matcher x = Pattern.compile("plan search: (\\d+) plans fit memory").matcher(String.join("\n", r.notes()));
    assertThat(x.find()).isTrue();
    return Integer.parseInt(x.group(1));
  }

  @Test
  void boundsNeverExceedTheSimulatedStepOfAnyFittingPlan() {
    for (String[] c : CASES) {
      LlmResult all = run(c[0], c[1] + ",plan=exhaustive");
      List<Listed> plans = listed(all);
      // exhaustive: every fitting plan simulated and listed
      assertThat(plans).as(c[1]).hasSize(fitting(all));
      for (Listed p : plans) {
        // the listed values are rounded to 1 ns
        assertThat(p.boundSeconds()).as(c[0] + " " + c[1] + " " + p.label()).isLessThanOrEqualTo(p.stepSeconds() + 1e-6);
      }
    }
  }

  @Test
  void prunedSearchPicksTheExhaustiveSearchsPlanAndIsNeverSlowerThanTheDefaultChooser() {
    for (String[] c : CASES) {
      LlmResult pruned = run(c[0], c[1]);
      LlmResult all = run(c[0], c[1] + ",plan=exhaustive");
      LlmResult chooser = run(c[0], c[1] + ",plan=first");
      assertThat(pruned.parallelism()).as(c[1]).isEqualTo(all.parallelism());
      assertThat(pruned.seconds()).as(c[1]).isEqualTo(all.seconds());
      assertThat(pruned.seconds()).as(c[1]).isLessThanOrEqualTo(chooser.seconds());
      // the fastest plan is exhaustive's minimum over every fitting plan
      double min = listed(all).stream().mapToDouble(Listed::stepSeconds).min().orElseThrow();
      assertThat(pruned.seconds()).isCloseTo(min, within(1e-6));
    }
  }

  @Test
  void theSearchIsNeverSlowerThanTheDefaultChooserOnLargeSystemsAndPrunes() {
    for (String[] c : List.of(new String[] {"trn2-ultraserver", "llm-train:model=llama3-70b"},
        new String[] {"h100-hgx8", "llm-train:model=llama3.2-1b,seq=512,global_batch=16"})) {
      LlmResult best = run(c[0], c[1]);
      LlmResult first = run(c[0], c[1] + ",plan=first");
      assertThat(best.seconds()).as(c[0] + " " + c[1]).isLessThanOrEqualTo(first.seconds());
      assertThat(first.notes()).noneMatch(n -> n.startsWith("plan search"));
      Matcher x = Pattern.compile("(\\d+) plans fit memory .*; (\\d+) simulated, (\\d+) pruned").matcher(String.join("\n", best.notes()));
      assertThat(x.find()).isTrue();
      assertThat(Integer.parseInt(x.group(2)) + Integer.parseInt(x.group(3))).isEqualTo(Integer.parseInt(x.group(1)));
      if (c[1].equals("llm-train:model=llama3-70b") && c[0].equals("trn2-ultraserver")) {
        // Llama-3 70B on 64 Trn2 chips: the bounds leave most plans unsimulated
        assertThat(Integer.parseInt(x.group(2))).isLessThan(Integer.parseInt(x.group(1)) / 2);
      }
    }
  }

  @Test
  void listedPlansReproduceWhenGivenExplicitly() {
    String base = "llm-train:model=llama3.2-1b,seq=1024,global_batch=32";
    LlmResult best = run("trn2-48xl", base);
    List<Listed> plans = listed(best);
    assertThat(plans).hasSizeGreaterThanOrEqualTo(2);
    Matcher x = Pattern.compile("tp=(\\d+) pp=(\\d+) dp=(\\d+) microbatches=(\\d+)").matcher(plans.get(1).label());
    assertThat(x.find()).isTrue();
    LlmResult second = run("trn2-48xl", base + ",tp=" + x.group(1) + ",pp=" + x.group(2) + ",dp=" + x.group(3) + ",microbatches=" + x.group(4));
    assertThat(second.seconds()).isCloseTo(plans.get(1).stepSeconds(), within(1e-6));
    assertThat(second.seconds()).isGreaterThanOrEqualTo(best.seconds());
    // explicit degrees: no search
    assertThat(second.notes()).noneMatch(n -> n.startsWith("plan search"));
  }
}
