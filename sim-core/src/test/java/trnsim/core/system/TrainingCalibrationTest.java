package trnsim.core.system;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The training records of calibration/trainium/measurements.json (kinds llm_training_throughput and
 * llm_training_step_time), each run as the llm-train workload that reproduces its plan on
 * trn1-32xl: none worse than 30% and the median |error| at most 10% (issue 18); the NeuronX
 * Distributed record within 10%. The two Megatron-LM records disagree with each other by 12% (SDK 2.6
 * benchmark table vs the tutorial's log line), so the step-time record stays the larger miss
 * (docs/model.md, "LLM training as deployed").
 */
class TrainingCalibrationTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  /** Record id to the workload that runs its plan (hardware trn1-32xl). */
  static final Map<String, String> WORKLOADS = new LinkedHashMap<>();

  static {
    WORKLOADS.put("trn1-train-llama3.1-8b-nxd-32n-tp32-dp32",
        "llm-train:model=llama3-8b,framework=nxd,tp=32,pp=1,dp=32,mbs=1,seq=8192,global_batch=1024,systems=32");
    WORKLOADS.put("trn1-train-gpt3-6.7b-megatronlm-1n-tp8-dp4",
        "llm-train:model=gpt3-6.7b,framework=megatron-neuron,tp=8,pp=1,dp=4,mbs=1,seq=2048,global_batch=64");
    WORKLOADS.put("trn1-train-gpt3-6.7b-megatronlm-1n-step-time",
        "llm-train:model=gpt3-6.7b,framework=megatron-neuron,tp=8,pp=1,dp=4,mbs=1,seq=2048,global_batch=64");
  }

  @Test
  void trainingRecordsAreReproduced() throws IOException {
    JsonNode all = new ObjectMapper().readTree(ROOT.resolve("calibration/trainium/measurements.json").toFile());
    JsonNode recs = all.isArray() ? all : all.get("records");
    Map<String, LlmResult> runs = new LinkedHashMap<>();
    StringBuilder table = new StringBuilder();
    java.util.List<Double> errors = new java.util.ArrayList<>();
    int seen = 0;
    for (JsonNode r : recs) {
      String kind = r.get("kind").asText();
      if (!kind.equals("llm_training_throughput") && !kind.equals("llm_training_step_time")) {
        continue;
      }
      seen++;
      String id = r.get("id").asText();
      String w = WORKLOADS.get(id);
      assertThat(w).as("a workload for %s", id).isNotNull();
      LlmResult res = runs.computeIfAbsent(w, x -> LlmSystemTest.run("trn1-32xl", x));
      double measured = r.get("value").asDouble();
      double sequences = res.tokens() / r.get("params").get("sequence_length").asDouble();
      double predicted = switch (r.get("unit").asText()) {
        case "seq/s" -> sequences / res.seconds();
        case "ms" -> res.seconds() * 1e3;
        default -> throw new AssertionError("unit " + r.get("unit").asText());
      };
      assertThat(sequences).as(id).isEqualTo(r.get("params").get("global_batch_size").asDouble());
      double err = predicted / measured - 1;
      table.append(String.format(Locale.ROOT, "%-48s %10.2f %10.2f %+6.1f%%%n", id, measured, predicted, 100 * err));
      assertThat(Math.abs(err)).as(table.toString()).isLessThanOrEqualTo(0.30);
      errors.add(Math.abs(err));
      if (id.contains("nxd")) {
        assertThat(Math.abs(err)).as(table.toString()).isLessThanOrEqualTo(0.10);
      }
    }
    System.out.print(table);
    assertThat(seen).isEqualTo(WORKLOADS.size());
    java.util.Collections.sort(errors);
    double median = (errors.get((errors.size() - 1) / 2) + errors.get(errors.size() / 2)) / 2;
    assertThat(median).as("median |error|%n%s", table).isLessThanOrEqualTo(0.10);
    // The published plans fit: memory per chip within the usable HBM.
    for (LlmResult res : runs.values()) {
      assertThat(res.memoryBytes().get("total")).isLessThan(LlmSystem.HBM_USABLE * res.memoryBytes().get("capacity"));
    }
    assertThat(List.copyOf(runs.values()).get(0).chips()).isEqualTo(512);
  }
}
