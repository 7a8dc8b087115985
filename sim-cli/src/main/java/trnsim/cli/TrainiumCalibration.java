package trnsim.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Published Trainium measurements ({@code measurements.json}: AWS Neuron documentation records,
 * each with kind, hardware, workload parameters, value and unit) and how trnsim reproduces each one.
 * Pure: parsing and mapping, no simulation. The mapping is the contract between a published
 * configuration and trnsim's workload vocabulary, so it states every translation it makes (Neuron's
 * ranks and tp degrees are NeuronCores, which trnsim counts the same way; a model name becomes a
 * shipped model shape; nccom-test's default datatype is uint8).
 */
final class TrainiumCalibration {
  private TrainiumCalibration() {}

  /** How a record is reproduced. */
  sealed interface Probe permits Kernel, SystemStep, Collective, Link {}

  /** A kernel workload on one chip; the metric is its time. */
  record Kernel(String hardware, String workload) implements Probe {}

  /** What a system step's metric is. */
  enum StepMetric {
    /** the step's (or phase's) time */
    TIME,
    /** output tokens per second of the step */
    TOKENS_PER_SECOND,
    /** sequences per second: {@code sequences} / step time */
    SEQUENCES_PER_SECOND
  }

  /** A distributed LLM workload (llm-infer, llm-train) on a system. */
  record SystemStep(String hardware, String workload, StepMetric metric, long sequences) implements Probe {}

  /** A standalone collective, as nccom-test launches one. */
  record Collective(String hardware, int systems, Integer lnc, String op, int ranks, long bytes, String dtype)
      implements Probe {}

  /** A raw transfer of {@code bytes} between two systems (an RDMA write, no collective runtime). */
  record Link(String hardware, int systems, long bytes) implements Probe {}

  /**
   * One record and its probe.
   *
   * @param group statistics group (kernels, collectives, network, inference TTFT / TPOT / throughput, training)
   * @param unitScale factor from seconds to the record's time unit (1e3 for ms, 1e6 for us; 1 for rates)
   * @param reliability the record's own reliability tag (high, medium, low)
   * @param unexpressible why trnsim cannot express the record, or null
   */
  record Case(String id, String kind, String group, String label, String unit, double measured, Probe probe,
      double unitScale, String reliability, String note, String unexpressible) {}

  /** Groups in report order; the issue's thresholds apply per group. */
  static final List<String> GROUPS = List.of("kernels", "collectives", "network", "inference TTFT", "inference TPOT",
      "inference throughput", "training");

  /** Instance types and the hardware configs that describe them (the first prefix that matches wins). */
  static final List<String[]> INSTANCES = List.of(new String[] {"trn1n.32xlarge", "trn1n-32xl"},
      new String[] {"trn1.32xlarge", "trn1-32xl"}, new String[] {"trn2u.48xlarge", "trn2-48xl"},
      new String[] {"trn2.48xlarge", "trn2-48xl"});

  /** Chips (for kernels on one chip) and their single-chip configs. */
  static final Map<String, String> CHIPS = Map.of("trainium1", "trn1", "trainium2", "trn2", "trainium3", "trn3");

  /**
   * A model parameter set from calibration records ({@code fitted.yaml} beside the records): the
   * records it names are fits, not predictions, and the report says so.
   */
  record Fit(String parameter, String config, String value, List<String> records, String how) {}

