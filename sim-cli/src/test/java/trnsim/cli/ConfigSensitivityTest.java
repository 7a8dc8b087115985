package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import trnsim.core.config.ConfigReaders;
import trnsim.core.config.HardwareLoader;

/**
 * Every registered config key changes some output: for a key of a shipped config, the key is
 * changed with {@code --set} (halved, doubled, another allowed word) and the probes of the models
 * the registry says read it are run through the real command line; at least one probe's output must
 * differ from the unchanged config's. Keys read only by reports ({@code name}, {@code description},
 * {@code projection}) are documented pass-throughs: the output that prints them must change.
 *
 * <p>A change is accepted when {@code config show} takes it; the output compared is a probe's exit
 * code, stdout and stderr (a change that makes a run fail, such as PSUM partitions fewer than a
 * kernel's accumulators span, changed what the user sees). Seeded sample in {@code mvn verify}:
 * {@code -Dsensitivity.sample} (12) distinct keys drawn with {@code -Dsensitivity.seed} (16), each on
 * one config drawn among those that have it; {@code -Dsensitivity.keys=a,b} checks the keys named;
 * {@code -Dsensitivity.all=true} checks every key of every shipped config (the documented long run,
 * docs/robustness.md).
 */
class ConfigSensitivityTest {
  static final HardwareLoader LOADER = new HardwareLoader(CliHarness.HOME.resolve("configs"));
  static final String[] KERNELS = {
      "gemm:m=1024,k=1024,n=1024", "copy:bytes=64MiB", "elementwise:op=gelu,numel=4Mi", "elementwise:op=add,numel=4Mi",
      "elementwise:op=gelu,numel=4Mi,dtype=fp32", "elementwise:op=add,numel=4Mi,dtype=fp32", "layernorm:rows=2048,cols=2048",
      "rmsnorm:rows=2048,cols=2048,dtype=fp32", "attention-decode:b=8,h=8,ctx=2048,d=128", "softmax:rows=2048,cols=2048",
      "attention:b=1,h=4,s=1024,d=128,causal=true", "gemm:m=2048,k=2048,n=2048,strategy=tiled", "gemm:m=4096,k=1024,n=64",
      "layernorm:rows=2048,cols=2048,dtype=fp32",
      "gemm:m=4096,k=4096,n=4096"};
  static final String LLM = "llm-infer:model=llama3-8b,phase=decode,batch=8,prompt=512,output=16";

  /** One change: the sets of the reference run and of the changed run. */
  record Change(List<String> base, List<String> changed) {}

  private final Map<String, String> outputs = new HashMap<>();

  @Test
  void everyRegisteredKeyChangesSomeOutput() {
    Map<String, List<String>> configsByKey = new TreeMap<>();
    Map<String, JsonNode> trees = new LinkedHashMap<>();
    for (String name : LOADER.list()) {
      var spec = LOADER.load(name, List.of()).spec();
      if (spec.system().mixed()) {
        // a mixed domain's step needs a placement (stages=, prefill=/decode=) none of the probe workloads gives;
        // its groups' keys are exercised by MixedDomainTest and MixedDomainCliTest
        continue;
      }
      JsonNode tree = LOADER.toTree(spec);
      trees.put(name, tree);
      for (String k : ConfigReaders.leafPaths(tree)) {
        List<String> on = configsByKey.computeIfAbsent(k, x -> new ArrayList<>());
        if (!on.contains(name)) {
          on.add(name);
        }
      }
    }
    boolean all = Boolean.getBoolean("sensitivity.all");
    Random rnd = new Random(Long.getLong("sensitivity.seed", 16));
    String only = System.getProperty("sensitivity.keys", "");
    List<String> keys = new ArrayList<>(configsByKey.keySet());
    if (!only.isEmpty()) {
      keys.retainAll(List.of(only.split(",")));
    } else if (!all) {
      java.util.Collections.shuffle(keys, rnd);
      keys = keys.subList(0, Math.min(keys.size(), Integer.getInteger("sensitivity.sample", 12)));
    }
    List<String> unchanged = new ArrayList<>();
    int checked = 0;
    for (String key : keys) {
      var e = Map.entry(key, configsByKey.get(key));
      List<String> offering = e.getValue().stream().filter(hw -> !changes(hw, trees.get(hw), key).isEmpty()).toList();
      List<String> pool = offering.isEmpty() ? e.getValue() : offering;
      List<String> on = all ? pool : List.of(pool.get(rnd.nextInt(pool.size())));
      for (String hw : on) {
        checked++;
        String why = check(hw, trees.get(hw), e.getKey());
        if (why != null) {
          unchanged.add(hw + ": " + e.getKey() + ": " + why);
        }
      }
    }
    assertThat(unchanged).as("keys whose change changed no output (%d checked)", checked).isEmpty();
  }

