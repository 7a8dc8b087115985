package trnsim.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import trnsim.core.api.ResultSchema;
import trnsim.core.api.Simulator;
import trnsim.core.config.HardwareSpec;
import trnsim.core.config.ModelLoader;
import trnsim.core.config.unit.TimeSpan;
import trnsim.core.config.unit.UnitException;
import trnsim.core.serve.Arrivals;
import trnsim.core.serve.LengthDist;
import trnsim.core.serve.Request;
import trnsim.core.serve.ServeConfig;
import trnsim.core.serve.ServePlan;
import trnsim.core.serve.ServeResult;
import trnsim.core.serve.ServeSummary;
import trnsim.core.trace.ChromeTraceSink;
import trnsim.core.trace.TraceSink;
import trnsim.isa.DType;

/** {@code trnsim serve}: a stream of requests served by replicas of a model (see docs/model.md, "Serving"). */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Simulate serving a stream of requests: arrivals, continuous batching (vllm) or chunked prefill (sarathi),",
        "KV-cache admission and preemption, each iteration timed by the simulated llm-infer graphs of its shape.",
        "Reports TTFT, TPOT and latency percentiles, throughput, goodput at the SLOs, KV occupancy, batch sizes,",
        "cost per million output tokens and energy per output token."})
public final class ServeCommand implements Callable<Integer> {
  private final CliContext ctx;

  @picocli.CommandLine.Mixin
  HardwareOptions hardwareOptions = new HardwareOptions();

  @Option(names = "--model", required = true, description = "Model name (configs/workloads/models) or a Hugging Face config.json path.")
  String model;

  @Option(names = "--tp", description = "Tensor-parallel ranks per replica (default: the smallest power of two leaving KV room for the longest request).")
  Integer tp;

  @Option(names = "--replicas", description = "Model replicas (default: as many as the system holds at that tp).")
  Integer replicas;

  @Option(names = "--lnc", description = "Physical cores per rank (overrides chip.lnc).")
  Integer lnc;

  @Option(names = "--weights", defaultValue = "bf16", description = "Weight storage: bf16, fp16, fp8 or int8 (default: ${DEFAULT-VALUE}); compute is bf16.")
  String weights;

  @Option(names = "--rate", defaultValue = "1", paramLabel = "R/s", description = "Mean request arrival rate per second, e.g. 8 or 8/s (default: ${DEFAULT-VALUE}).")
  String rate;

  @Option(names = "--arrival", defaultValue = "poisson", paramLabel = "poisson|fixed|FILE.jsonl",
      description = "poisson, fixed (evenly spaced), or a JSONL trace with arrival_s, prompt_tokens, output_tokens per line (default: ${DEFAULT-VALUE}).")
  String arrival;

  @Option(names = "--prompt", defaultValue = "512", paramLabel = "DIST",
      description = "Prompt tokens: N, fixed:N, uniform:LO:HI or lognormal:median=M,sigma=S[,max=X] (default: ${DEFAULT-VALUE}).")
  String prompt;

  @Option(names = "--output", defaultValue = "128", paramLabel = "DIST", description = "Output tokens, same forms as --prompt (default: ${DEFAULT-VALUE}).")
  String output;

  @Option(names = "--requests", defaultValue = "1000", description = "Requests to simulate (default: ${DEFAULT-VALUE}).")
  int requests;

  @Option(names = "--seed", defaultValue = "1", description = "Seeds arrivals, lengths and speculative acceptance (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--slo-ttft", defaultValue = "2s", description = "Time-to-first-token objective (default: ${DEFAULT-VALUE}).")
  String sloTtft;

  @Option(names = "--slo-tpot", defaultValue = "50ms", description = "Time-per-output-token objective (default: ${DEFAULT-VALUE}).")
  String sloTpot;

  @Option(names = "--scheduler", defaultValue = "vllm", description = "vllm (prefill first, whole prompts) or sarathi (decodes + prompt chunks) (default: ${DEFAULT-VALUE}).")
  String scheduler;

