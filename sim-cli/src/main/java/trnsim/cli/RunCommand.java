package trnsim.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
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
        "    precision=mixed|mixed-fp32acc|bf16-sr|fp32,dropout=,tp_overlap=,dp_overlap=,dp_bucket=25MiB,collectives=config|ring|neuron,optimizer=fused|unfused]",
        "    (tp/pp/dp count ranks: logical NeuronCores)",
        "  llm-infer:model=llama3-70b[,phase=prefill|decode|generate,batch=8,prompt=,output=,max_seq=,weights=bf16|fp8|int8,tp=,lnc=,ctx=]"
            + "   (whole system; docs/model.md)",
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

  @Option(names = "--max-events", defaultValue = "500000000", description = "Stop a simulation after this many events (default: ${DEFAULT-VALUE}).")
  long maxEvents;

  public RunCommand(CliContext ctx) {
    this.ctx = ctx;
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
    Workbench wb = new Workbench(ctx);
    HardwareSpec hw = hardwareOptions.load(wb);
    List<String> specs = wb.expand(workload);
    if (specs.stream().anyMatch(wb::isSystemWorkload)) {
      if (trace != null) {
        throw new UserInputException("--trace = '" + trace + "': not available for system workloads (llm-*); trace a layer workload instead");
      }
      return SystemReports.run(wb, hw, specs, format, maxEvents, ctx.out());
    }
    List<Workbench.Limited> runs = new ArrayList<>();
    for (String spec : specs) {
      if (trace != null && specs.size() == 1) {
        final Workbench.Limited[] holder = new Workbench.Limited[1];
        AtomicFiles.write(trace, w -> {
          try (ChromeTraceSink sink = new ChromeTraceSink(w, window[0], window[1], traceMaxEvents)) {
            holder[0] = wb.simulateLimited(hw, spec, new RunOptions(sink, maxEvents));
          }
        });
        runs.add(holder[0]);
      } else {
        runs.add(wb.simulateLimited(hw, spec, new RunOptions(null, maxEvents)));
      }
    }
    PrintWriter out = ctx.out();
    switch (format) {
      case table -> {
        for (int i = 0; i < runs.size(); i++) {
          if (i > 0) {
            out.println();
          }
          Workbench.Limited l = runs.get(i);
          out.print(Reports.projectionLine(hw));
          out.print(Reports.table(l.result(), l.energy(), l.operating()));
          if (hw.totalChips() > 1) {
            out.printf("  scope               one chip of %s (%d chips); kernel workloads run on a single chip%n",
                hw.name(), hw.totalChips());
          }
        }
      }
      case json -> {
        if (runs.size() == 1) {
          Workbench.Limited l = runs.get(0);
          out.println(Json.pretty(Reports.withProjection(Reports.json(l.result(), l.energy(), l.operating()), hw)));
        } else {
          List<Object> all = new ArrayList<>();
          for (Workbench.Limited l : runs) {
            all.add(Reports.withProjection(Reports.json(l.result(), l.energy(), l.operating()), hw));
          }
          out.println(Json.pretty(all));
        }
      }
      case csv -> {
        List<List<Object>> rows = new ArrayList<>();
        for (Workbench.Limited l : runs) {
          rows.add(Reports.csvRow(l.result(), l.energy(), l.operating()));
        }
        out.print(Tables.csv(Reports.CSV_KEYS, rows));
      }
    }
    out.flush();
    return ExitCodes.OK;
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
