package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import trnsim.core.config.HardwareLoader;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.ModelLoader;
import trnsim.core.run.RunOptions;
import trnsim.isa.workload.WorkloadSpec;

/**
 * The published Transformers-NeuronX inference measurements (calibration/trainium/measurements.json,
 * kinds llm_inference_ttft / tpot / throughput) against llm-infer on trn1-32xl, with the workload
 * each record maps to: median |error| at most 10% per kind and none worse than 30% (issue 18). The TTFT
 * median meets it with little margin (9.9%; docs/model.md, "LLM inference as deployed").
 */
class InferenceCalibrationTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Map<String, String> MODELS = Map.of("Llama-3-8B", "llama3-8b", "Llama-2-7b", "llama2-7b");

  record Case(String id, String kind, String workload, double measured) {}

  static String workload(JsonNode p, String kind) {
    String phase = switch (kind) {
      case "ttft" -> "prefill";
      case "tpot" -> "decode";
      default -> "generate";
    };
    return String.format(Locale.ROOT, "llm-infer:model=%s,phase=%s,tp=%d,batch=%d,prompt=%d,output=%d,max_seq=%d,weights=%s",
        MODELS.get(p.get("model").asText()), phase, p.get("tp_degree").asInt(), p.get("batch_size").asInt(),
        p.get("input_length").asInt(), p.get("output_length").asInt(), p.get("max_sequence_length").asInt(),
        p.get("weight_storage_dtype").asText().toLowerCase(Locale.ROOT));
  }

  @Test
  void publishedInferenceRecordsAreReproduced() throws Exception {
    JsonNode all = new ObjectMapper().readTree(Files.readString(ROOT.resolve("calibration/trainium/measurements.json")));
    List<Case> cases = new ArrayList<>();
    for (JsonNode r : all) {
      String kind = r.get("kind").asText();
      if (kind.startsWith("llm_inference_")) {
        String k = kind.substring("llm_inference_".length());
        cases.add(new Case(r.get("id").asText(), k, workload(r.get("params"), k), r.get("value").asDouble()));
      }
    }
    assertThat(cases).hasSize(24);
    HardwareSpec hw = new HardwareLoader(ROOT.resolve("configs")).load("trn1-32xl", List.of()).spec();
    ModelLoader models = new ModelLoader(ROOT.resolve("configs"));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    Map<String, List<Double>> errors = new TreeMap<>();
    StringBuilder table = new StringBuilder();
    try {
      List<Future<LlmResult>> runs = new ArrayList<>();
      for (Case c : cases) {
        runs.add(pool.submit(() -> LlmSystem.run(hw, WorkloadSpec.parse(c.workload(), "test"), models::model, null, RunOptions.defaults())));
      }
      for (int i = 0; i < cases.size(); i++) {
        Case c = cases.get(i);
        LlmResult r = runs.get(i).get();
        double predicted = c.kind().equals("throughput") ? r.tokens() / r.seconds() : r.seconds() * 1e3;
        double err = predicted / c.measured() - 1;
        errors.computeIfAbsent(c.kind(), k -> new ArrayList<>()).add(Math.abs(err));
        table.append(String.format(Locale.ROOT, "%-62s %10.2f %10.2f %+6.1f%%%n", c.id(), c.measured(), predicted, 100 * err));
      }
    } finally {
      pool.shutdownNow();
    }
    for (var e : errors.entrySet()) {
      List<Double> v = new ArrayList<>(e.getValue());
      v.sort(Double::compare);
      double median = (v.get((v.size() - 1) / 2) + v.get(v.size() / 2)) / 2;
      assertThat(median).as("median |error| of %s%n%s", e.getKey(), table).isLessThanOrEqualTo(0.10);
      assertThat(v.get(v.size() - 1)).as("worst |error| of %s%n%s", e.getKey(), table).isLessThanOrEqualTo(0.30);
    }
  }
}