  /** Null when a change of {@code key} on {@code hw} changed a probe's output, else what was tried. */
  private String check(String hw, JsonNode tree, String key) {
    List<String> readers = ConfigReaders.readers(key);
    if (readers.contains(ConfigReaders.NO_SHIPPED_OP) || readers.isEmpty()) {
      return null; // no workload reaches it (VectorCostRulesTest checks the cost model), or it is refused when set
    }
    List<Change> changes = changes(hw, tree, key);
    if (changes.isEmpty()) {
      return "no change to try";
    }
    List<List<String>> probes = probes(key, readers);
    int accepted = 0;
    for (Change c : changes) {
      if (!output(hw, c.changed(), List.of("config", "show")).startsWith("0\n")) {
        continue; // refused by the config's own checks (a size that no longer divides the partitions): the next change
      }
      accepted++;
      for (List<String> probe : probes) {
        if (!output(hw, c.base(), probe).equals(output(hw, c.changed(), probe))) {
          return null;
        }
      }
    }
    return accepted == 0 ? "every change refused: " + changes : "unchanged output for " + changes + " on " + probes;
  }

  private String output(String hw, List<String> sets, List<String> probe) {
    List<String> args = new ArrayList<>();
    args.add(probe.get(0));
    if (probe.get(0).equals("config")) {
      args.add(probe.get(1));
      args.add(hw);
    } else {
      args.add("-H");
      args.add(hw);
      args.addAll(probe.subList(1, probe.size()));
    }
    for (String s : sets) {
      args.add("--set");
      args.add(s);
    }
    String cacheKey = String.join("\u0000", args);
    if (outputs.containsKey(cacheKey)) {
      return outputs.get(cacheKey);
    }
    var r = CliHarness.run(args.toArray(String[]::new));
    // A run the change makes fail (a buffer past the PSUM partitions, a rank count a collective refuses)
    // is a changed output too: the exit code and stderr are part of it.
    String out = r.code() + "\n" + r.out() + "\n" + r.err();
    outputs.put(cacheKey, out);
    return out;
  }

  /** The command lines that read {@code key}, by its registered readers. */
  static List<List<String>> probes(String key, List<String> readers) {
    List<List<String>> p = new ArrayList<>();
    String joined = String.join(",", readers);
    if (readers.stream().allMatch(r -> r.startsWith("report"))) {
      p.add(List.of("run", "-w", KERNELS[0]));
      p.add(List.of("config", "show"));
      return p;
    }
    if (key.startsWith("chip.core.tensor.dtype_rates.")) {
      String dtype = key.substring(key.lastIndexOf('.') + 1);
      p.add(List.of("run", "-w", "gemm:m=1024,k=1024,n=1024,dtype=" + dtype, "--format", "json"));
      p.add(List.of("run", "-w", "attention:b=1,h=4,s=1024,d=128,dtype=" + dtype, "--format", "json"));
      p.add(List.of("run", "-w", LLM + ",weights=" + dtype, "--format", "json"));
      return p;
    }
    if (joined.contains("lowering") || joined.contains("timing") || joined.contains("energy")
        || joined.contains("power-limiter") || joined.contains("cost")) {
      for (String w : KERNELS) {
        p.add(List.of("run", "-w", w, "--format", "json"));
      }
    }
    if (joined.contains("collectives")) {
      p.add(List.of("collective", "--bytes", "64MiB", "--format", "json"));
      p.add(List.of("collective", "--bytes", "64KiB", "--format", "json"));
      p.add(List.of("collective", "--bytes", "64MiB", "--systems", "2", "--format", "json"));
    }
    if (joined.contains("llm") || joined.contains("collectives") || joined.contains("cost")) {
      p.add(List.of("run", "-w", LLM, "--format", "json"));
      p.add(List.of("run", "-w", "llm-infer:model=llama3-70b,phase=prefill,batch=1,prompt=2048", "--format", "json"));
    }
    if (key.equals("runtime.request_overhead")) {
      p.add(List.of("serve", "--model", "llama3-8b", "--requests", "4", "--rate", "2/s", "--format", "json"));
    }
    return p;
  }

  private static final Pattern NUMBER_UNIT = Pattern.compile("(-?[0-9]+(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)( ?[A-Za-z/%]*)");