  @Option(names = "--max-batch", defaultValue = "64", description = "Most sequences running per replica (vLLM max_num_seqs) (default: ${DEFAULT-VALUE}).")
  int maxBatch;

  @Option(names = "--chunk", paramLabel = "T", description = "Token budget per iteration (sarathi: chunk, default 512; vllm: max_num_batched_tokens, default max(2048, longest request)).")
  Integer chunk;

  @Option(names = "--dispatch", defaultValue = "round-robin", description = "round-robin or least-loaded (default: ${DEFAULT-VALUE}).")
  String dispatch;

  @Option(names = "--speculative", paramLabel = "draft=NAME,k=K,accept=P", description = "Speculative decoding with a draft model, K draft tokens per step, acceptance P per token.")
  String speculative;

  @Option(names = "--sweep-rate", paramLabel = "R1:R2:N", description = "N rates from R1 to R2 (evenly spaced): the latency-throughput curve and the highest rate meeting the SLOs.")
  String sweepRate;

  @Option(names = "--chart", paramLabel = "FILE.png|FILE.svg", description = "With --sweep-rate: draw latency percentiles against throughput.")
  Path chart;

  @Option(names = "--format", defaultValue = "table", description = "table, json or csv (default: ${DEFAULT-VALUE}).")
  OutputFormat format;

  @Option(names = "--trace", paramLabel = "FILE", description = "Write a Perfetto trace of the iterations (one track per replica).")
  Path trace;

  @Option(names = "--outdir", paramLabel = "DIR", description = "Also write a run directory: hardware.yaml (fully resolved), "
      + "workload.txt, stats.json (per-request timeline, iteration aggregates), result.json and version.txt (docs/cli.md).")
  Path outdir;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec commandSpec;

  /** The run directory being filled (null without --outdir). */
  private RunDirectory rd;

  @Option(names = "--trace-max-events", defaultValue = "2000000", description = "Trace size guard (default: ${DEFAULT-VALUE}).")
  long traceMaxEvents;

  /** Most requests one run may simulate. */
  static final int MAX_REQUESTS = 1_000_000;