  /** The fits of a calibration folder ({@code fitted.yaml}); none when the file is absent. */
  static List<Fit> fits(Path dir, java.util.Set<String> recordIds) {
    Path file = dir.resolve("fitted.yaml");
    if (!Files.isRegularFile(file)) {
      return List.of();
    }
    JsonNode root;
    try {
      root = new ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(Files.readString(file));
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read as YAML: " + oneLine(e.getMessage()));
    }
    JsonNode list = root == null ? null : root.get("fitted");
    if (list == null || !list.isArray()) {
      throw new UserInputException(file + ": fitted: expected a list of {parameter, config, value, records, how}");
    }
    List<Fit> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode f = list.get(i);
      String where = file + ": fitted[" + i + "]";
      for (String key : List.of("parameter", "config", "value", "how")) {
        if (!f.path(key).isTextual() || f.path(key).asText().isBlank()) {
          throw new UserInputException(where + "." + key + " = '" + f.path(key).asText("") + "': missing or not a string");
        }
      }
      if (!f.path("records").isArray() || f.path("records").isEmpty()) {
        throw new UserInputException(where + ".records: missing or empty (the record ids the parameter was set from)");
      }
      List<String> ids = new ArrayList<>();
      for (JsonNode id : f.get("records")) {
        if (!recordIds.contains(id.asText())) {
          throw new UserInputException(where + ".records = '" + id.asText() + "': no record with that id in measurements.json");
        }
        ids.add(id.asText());
      }
      out.add(new Fit(f.get("parameter").asText(), f.get("config").asText(), f.get("value").asText(), List.copyOf(ids),
          f.get("how").asText()));
    }
    return out;
  }

  static boolean isTrainiumFolder(Path dir) {
    return Files.isRegularFile(dir.resolve("measurements.json"));
  }

  /**
   * The shipped model shape for a published model name: the organisation prefix and packaging
   * suffixes (-hf, -chat, -instruct, -v0.N, -base) are dropped, "Llama-3.1-8B" and "Meta-Llama-3-8B" become
   * llama3-8b (Llama 3 and 3.1 share their shapes), "Llama-2-7b" llama2-7b, "GPT3-6.7B" gpt3-6.7b. Null when
   * no shipped shape has that name.
   */
  static String modelName(String published, java.util.Set<String> known) {
    String n = published.toLowerCase(Locale.ROOT).trim();
    n = n.substring(n.lastIndexOf('/') + 1);
    n = n.replaceAll("-(hf|chat|instruct|base)\\b", "").replaceAll("-v\\d+(\\.\\d+)*$", "").replaceAll("^meta-", "");
    n = n.replaceAll("^llama-?(\\d)(\\.\\d)?-", "llama$1$2-").replaceAll("^llama3\\.1-", "llama3-")
        .replaceAll("^code-?llama-", "codellama-").replaceAll("^gpt-?3-", "gpt3-");
    if (known.contains(n)) {
      return n;
    }
    return null;
  }

  /**
   * Loads and maps every record; a malformed file is one {@link UserInputException} naming the
   * file, record and field. {@code models} are the shipped model shapes' names.
   */
  static List<Case> load(Path dir, java.util.Set<String> models) {
    Path file = dir.resolve("measurements.json");
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(Files.readString(file));
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read as JSON: " + oneLine(e.getMessage()));
    }
    if (root == null || !root.isArray()) {
      throw new UserInputException(file + ": expected a JSON array of measurement records");
    }
    List<Case> out = new ArrayList<>();
    for (int i = 0; i < root.size(); i++) {
      out.add(map(file, i, root.get(i), models));
    }
    return out;
  }

  static Case map(Path file, int index, JsonNode r, java.util.Set<String> models) {
    Rec rec = new Rec(file, index, r);
    String id = rec.text("id");
    String kind = rec.text("kind");
    String unit = rec.text("unit");
    double value = rec.positive(r, "value");
    double scale = switch (unit) {
      case "ms" -> 1e3;
      case "us" -> 1e6;
      case "s" -> 1;
      case "tokens/s", "seq/s" -> 1;
      default -> throw rec.bad("unit", unit, "not ms, us, s, tokens/s or seq/s");
    };
    String notes = r.path("notes").asText("");
    Matcher rel = Pattern.compile("^\\[reliability: (\\w+)]").matcher(notes);
    String reliability = rel.find() ? rel.group(1) : "unknown";
    JsonNode p = r.path("params");
    JsonNode hw = r.path("hardware");
    // "2 x trn2.48xlarge": a count of identical instances in front of the type.
    Matcher count = Pattern.compile("^(\\d+) x (.*)$").matcher(hw.path("instance").asText(""));
    String instance = count.matches() ? count.group(2) : hw.path("instance").asText("");
    int instancesNamed = count.matches() ? Integer.parseInt(count.group(1)) : 1;
    String hardwareName = instanceConfig(instance);
    String chipName = CHIPS.get(hw.path("chip").asText("").toLowerCase(Locale.ROOT));
    Probe probe;
    String group;
    String label;
    String note = "";
    String unexpressible = null;
    switch (kind) {
      case "gemm" -> {
        group = "kernels";
        String strategy = nkiMatmulStrategy(rec, p.path("blocking").asText(""));
        StringBuilder w = new StringBuilder(String.format(Locale.ROOT, "gemm:m=%d,k=%d,n=%d,dtype=%s,cores=%d,strategy=%s",
            rec.count(p, "M"), rec.count(p, "K"), rec.count(p, "N"), rec.textAt(p, "dtype_in"), physicalCores(hw), strategy));
        for (String key : List.of("block_m", "block_n", "block_k")) {
          if (p.has(key)) {
            w.append(',').append(key).append('=').append(rec.count(p, key));
          }
        }
        probe = new Kernel(chipName, w.toString());
        label = "NKI matmul " + strategy + " " + p.path("M").asText() + "x" + p.path("K").asText() + "x" + p.path("N").asText();
      }
      case "elementwise_scan_mamba" -> {
        group = "kernels";
        String version = rec.textAt(p, "kernel_version").replace("mamba_", "");
        String w = String.format(Locale.ROOT, "mamba:channels=%d,seq=%d,state=%d,batch=%d,version=%s,dtype=%s,cores=%d",
            rec.count(p, "channels"), rec.count(p, "seq_len"), rec.count(p, "state_size"), rec.count(p, "batch"), version,
            rec.textAt(p, "dtype"), physicalCores(hw));
        if (p.has("seq_len_tile")) {
          w += ",seq_tile=" + rec.count(p, "seq_len_tile");
        }
        probe = new Kernel(chipName, w);
        label = "mamba " + version + " c" + p.path("channels").asText() + " L" + p.path("seq_len").asText()
            + (id.endsWith("-text") ? " (profile run)" : "");
      }
      case "collective_all_reduce", "collective_all_gather" -> {
        group = "collectives";
        String op = kind.equals("collective_all_reduce") ? "all-reduce" : "all-gather";
        int ranks = (int) rec.count(p, "ranks");
        long bytes = rec.count(p, "size_bytes");
        String dtype = nccomDatatype(p.path("command").asText(""));
        int nodes = p.has("nodes") ? (int) rec.count(p, "nodes") : 1;
        probe = new Collective(hardwareName, nodes, lncOf(hw), op, ranks, bytes, dtype);
        label = String.format(Locale.ROOT, "nccom-test %s %d ranks %s %s", op, ranks, dtype, Calibration.sizeLabel(bytes));
        if (!p.path("command").asText("").contains("--datatype")) {
          note = "nccom-test's default datatype (uint8)";
        }
      }
      case "network_p2p_latency" -> {
        group = "network";
        probe = new Link(hardwareName, Math.max(2, instancesNamed), 8);
        label = "EFA RDMA write latency, minimal packet";
        note = "the configs' EFA latency cites this measurement: a consistency check";
      }
      case "llm_inference_ttft", "llm_inference_tpot", "llm_inference_throughput" -> {
        String metricName = kind.substring("llm_inference_".length());
        group = "inference " + (metricName.equals("throughput") ? "throughput" : metricName.toUpperCase(Locale.ROOT));
        String model = model(rec, p, models);
        unexpressible = model == null ? noShape(p) : null;
        long batch = rec.count(p, "batch_size");
        long in = rec.count(p, "input_length");
        long outLen = rec.count(p, "output_length");
        String phase = switch (metricName) {
          case "ttft" -> "prefill";
          case "tpot" -> "decode";
          default -> "generate";
        };
        String w = String.format(Locale.ROOT, "llm-infer:model=%s,phase=%s,tp=%d,batch=%d,prompt=%d,output=%d,max_seq=%d,weights=%s",
            model, phase, rec.count(p, "tp_degree"), batch, in, outLen, rec.count(p, "max_sequence_length"),
            rec.textAt(p, "weight_storage_dtype").toLowerCase(Locale.ROOT)) + lncKey(hw);
        probe = new SystemStep(hardwareName, w,
            metricName.equals("throughput") ? StepMetric.TOKENS_PER_SECOND : StepMetric.TIME, batch);
        label = String.format(Locale.ROOT, "%s %s bs%d in%d out%d max%d", p.path("model").asText(), metricName, batch, in,
            outLen, rec.count(p, "max_sequence_length"));
        if (reliability.equals("low")) {
          note = "published throughput inconsistent with its own TTFT/TPOT (record notes)";
        }
      }
      case "llm_training_throughput", "llm_training_step_time" -> {
        group = "training";
        String model = model(rec, p, models);
        unexpressible = model == null ? noShape(p) : null;
        long gbs = rec.count(p, "global_batch_size");
        int nodes = p.has("nodes") ? (int) rec.count(p, "nodes") : hw.path("instances").asInt(1);
        boolean zero1 = p.path("zero1").asBoolean(false);
        String w = String.format(Locale.ROOT,
            "llm-train:model=%s,framework=%s,tp=%d,pp=%d,dp=%d,mbs=%d,seq=%d,global_batch=%d,zero=%d,systems=%d",
            model, framework(p.path("framework").asText("")), rec.count(p, "tp_degree"), rec.count(p, "pp_degree"),
            rec.count(p, "dp_degree"), rec.count(p, "microbatch"), rec.count(p, "sequence_length"), gbs, zero1 ? 1 : 0, nodes)
            + lncKey(hw);
        boolean time = kind.endsWith("step_time");
        probe = new SystemStep(hardwareName, w, time ? StepMetric.TIME : StepMetric.SEQUENCES_PER_SECOND, gbs);
        label = String.format(Locale.ROOT, "%s %s tp%d dp%d seq%d gbs%d x%d nodes", p.path("model").asText(),
            time ? "step time" : "throughput", rec.count(p, "tp_degree"), rec.count(p, "dp_degree"),
            rec.count(p, "sequence_length"), gbs, nodes);
      }
      default -> {
        group = "other";
        probe = null;
        label = id;
        unexpressible = "record kind '" + kind + "' has no trnsim mapping";
      }
    }
    if (unexpressible != null) {
      return new Case(id, kind, group, label, unit, value, probe, scale, reliability, note, unexpressible);
    }
    if (probe instanceof Kernel && chipName == null) {
      unexpressible = "chip '" + hw.path("chip").asText("") + "' has no hardware config";
    } else if (probe != null && hardwareName == null && !(probe instanceof Kernel)) {
      unexpressible = "instance '" + instance + "' has no hardware config";
    }
    return new Case(id, kind, group, label, unit, value, probe, scale, reliability, note, unexpressible);
  }

  /** The tutorial's kernel function names, as the record's blocking text gives them, to trnsim's strategies. */
  private static String nkiMatmulStrategy(Rec rec, String blocking) {
    if (blocking.contains("nki_matmul_tiled_")) {
      return "tiled";
    }
    if (blocking.contains("nki_matmul_hoist_load_")) {
      return "hoisted";
    }
    if (blocking.contains("nki_matmul_block_free_dimension_")) {
      return "block_free";
    }
    if (blocking.contains("nki_matmul_fully_optimized_")) {
      return "block_k";
    }
    throw rec.bad("params.blocking", blocking, "names none of the NKI matmul tutorial's kernels");
  }

  /** nccom-test's {@code --datatype}; its default is uint8 (the id of the default-run record says so). */
  static String nccomDatatype(String command) {
    Matcher m = Pattern.compile("--datatype\\s+(\\S+)").matcher(command);
    return m.find() ? m.group(1).toLowerCase(Locale.ROOT) : "uint8";
  }

  private static String instanceConfig(String instance) {
    for (String[] e : INSTANCES) {
      if (instance.startsWith(e[0])) {
        return e[1];
      }
    }
    return null;
  }

  /** Physical NeuronCores a one-chip kernel used: logical cores used x LNC (a Trn2 logical core at LNC=2 is two). */
  private static int physicalCores(JsonNode hw) {
    return hw.path("neuron_cores_used").asInt(1) * hw.path("lnc").asInt(1);
  }

  /** The record's logical-core size as a workload key (ranks count logical cores), or nothing when not given. */
  private static String lncKey(JsonNode hw) {
    return hw.has("lnc") && hw.get("lnc").canConvertToInt() ? ",lnc=" + hw.get("lnc").asInt() : "";
  }

  private static Integer lncOf(JsonNode hw) {
    return hw.has("lnc") ? hw.get("lnc").asInt() : null;
  }

  /**
   * The training stack a record names, as an llm-train framework preset: NeuronX Distributed (and
   * NeMo Megatron on Neuron, which runs on it) is {@code nxd}, the Neuron reference for Megatron-LM
   * {@code megatron-neuron}, anything else {@code generic}.
   */
  static String framework(String published) {
    String f = published.toLowerCase(Locale.ROOT);
    if (f.contains("neuronx distributed") || f.contains("nxd") || f.contains("nemo")) {
      return "nxd";
    }
    if (f.contains("megatron")) {
      return "megatron-neuron";
    }
    return "generic";
  }

  private static String noShape(JsonNode p) {
    return "model '" + p.path("model").asText("") + "' has no shipped shape in configs/workloads/models";
  }

  private static String model(Rec rec, JsonNode p, java.util.Set<String> models) {
    String name = p.path("model").asText("");
    String m = modelName(name, models);
    if (m == null && p.hasNonNull("hf_model")) {
      m = modelName(p.get("hf_model").asText(), models);
    }
    return m;
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s+", " ").trim();
  }

  /** Field access on one record, with errors naming the file, the record and the field. */
  private record Rec(Path file, int index, JsonNode node) {
    UserInputException bad(String field, Object value, String why) {
      String id = node.path("id").asText("#" + index);
      return new UserInputException(file + ": record " + id + ": " + field + " = '" + value + "': " + why);
    }

    String text(String field) {
      JsonNode v = node.get(field);
      if (v == null || !v.isTextual() || v.asText().isBlank()) {
        throw bad(field, v == null ? "" : v.asText(), "missing or not a string");
      }
      return v.asText();
    }

    String textAt(JsonNode parent, String field) {
      JsonNode v = parent.get(field);
      if (v == null || !v.isTextual() || v.asText().isBlank()) {
        throw bad("params." + field, v == null ? "" : v.asText(), "missing or not a string");
      }
      return v.asText();
    }

    double positive(JsonNode parent, String field) {
      JsonNode v = parent.get(field);
      if (v == null || !v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble())) {
        throw bad(field, v == null ? "" : v.asText(), "missing or not a positive number");
      }
      return v.asDouble();
    }

    long count(JsonNode parent, String field) {
      JsonNode v = parent.get(field);
      if (v == null || !v.canConvertToLong() || v.asLong() <= 0) {
        throw bad("params." + field, v == null ? "" : v.asText(), "missing or not a positive integer");
      }
      return v.asLong();
    }
  }
}