  /** Changes to try for {@code key}: numbers scaled, words swapped for another allowed word. */
  static List<Change> changes(String hw, JsonNode tree, String key) {
    List<Change> out = new ArrayList<>();
    if (key.equals("chip.core.tensor.dataflow")) {
      String sys = "chip.core.tensor.type=systolic";
      out.add(new Change(List.of(sys), List.of(sys, "chip.core.tensor.dataflow=output_stationary")));
      out.add(new Change(List.of(sys), List.of(sys, "chip.core.tensor.dataflow=input_stationary")));
      return out;
    }
    if (key.equals("system.chips") && tree.path("system").path("topology").path("type").asText().equals("torus")) {
      // A torus has as many positions as chips: grow the first dimension with the chip count.
      List<Integer> d = new ArrayList<>();
      tree.path("system").path("topology").path("dims").forEach(n -> d.add(n.asInt()));
      d.set(0, d.get(0) * 2);
      out.add(new Change(List.of(), List.of("system.chips=" + 2 * tree.path("system").path("chips").asInt(), "system.topology.dims=" + d)));
      return out;
    }
    if (key.equals("system.topology.dims[]")) {
      JsonNode dims = tree.path("system").path("topology").path("dims");
      if (dims.size() >= 2 && dims.get(1).asInt() % 2 == 0) {
        List<Integer> d = new ArrayList<>();
        dims.forEach(n -> d.add(n.asInt()));
        d.set(0, d.get(0) * 2);
        d.set(1, d.get(1) / 2);
        out.add(new Change(List.of(), List.of("system.topology.dims=" + d)));
      }
      return out;
    }
    if (key.startsWith("system.topology.links[].")) {
      String field = key.substring(key.lastIndexOf('.') + 1);
      for (double f : new double[] {0.5, 2}) {
        StringBuilder sb = new StringBuilder("[");
        for (JsonNode link : tree.path("system").path("topology").path("links")) {
          sb.append(sb.length() > 1 ? ", " : "").append("{");
          List<String> kv = new ArrayList<>();
          link.fields().forEachRemaining(x -> kv.add(x.getKey() + ": " + (x.getKey().equals(field) ? scaled(x.getValue().asText(), f) : x.getValue().asText())));
          sb.append(String.join(", ", kv)).append("}");
        }
        out.add(new Change(List.of(), List.of("system.topology.links=" + sb + "]")));
      }
      return out;
    }
    JsonNode v = tree;
    for (String part : key.split("\\.")) {
      v = v.path(part);
    }
    String text = v.asText();
    if (v.isBoolean()) {
      out.add(new Change(List.of(), List.of(key + "=" + !v.asBoolean())));
    } else if (key.equals("chip.power.energy_table")) {
      out.add(new Change(List.of(), List.of(key + "=" + (text.contains("trn1") ? "energy/trn2.energy.yaml" : "energy/trn1.energy.yaml"))));
    } else if (key.equals("system.topology.type")) {
      if (text.equals("switch")) {
        out.add(new Change(List.of(), List.of(key + "=torus", "system.topology.dims=[" + tree.path("system").path("chips").asInt() + "]")));
      } else if (text.equals("torus")) {
        JsonNode link = tree.path("system").path("topology").path("links").path(0);
        out.add(new Change(List.of(), List.of(key + "=switch",
            "system.topology.links=[{bandwidth: " + link.path("bandwidth").asText() + ", latency: " + link.path("latency").asText() + "}]")));
      }
    } else if (v.isTextual() && !NUMBER_UNIT.matcher(text).matches()) {
      for (String alt : alternatives(key, text)) {
        out.add(new Change(List.of(), List.of(key + "=" + alt)));
      }
    } else if (key.endsWith("_free_elements")) {
      for (int n : new int[] {512, 64}) {
        out.add(new Change(List.of(), List.of(key + "=" + n)));
      }
    } else if (scaled(text, 1) != null && new BigDecimal(text.replaceAll("[^0-9.eE+-].*$", "").strip()).signum() == 0) {
      // Zero (no launch cost, idle from the energy table): scaling keeps it zero, so set a value.
      String unit = text.replaceFirst("^[-0-9.eE+]+", "");
      out.add(new Change(List.of(), List.of(key + "=10" + unit)));
      out.add(new Change(List.of(), List.of(key + "=1" + unit)));
    } else {
      for (double f : new double[] {0.5, 2, 0.25, 4, 0.1}) {
        String s = v.isIntegralNumber() ? String.valueOf(Math.max(1, Math.round(v.asLong() * f))) : scaled(text, f);
        if (s != null && !s.equals(text)) {
          out.add(new Change(List.of(), List.of(key + "=" + s)));
        }
      }
    }
    return out;
  }

  static List<String> alternatives(String key, String text) {
    Map<String, List<String>> words = Map.of(
        "chip.core.tensor.type", List.of("trainium", "systolic"),
        "chip.collectives.algorithms", List.of("ring", "neuron"));
    List<String> alts = new ArrayList<>(words.getOrDefault(key, List.of(text + " (changed)")));
    alts.remove(text);
    return alts;
  }

  /** {@code "2.4 GHz"} times {@code f}, unit kept; null when {@code text} is not a number. */
  static String scaled(String text, double f) {
    Matcher m = NUMBER_UNIT.matcher(text);
    if (!m.matches()) {
      return null;
    }
    BigDecimal x = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(f)).stripTrailingZeros();
    return x.toPlainString() + m.group(2);
  }
}