  public ServeCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    if (requests < 1 || requests > MAX_REQUESTS) {
      throw new UserInputException("--requests = '" + requests + "': must be from 1 to " + MAX_REQUESTS);
    }
    if (maxBatch < 1 || maxBatch > 4096) {
      throw new UserInputException("--max-batch = '" + maxBatch + "': must be from 1 to 4096");
    }
    if (chunk != null && (chunk < 1 || chunk > 1 << 20)) {
      throw new UserInputException("--chunk = '" + chunk + "': must be from 1 to " + (1 << 20));
    }
    for (var e : new Object[][] {{"--tp", tp}, {"--replicas", replicas}, {"--lnc", lnc}}) {
      if (e[1] != null && ((Integer) e[1] < 1 || (Integer) e[1] > 1 << 20)) {
        throw new UserInputException(e[0] + " = '" + e[1] + "': must be from 1 to " + (1 << 20));
      }
    }
    if (traceMaxEvents <= 0) {
      throw new UserInputException("--trace-max-events = '" + traceMaxEvents + "': must be positive");
    }
    ServeConfig.Scheduler sch = choice("--scheduler", scheduler, ServeConfig.Scheduler.class);
    ServeConfig.Dispatch disp = choice("--dispatch", dispatch.replace('-', '_'), ServeConfig.Dispatch.class);
    double ttftS = duration("--slo-ttft", sloTtft);
    double tpotS = duration("--slo-tpot", sloTpot);
    double ratePerS = rate("--rate", rate);
    LengthDist promptDist = dist("--prompt", prompt);
    LengthDist outputDist = dist("--output", output);
    ServeConfig.Speculative spec = speculative == null ? null : ServeCommand.speculative(speculative);
    DType w = weightType(weights);
    List<Double> rates = sweepRate == null ? null : rates(sweepRate);
    if (chart != null && rates == null) {
      throw new UserInputException("--chart = '" + chart + "': needs --sweep-rate R1:R2:N (a curve of rates)");
    }
    if (trace != null && rates != null) {
      throw new UserInputException("--trace = '" + trace + "': not with --sweep-rate (trace one rate)");
    }
    if (chart != null) {
      Charts.format(chart, "--chart");
    }
    Arrivals.Trace recorded = arrival.equalsIgnoreCase("poisson") || arrival.equalsIgnoreCase("fixed") ? null : readTrace(Path.of(arrival));
    if (recorded != null && rates != null) {
      throw new UserInputException("--sweep-rate: not with a recorded --arrival trace (its times are fixed)");
    }
    Path modelFile = trnsim.core.config.HfConfigImport.isPath(model) ? Path.of(model) : null;
    new OutputPaths(ctx).hardwareInput("--hardware", hardwareOptions.name).input("--model", modelFile).input("--arrival", recorded == null ? null : Path.of(arrival))
        .output("--trace", trace).output("--chart", chart).check();
    rd = RunDirectory.of(ctx, outdir);
    Simulator sim = ctx.simulator();
    HardwareSpec hw = hardwareOptions.load(sim);
    if (rd != null) {
      rd.hardware("hardware.yaml", hw).put("workload.txt", workloadText())
          .version(commandSpec.commandLine().getParseResult().originalArgs());
    }
    ModelLoader models = new ModelLoader(ctx.configs());
    models.model(model);
    if (spec != null) {
      models.model(spec.draft());
    }
    java.util.function.Function<Double, List<Request>> gen = r -> Arrivals.generate(recorded != null ? recorded
        : arrival.equalsIgnoreCase("fixed") ? new Arrivals.Fixed(r) : new Arrivals.Poisson(r), promptDist, outputDist, requests, seed);
    List<Request> first = gen.apply(rates == null ? ratePerS : rates.get(rates.size() - 1));
    long maxSeq = 0;
    for (Request q : first) {
      maxSeq = Math.max(maxSeq, q.promptTokens() + q.outputTokens());
    }
    if (recorded == null) {
      maxSeq = Math.max(maxSeq, promptDist.max() + outputDist.max());
    }
    ServePlan plan;
    try {
      plan = ServePlan.of(hw, models::model, model, tp, replicas, lnc, DType.BF16, w, sch, maxBatch, chunk, disp, spec, maxSeq, seed,
          energy(hw));
    } catch (IllegalArgumentException e) {
      throw new UserInputException("--model = '" + model + "' on " + hw.name() + ": " + e.getMessage());
    }
    try {
      return simulate(plan, gen, first, rates, ttftS, tpotS, ratePerS, recorded != null);
    } catch (trnsim.isa.ProgramException e) {
      throw new UserInputException("--model = '" + model + "' on " + hw.name() + ": " + e.getMessage());
    }
  }

  private int simulate(ServePlan plan, java.util.function.Function<Double, List<Request>> gen, List<Request> first, List<Double> rates,
      double ttftS, double tpotS, double ratePerS, boolean recorded) {
    if (rates != null) {
      ServePlan.Sweep sw = plan.sweep(rates, gen, ttftS, tpotS, 6);
      if (chart != null) {
        Charts.save(sweepChart(plan.describe(model), sw), chart, "--chart");
      }
      printSweep(plan, sw, ttftS, tpotS);
      return ExitCodes.OK;
    }
    ServeResult result;
    if (trace != null) {
      ServeResult[] holder = new ServeResult[1];
      AtomicFiles.write(trace, wr -> {
        try (ChromeTraceSink sink = new ChromeTraceSink(wr, 0, Long.MAX_VALUE, traceMaxEvents)) {
          holder[0] = plan.run(first, sink);
          if (sink.truncated()) {
            ctx.err().println("warning: --trace = '" + trace + "': " + sink.truncationNote() + "; raise --trace-max-events");
          }
        }
      });
      result = holder[0];
    } else {
      result = plan.run(first, TraceSink.NONE);
    }
    print(plan, result, plan.summary(result, ttftS, tpotS), ttftS, tpotS, recorded ? Double.NaN : ratePerS);
    return ExitCodes.OK;
  }

  private trnsim.core.energy.EnergyModel energy(HardwareSpec hw) {
    if (hw.chip().power() == null || hw.chip().power().energyTable() == null) {
      return null;
    }
    return trnsim.core.energy.EnergyModel.forHardware(hw, ctx.configs());
  }

  static <E extends Enum<E>> E choice(String option, String text, Class<E> type) {
    try {
      return Enum.valueOf(type, text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      List<String> known = new ArrayList<>();
      for (E v : type.getEnumConstants()) {
        known.add(v.name().toLowerCase(Locale.ROOT).replace('_', '-'));
      }
      throw new UserInputException(option + " = '" + text + "': unknown; known: " + String.join(", ", known));
    }
  }

  static double duration(String option, String text) {
    try {
      double s = TimeSpan.parse(text.trim()).seconds();
      if (s > 0) {
        return s;
      }
    } catch (UnitException e) {
      throw new UserInputException(option + " = '" + text + "': " + e.getMessage());
    }
    throw new UserInputException(option + " = '" + text + "': must be positive");
  }

  static double rate(String option, String text) {
    String t = text.trim().replaceFirst("(?i)/s$", "");
    try {
      double r = Double.parseDouble(t);
      if (r > 0 && r <= 1e7 && !Double.isNaN(r)) {
        return r;
      }
    } catch (NumberFormatException e) {
      // the message below
    }
    throw new UserInputException(option + " = '" + text + "': expected requests per second above 0 and at most 1e7, e.g. 8 or 8/s");
  }

  static LengthDist dist(String option, String text) {
    try {
      return LengthDist.parse(text);
    } catch (IllegalArgumentException e) {
      throw new UserInputException(option + " = '" + text + "': " + e.getMessage());
    }
  }

  static DType weightType(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (!List.of("bf16", "fp16", "fp8", "int8").contains(t)) {
      throw new UserInputException("--weights = '" + text + "': unknown; known: bf16, fp16, fp8, int8");
    }
    return DType.parse(t);
  }

  static ServeConfig.Speculative speculative(String text) {
    String draft = null;
    Integer k = null;
    Double accept = null;
    String what = "--speculative = '" + text + "': ";
    for (String kv : text.split(",")) {
      String[] e = kv.split("=", 2);
      if (e.length != 2) {
        throw new UserInputException(what + "expected draft=NAME,k=K,accept=P, e.g. draft=llama3.2-1b,k=4,accept=0.7");
      }
      String v = e[1].trim();
      try {
        switch (e[0].trim()) {
          case "draft" -> draft = v;
          case "k" -> k = Integer.parseInt(v);
          case "accept" -> accept = Double.parseDouble(v);
          default -> throw new UserInputException(what + "unknown key '" + e[0].trim() + "'; known: draft, k, accept");
        }
      } catch (NumberFormatException x) {
        throw new UserInputException(what + e[0].trim() + " '" + v + "' is not a number");
      }
    }
    if (draft == null || draft.isEmpty() || k == null || accept == null) {
      throw new UserInputException(what + "needs draft=, k= and accept=");
    }
    if (k < 1 || k > 16) {
      throw new UserInputException(what + "k " + k + " must be from 1 to 16");
    }
    if (!(accept >= 0 && accept <= 1)) {
      throw new UserInputException(what + "accept " + accept + " must be a probability from 0 to 1");
    }
    return new ServeConfig.Speculative(draft, k, accept);
  }

  static List<Double> rates(String text) {
    String[] p = text.split(":");
    String what = "--sweep-rate = '" + text + "': ";
    if (p.length != 3) {
      throw new UserInputException(what + "expected R1:R2:N such as 1:32:8");
    }
    double a = rate("--sweep-rate", p[0]);
    double b = rate("--sweep-rate", p[1]);
    int n;
    try {
      n = Integer.parseInt(p[2].trim());
    } catch (NumberFormatException e) {
      throw new UserInputException(what + "N '" + p[2].trim() + "' is not a whole number");
    }
    if (n < 2 || n > 64 || b <= a) {
      throw new UserInputException(what + "needs R1 < R2 and N from 2 to 64");
    }
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(a + (b - a) * i / (n - 1));
    }
    return out;
  }

  /** A JSONL trace: one object per line with arrival_s, prompt_tokens and output_tokens (blank lines skipped). */
  static Arrivals.Trace readTrace(Path file) {
    String what = "--arrival = '" + file + "'";
    if (!Files.isRegularFile(file)) {
      throw new UserInputException(what + ": not a readable regular file (give poisson, fixed or a .jsonl trace)");
    }
    List<String> lines;
    try {
      if (Files.size(file) > 256L << 20) {
        throw new UserInputException(what + ": larger than 256 MiB");
      }
      lines = Files.readAllLines(file);
    } catch (IOException | java.io.UncheckedIOException e) {
      throw new UserInputException(what + ": cannot read: " + e.getMessage());
    }
    List<Request> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).trim();
      if (line.isEmpty()) {
        continue;
      }
      String at = what + " line " + (i + 1);
      com.fasterxml.jackson.databind.JsonNode n;
      try {
        n = Json.MAPPER.readTree(line);
      } catch (IOException e) {
        throw new UserInputException(at + ": not a JSON object");
      }
      if (n == null || !n.isObject()) {
        throw new UserInputException(at + ": not a JSON object");
      }
      double t = number(n, "arrival_s", at, 0, 1e9);
      long p = (long) number(n, "prompt_tokens", at, 1, 1 << 24);
      long o = (long) number(n, "output_tokens", at, 1, 1 << 24);
      out.add(new Request(out.size(), t, p, o));
    }
    if (out.isEmpty()) {
      throw new UserInputException(what + ": no requests");
    }
    return new Arrivals.Trace(out);
  }

  private static double number(com.fasterxml.jackson.databind.JsonNode n, String field, String at, double lo, double hi) {
    var v = n.get(field);
    if (v == null || !v.isNumber() || !(v.asDouble() >= lo && v.asDouble() <= hi)
        || !field.equals("arrival_s") && v.asDouble() != Math.rint(v.asDouble())) {
      throw new UserInputException(at + ": " + field + " = '" + (v == null ? "missing" : v.toString()) + "': must be "
          + (field.equals("arrival_s") ? "seconds from " + (long) lo : "a whole number from " + (long) lo) + " to " + (long) hi);
    }
    return v.asDouble();
  }

  private Map<String, Object> row(ServePlan plan, ServeResult r, ServeSummary s, double ttftS, double tpotS, double ratePerS) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", model);
    m.put("hardware", plan.describe(model).replaceFirst("^.* on ([^:]*):.*$", "$1"));
    m.put("tp", plan.tp());
    m.put("replicas", plan.config().replicas());
    m.put("scheduler", plan.config().scheduler().name().toLowerCase(Locale.ROOT));
    m.put("max_batch", plan.config().maxBatch());
    m.put("token_budget", plan.config().tokenBudget());
    m.put("kv_tokens_per_replica", plan.config().kvTokensPerReplica());
    m.put("rate_per_s", ratePerS);
    m.put("requests", s.requests());
    m.put("span_s", s.spanS());
    String[] pct = {"p50", "p90", "p99"};
    for (int i = 0; i < pct.length; i++) {
      m.put("ttft_" + pct[i] + "_s", s.ttftS()[i]);
    }
    for (int i = 0; i < pct.length; i++) {
      m.put("tpot_" + pct[i] + "_s", s.tpotS()[i]);
    }
    for (int i = 0; i < pct.length; i++) {
      m.put("latency_" + pct[i] + "_s", s.latencyS()[i]);
    }
    m.put("output_tokens_per_s", s.outputTokensPerS());
    m.put("requests_per_s", s.requestsPerS());
    m.put("slo_ttft_s", ttftS);
    m.put("slo_tpot_s", tpotS);
    m.put("slo_met", s.sloMet());
    m.put("goodput_per_s", s.goodputPerS());
    m.put("kv_occupancy_mean", s.meanKvOccupancy());
    m.put("kv_occupancy_max", s.maxKvOccupancy());
    m.put("preemptions", r.preemptions());
    m.put("batch_mean", s.meanBatch());
    m.put("iterations", r.iterations());
    m.put("cost_per_million_tokens_usd", s.costPerMillionTokensUsd());
    m.put("energy_per_token_j", s.joulesPerToken());
    m.put("simulated_shapes", plan.simulatedShapes());
    return m;
  }

  /** The served workload as one line per setting: the model and every option that shapes the requests and the serving. */
  private String workloadText() {
    return String.join("\n", "model=" + model, "tp=" + (tp == null ? "auto" : tp), "replicas=" + (replicas == null ? "auto" : replicas),
        "lnc=" + (lnc == null ? "config" : lnc), "weights=" + weights, "arrival=" + arrival, "rate=" + rate,
        "sweep_rate=" + (sweepRate == null ? "none" : sweepRate), "prompt=" + prompt, "output=" + output, "requests=" + requests,
        "seed=" + seed, "scheduler=" + scheduler, "max_batch=" + maxBatch, "chunk=" + (chunk == null ? "default" : chunk),
        "dispatch=" + dispatch, "speculative=" + (speculative == null ? "none" : speculative), "slo_ttft=" + sloTtft,
        "slo_tpot=" + sloTpot) + "\n";
  }

  /** Statistics of one serving run: the iteration aggregates and every request's timeline. */
  private static Map<String, Object> serveStats(ServeResult r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("iterations", r.iterations());
    m.put("preemptions", r.preemptions());
    m.put("busy_s", r.busySeconds());
    m.put("iteration_energy_j", r.iterationJoules());
    m.put("kv_token_seconds", r.kvTokenSeconds());
    m.put("max_kv_tokens", r.maxKvTokens());
    m.put("kv_capacity_tokens", r.kvCapacityTokens());
    m.put("sequence_seconds", r.sequenceSeconds());
    m.put("prefill_tokens", r.prefillTokens());
    m.put("replicas", r.replicas());
    m.put("batch_histogram", histogram(r.batchHistogram()));
    List<Map<String, Object>> reqs = new ArrayList<>();
    for (var o : r.requests()) {
      Map<String, Object> q = new LinkedHashMap<>();
      q.put("id", o.request().id());
      q.put("arrival_s", o.request().arrivalS());
      q.put("prompt_tokens", o.request().promptTokens());
      q.put("output_tokens", o.request().outputTokens());
      q.put("replica", o.replica());
      q.put("first_token_s", o.firstTokenS());
      q.put("finish_s", o.finishS());
      q.put("preemptions", o.preemptions());
      reqs.add(q);
    }
    m.put("requests", reqs);
    return m;
  }

  private void print(ServePlan plan, ServeResult r, ServeSummary s, double ttftS, double tpotS, double ratePerS) {
    Map<String, Object> m = row(plan, r, s, ttftS, tpotS, ratePerS);
    var out = ctx.out();
    Map<String, Object> doc = new LinkedHashMap<>(m);
    doc.put("batch_histogram", histogram(r.batchHistogram()));
    if (rd != null) {
      rd.result(ResultSchema.stamped(doc)).statsTree(List.of(serveStats(r))).write();
    }
    switch (format) {
      case json -> out.println(Json.pretty(ResultSchema.stamped(doc)));
      case csv -> out.print(Tables.csv(new ArrayList<>(m.keySet()), List.of(new ArrayList<>(m.values()))));
      case table -> {
        out.println(plan.describe(model));
        out.printf(Locale.ROOT, "  requests            %d, %s, seed %d%n", s.requests(), Double.isNaN(ratePerS)
            ? "arrivals and lengths from " + arrival : String.format(Locale.ROOT, "%s arrivals at %s/s, prompt %s, output %s",
                arrival.toLowerCase(Locale.ROOT), Tables.fmt(ratePerS), prompt, output), seed);
        out.printf(Locale.ROOT, "  simulated span      %s, %d iterations, %d graph shapes simulated%n", Reports.seconds(s.spanS()),
            r.iterations(), plan.simulatedShapes());
        List<List<Object>> rows = new ArrayList<>();
        rows.add(pctRow("TTFT", s.ttftS()));
        rows.add(pctRow("TPOT", s.tpotS()));
        rows.add(pctRow("latency", s.latencyS()));
        for (String line : Tables.text(List.of("", "p50", "p90", "p99"), rows).split("\n")) {
          out.println("  " + line);
        }
        out.printf(Locale.ROOT, "  throughput          %.1f output tokens/s, %.3f requests/s%n", s.outputTokensPerS(), s.requestsPerS());
        out.printf(Locale.ROOT, "  goodput             %.3f requests/s meeting TTFT <= %s and TPOT <= %s (%.1f%% of requests)%n",
            s.goodputPerS(), Reports.seconds(ttftS), Reports.seconds(tpotS), 100 * s.sloMet());
        out.printf(Locale.ROOT, "  KV cache            mean %.1f%%, max %.1f%% of %d tokens per replica; %d preemption(s)%n",
            100 * s.meanKvOccupancy(), 100 * s.maxKvOccupancy(), plan.config().kvTokensPerReplica(), r.preemptions());
        out.printf(Locale.ROOT, "  batch               mean %.1f sequences per iteration; iterations by batch: %s%n", s.meanBatch(),
            histogramText(r));
        out.printf(Locale.ROOT, "  cost                %s USD per million output tokens%n", Tables.fmt(s.costPerMillionTokensUsd()));
        out.printf(Locale.ROOT, "  energy              %s J per output token%n", Tables.fmt(s.joulesPerToken()));
      }
    }
    out.flush();
  }

  private static List<Object> pctRow(String name, double[] v) {
    return List.of(name, Reports.seconds(v[0]), Reports.seconds(v[1]), Reports.seconds(v[2]));
  }

  private static Map<String, Long> histogram(long[] h) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (int i = 0; i < h.length; i++) {
      long lo = 1L << i;
      long hi = (1L << (i + 1)) - 1;
      m.put(lo == hi ? String.valueOf(lo) : lo + "-" + hi, h[i]);
    }
    return m;
  }

  private static String histogramText(ServeResult r) {
    List<String> parts = new ArrayList<>();
    for (var e : histogram(r.batchHistogram()).entrySet()) {
      parts.add(String.format(Locale.ROOT, "%s: %.0f%%", e.getKey(), 100.0 * e.getValue() / r.iterations()));
    }
    return String.join(", ", parts);
  }

  private void printSweep(ServePlan plan, ServePlan.Sweep sw, double ttftS, double tpotS) {
    var out = ctx.out();
    List<Map<String, Object>> rows = new ArrayList<>();
    for (var p : sw.points()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("rate_per_s", p.ratePerS());
      m.put("output_tokens_per_s", p.summary().outputTokensPerS());
      m.put("requests_per_s", p.summary().requestsPerS());
      m.put("ttft_p50_s", p.summary().ttftS()[0]);
      m.put("ttft_p90_s", p.summary().ttftS()[1]);
      m.put("tpot_p50_s", p.summary().tpotS()[0]);
      m.put("tpot_p90_s", p.summary().tpotS()[1]);
      m.put("latency_p90_s", p.summary().latencyS()[1]);
      m.put("slo_met", p.summary().sloMet());
      m.put("goodput_per_s", p.summary().goodputPerS());
      m.put("meets_slo", p.meetsSlo());
      rows.add(m);
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("plan", plan.describe(model));
    doc.put("slo_ttft_s", ttftS);
    doc.put("slo_tpot_s", tpotS);
    doc.put("slo_attainment", ServePlan.SLO_ATTAINMENT);
    doc.put("max_rate_per_s", sw.maxRatePerS());
    doc.put("max_rate_at_grid_end", sw.atGridEnd());
    doc.put("points", rows);
    if (rd != null) {
      // A rate sweep keeps no per-request timelines: its statistics are the per-rate summaries.
      rd.result(ResultSchema.stamped(doc)).statsTree(rows).write();
    }
    switch (format) {
      case json -> out.println(Json.pretty(ResultSchema.stamped(doc)));
      case csv -> {
        List<List<Object>> r = new ArrayList<>();
        for (var m : rows) {
          r.add(new ArrayList<>(m.values()));
        }
        out.print(Tables.csv(new ArrayList<>(rows.get(0).keySet()), r));
      }
      case table -> {
        out.println(plan.describe(model));
        List<List<Object>> r = new ArrayList<>();
        for (var p : sw.points()) {
          var s = p.summary();
          r.add(List.of(Tables.fmt(p.ratePerS()), String.format(Locale.ROOT, "%.1f", s.outputTokensPerS()), Reports.seconds(s.ttftS()[0]),
              Reports.seconds(s.ttftS()[1]), Reports.seconds(s.tpotS()[0]), Reports.seconds(s.tpotS()[1]), Reports.seconds(s.latencyS()[1]),
              String.format(Locale.ROOT, "%.1f%%", 100 * s.sloMet()), p.meetsSlo() ? "yes" : "no"));
        }
        out.print(Tables.text(List.of("rate/s", "tokens/s", "TTFT p50", "TTFT p90", "TPOT p50", "TPOT p90", "latency p90", "SLO met",
            "meets"), r));
        String limit = Double.isNaN(sw.maxRatePerS()) ? "none of the rates" : String.format(Locale.ROOT, "%.3f requests/s%s",
            sw.maxRatePerS(), sw.atGridEnd() ? " (the highest rate swept; the limit may be higher)" : "");
        out.printf(Locale.ROOT, "highest rate meeting TTFT <= %s and TPOT <= %s for %.0f%% of requests: %s%n", Reports.seconds(ttftS),
            Reports.seconds(tpotS), 100 * ServePlan.SLO_ATTAINMENT, limit);
      }
    }
    out.flush();
  }

  /** Latency percentiles (log) against output throughput, one point per swept rate. */
  static Figure.Xy sweepChart(String title, ServePlan.Sweep sw) {
    List<Double> xs = new ArrayList<>();
    List<Double> ttft = new ArrayList<>();
    List<Double> tpot = new ArrayList<>();
    for (var p : sw.points()) {
      xs.add(p.summary().outputTokensPerS());
      ttft.add(p.summary().ttftS()[1] * 1e3);
      tpot.add(p.summary().tpotS()[1] * 1e3);
    }
    return new Figure.Xy(title, Figure.Axis.of("output tokens/s", Figure.Scale.LINEAR, Figure.Format.NUMBER), List.of(
        new Figure.Panel(Figure.Axis.of("TTFT p90 (ms)", Figure.Scale.LOG10, Figure.Format.NUMBER),
            List.of(new Figure.Series("TTFT p90", xs, ttft, true, true))),
        new Figure.Panel(Figure.Axis.of("TPOT p90 (ms)", Figure.Scale.LOG10, Figure.Format.NUMBER),
            List.of(new Figure.Series("TPOT p90", xs, tpot, true, true)))), List.of());
  }
}
