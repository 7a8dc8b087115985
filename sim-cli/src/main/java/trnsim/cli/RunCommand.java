package trnsim.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import trnsim.core.api.KernelRunResult;
import trnsim.core.api.ResultSchema;
import trnsim.core.api.Simulator;
import trnsim.core.config.HardwareSpec;
import trnsim.core.run.RunOptions;
import trnsim.core.trace.ChromeTraceSink;

/** {@code trnsim run}: simulate one workload on one hardware config and explain the result. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Simulate a workload on a hardware config and report time, throughput, traffic and what bounds it.",
        "Workloads: gemm:m=,k=,n=[,dtype=bf16|fp16|fp8|mxfp8|fp32][,strategy=auto|naive|tiled|hoisted|block_free|block_k][,block_m=,block_n=,block_k=]",
        "  (tiled, hoisted, block_free, block_k: the NKI matmul tutorial's kernels; docs/kernels.md)",
        "  copy:bytes=1GiB   elementwise:op=gelu|silu|exp|relu|add|mul|bias,numel=N   (all take cores=N)",
        "  llm-train:model=llama3-70b[,tp=,pp=,dp=,microbatches=,mbs=1,seq=4096,global_batch=1024,zero=1,dtype=bf16,systems=1,",
        "    lnc=,framework=generic|nxd|megatron-neuron,recompute=none|selective|selective-mlp|full,sp=,attn=flash|eager|eager-unfused,",
        "    precision=mixed|mixed-fp32acc|bf16-sr|fp32,dropout=,tp_overlap=,dp_overlap=,dp_bucket=25MiB,collectives=config|ring|neuron,optimizer=fused|unfused,",
        "    plan=search|exhaustive|first,vpp=1,cp=1,zero=0|1|2|3,fp8=false]   (tp/pp/dp count ranks: logical NeuronCores; open degrees are searched)",
        "  llm-infer:model=llama3-70b[,phase=prefill|decode|generate,batch=8,prompt=,output=,max_seq=,weights=bf16|fp8|int8,tp=,lnc=,ctx=]"
            + "   (whole system; docs/model.md)",
        "  on a mixed domain (system.groups, e.g. trn4-nvlink-fusion-gb300): llm-train takes stages=trn:40+gpu:40[,tp=trn:32+gpu:8],",
        "    llm-infer takes prompt=,output=[,prefill=trn,decode=gpu,tp=trn:8+gpu:1] (docs/model.md, \"Mixed Trainium-GPU domains\")",
        "  softmax|rmsnorm|layernorm:rows=,cols=[,dtype=]   attention:b=,h=,s=,d=[,s_kv=,kv_heads=,causal=,pass=fwd|bwd,dtype=]",
        "  attention-decode:b=,h=,ctx=,d=[,kv_heads=,dtype=]   layer:model=,phase=prefill|decode|train[,batch=,seq=,ctx=,dtype=]",
        "  mamba:channels=,seq=[,state=16,batch=1,version=v1|v2|v3,seq_tile=512,hoist=true,dtype=fp32,cores=1]",
        "  Counts take k (x1000) and Ki (x1024): m=4k is 4000, m=4Ki is 4096; sizes take a bare byte count or a unit"
            + " (kB/MB/GB powers of 1000, KiB/MiB/GiB powers of 1024).",
        "  model= is a shipped name or a Hugging Face config.json path; MoE models also take ep=1,imbalance=1,capacity= (all three kinds)",
        "  or the name of a file in configs/workloads/."})
public final class RunCommand implements Callable<Integer> {
  private final CliContext ctx;

  @picocli.CommandLine.Mixin
  HardwareOptions hardwareOptions = new HardwareOptions();


  @Option(names = {"--workload", "-w"}, required = true, description = "Inline workload spec or workload name.")
  String workload;


  @Option(names = "--format", defaultValue = "table", description = "table, json or csv (default: ${DEFAULT-VALUE}).")
  OutputFormat format;

  @Option(names = "--trace", paramLabel = "FILE", description = "Write a Chrome/Perfetto trace-event JSON file.")
  Path trace;

  @Option(names = "--trace-max-events", defaultValue = "2000000", description = "Trace size guard: at most this many events (default: ${DEFAULT-VALUE}).")
  long traceMaxEvents;

  @Option(names = "--trace-window-us", paramLabel = "FROM:TO", description = "Trace only events within this window of simulated microseconds.")
  String traceWindow;

  @Option(names = "--chart", paramLabel = "FILE.png|FILE.svg",
      description = "System workloads (llm-*): draw where the step time goes (compute, tp/pp/dp communication, bubbles, optimizer).")
  Path chart;

  @Option(names = "--no-steady-state", description = "Simulate every block of a GEMM instead of extrapolating its repeating steady state (for checking; docs/performance.md).")
  boolean noSteadyState;

  @Option(names = "--no-core-classes", description = "Simulate every core event by event instead of one per class of cores "
      + "running the same program (for checking; implied by --no-steady-state; docs/performance.md).")
  boolean noCoreClasses;

  @Option(names = "--exact-power-limit", description = "Under a binding power limit, search on to the highest clock step whose run fits "
      + "(its neighbour simulated over the limit) instead of stopping at the highest step the runs prove fits (for checking; docs/performance.md).")
  boolean exactPowerLimit;

  @Option(names = "--explain", description = "llm-train: ask for the plan search explicitly (plan=search, the default when degrees are open): the notes list the top plans, "
      + "their step time and memory, and why the others lose.")
  boolean explain;

  @Option(names = "--max-events", defaultValue = "500000000", description = "Stop a simulation after this many events (default: ${DEFAULT-VALUE}).")
  long maxEvents;

  @Option(names = "--outdir", paramLabel = "DIR", description = "Also write a run directory: hardware.yaml (fully resolved), "
      + "workload.txt, stats.json (every kernel's counters), result.json and version.txt (docs/cli.md).")
  Path outdir;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  public RunCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  /** llm-train workloads with the plan search on (unless plan= is given); --explain on anything else is bad input. */
  private List<String> explained(List<String> specs) {
    if (specs.stream().noneMatch(s -> s.trim().startsWith("llm-train"))) {
      throw new UserInputException("--explain: applies to llm-train workloads (it lists the plans the search compared); got " + workload);
    }
    return specs.stream().map(s -> s.trim().startsWith("llm-train") && !s.contains("plan=") ? s + (s.contains(":") ? "," : ":")
        + "plan=search" : s).toList();
  }

  @Override
  public Integer call() {
    if (maxEvents <= 0) {
      throw new UserInputException("--max-events = '" + maxEvents + "': must be positive");
    }
    if (traceMaxEvents <= 0) {
      throw new UserInputException("--trace-max-events = '" + traceMaxEvents + "': must be positive");
    }
    long[] window = parseWindow(traceWindow);
    new OutputPaths(ctx).hardwareInput("--hardware", hardwareOptions.name).output("--trace", trace).check();
    RunDirectory rd = RunDirectory.of(ctx, outdir);
    Simulator sim = ctx.simulator();
    HardwareSpec hw = hardwareOptions.load(sim);
    List<String> specs = explain ? explained(sim.expand(workload)) : sim.expand(workload);
    if (rd != null) {
      rd.hardware("hardware.yaml", hw).workloads(specs).version(spec.commandLine().getParseResult().originalArgs());
    }
    if (specs.stream().anyMatch(Simulator::isSystemWorkload)) {
      if (chart != null) {
        Charts.format(chart, "--chart");
      }
      if (trace == null || specs.size() != 1) {
        return SystemReports.run(sim, hw, specs, format, maxEvents, ctx.out(), chart, rd);
      }
      int[] code = new int[1];
      AtomicFiles.write(trace, w -> {
        try (ChromeTraceSink sink = new ChromeTraceSink(w, window[0], window[1], traceMaxEvents)) {
          code[0] = SystemReports.run(sim, hw, specs, format, maxEvents, ctx.out(), sink, chart, rd);
          warnIfCut(sink);
        }
      });
      return code[0];
    }
    if (chart != null) {
      throw new UserInputException("--chart = '" + chart + "': only for system workloads (llm-*); for a kernel use plot roofline");
    }
    List<KernelRunResult> runs = new ArrayList<>();
    try (AutoCloseable beat = Heartbeat.start(ctx.err(), workload + " on " + hw.name())) {
      simulateAll(sim, hw, specs, window, runs);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    if (rd != null) {
      rd.result(Reports.document(runs)).stats(runs).write();
    }
    return render(hw, runs);
  }

  private RunOptions options(trnsim.core.trace.TraceSink sink) {
    return new RunOptions(sink, maxEvents, !noSteadyState).withCoreClasses(!noSteadyState && !noCoreClasses)
        .withExactPowerSearch(exactPowerLimit);
  }

  private void simulateAll(Simulator sim, HardwareSpec hw, List<String> specs, long[] window, List<KernelRunResult> runs) {
    for (String spec : specs) {
      if (trace != null && specs.size() == 1) {
        final KernelRunResult[] holder = new KernelRunResult[1];
        AtomicFiles.write(trace, w -> {
          try (ChromeTraceSink sink = new ChromeTraceSink(w, window[0], window[1], traceMaxEvents)) {
            holder[0] = sim.runKernel(hw, spec, options(sink));
            warnIfCut(sink);
          }
        });
        runs.add(holder[0]);
      } else {
        runs.add(sim.runKernel(hw, spec, options(null)));
      }
    }
  }

  private int render(HardwareSpec hw, List<KernelRunResult> runs) {
    PrintWriter out = ctx.out();
    switch (format) {
      case table -> {
        for (int i = 0; i < runs.size(); i++) {
          if (i > 0) {
            out.println();
          }
          KernelRunResult l = runs.get(i);
          out.print(Reports.projectionLine(hw));
          out.print(Reports.table(l));
          if (hw.totalChips() > 1) {
            out.printf("  scope               one chip of %s (%d chips); kernel workloads run on a single chip%n",
                hw.name(), hw.totalChips());
          }
        }
      }
      case json -> out.println(Json.pretty(Reports.document(runs)));
      case csv -> {
        List<List<Object>> rows = new ArrayList<>();
        for (KernelRunResult l : runs) {
          rows.add(Reports.csvRow(l));
        }
        out.print(Tables.csv(Reports.CSV_KEYS, rows));
      }
    }
    out.flush();
    return ExitCodes.OK;
  }

  /** A trace cut by --trace-max-events says so on stderr (and in the trace itself). */
  private void warnIfCut(ChromeTraceSink sink) {
    if (sink.truncated()) {
      ctx.err().println("warning: --trace = '" + trace + "': " + sink.truncationNote()
          + "; raise --trace-max-events or narrow --trace-window-us");
      ctx.err().flush();
    }
  }

  static long[] parseWindow(String w) {
    if (w == null) {
      return new long[] {0, Long.MAX_VALUE};
    }
    String[] p = w.split(":");
    try {
      if (p.length != 2) {
        throw new NumberFormatException();
      }
      double a = Double.parseDouble(p[0]);
      double b = Double.parseDouble(p[1]);
      if (!(a >= 0 && b > a) || b > 9e12) {
        throw new NumberFormatException();
      }
      return new long[] {(long) (a * 1e6), (long) (b * 1e6)};
    } catch (NumberFormatException e) {
      throw new UserInputException("--trace-window-us = '" + w + "': expected FROM:TO in microseconds, FROM < TO");
    }
  }
}
