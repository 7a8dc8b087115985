package trnsim.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.function.LongSupplier;
import trnsim.core.config.HardwareSpec;
import trnsim.core.engine.EventHandler;
import trnsim.core.engine.Simulation;
import trnsim.core.run.KernelSimulator;
import trnsim.core.run.RunOptions;
import trnsim.core.run.WorkloadRunner;
import trnsim.isa.DType;
import trnsim.isa.lower.LoweredWorkload;
import trnsim.isa.lower.Step;

/**
 * A/B helper for a noisy shared machine: runs one scenario repeatedly and prints the minimum and
 * median <em>thread CPU time</em> per run (time the thread was descheduled does not count, unlike
 * JMH's wall-clock scores). Not a JMH benchmark; use it to compare two builds back to back:
 * {@code java -cp benchmarks/target/benchmarks.jar trnsim.bench.CpuTimeProbe gemm4096 40}.
 * Scenarios: events, gemm4096, gemm4096-1core, attention, layer, lower-layer.
 */
public final class CpuTimeProbe {
  private CpuTimeProbe() {}

  public static void main(String[] a) {
    String scenario = a.length > 0 ? a[0] : "gemm4096";
    int runs = a.length > 1 ? Integer.parseInt(a[1]) : 30;
    LongSupplier run = scenario(scenario);
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    for (int i = 0; i < Math.max(3, runs / 3); i++) {
      run.getAsLong(); // warm-up
    }
    double[] ms = new double[runs];
    long check = 0;
    for (int i = 0; i < runs; i++) {
      long t0 = mx.getCurrentThreadCpuTime();
      check += run.getAsLong();
      ms[i] = (mx.getCurrentThreadCpuTime() - t0) / 1e6;
    }
    Arrays.sort(ms);
    System.out.printf(java.util.Locale.ROOT, "%s: cpu ms/run min %.3f median %.3f (runs %d, check %d)%n",
        scenario, ms[0], ms[runs / 2], runs, check / runs);
  }

  static LongSupplier scenario(String name) {
    RunOptions opts = RunOptions.defaults();
    switch (name) {
      case "events": {
        return () -> {
          Simulation sim = new Simulation();
          int pending = 256;
          int per = (1 << 20) / pending;
          for (int i = 0; i < pending; i++) {
            sim.schedule(i, new EventQueueBench.Ticker(sim, 0x9E3779B97F4A7C15L * (i + 1), per), 0, 0);
          }
          sim.run();
          return sim.eventsProcessed();
        };
      }
      case "gemm4096":
      case "gemm4096-1core": {
        HardwareSpec hw = Bench.hardware("trn2");
        String w = "gemm:m=4096,k=4096,n=4096" + (name.endsWith("1core") ? ",cores=1" : "");
        var p = Bench.lower(hw, null, w).steps().get(0).program();
        return () -> KernelSimulator.run(hw, p, DType.BF16, opts).instructions();
      }
      case "attention": {
        HardwareSpec hw = Bench.hardware("trn2");
        Step s = Bench.lower(hw, null, "attention:b=1,h=32,s=4096,d=128,causal=true").steps().get(0);
        return () -> KernelSimulator.run(hw, s.program(), s.dtype(), opts).instructions();
      }
      case "layer": {
        HardwareSpec hw = Bench.hardware("trn2");
        LoweredWorkload l = Bench.lower(hw, Bench.models(), "layer:model=llama3-70b,phase=prefill,batch=1,seq=4096");
        return () -> (long) (WorkloadRunner.run(hw, l, opts).timeSeconds() * 1e12);
      }
      case "lower-layer": {
        HardwareSpec hw = Bench.hardware("trn2");
        var models = Bench.models();
        return () -> Bench.lower(hw, models, "layer:model=llama3-70b,phase=prefill,batch=1,seq=4096").steps().size();
      }
      default:
        throw new IllegalArgumentException("unknown scenario " + name + "; known: events, gemm4096, gemm4096-1core, attention, layer, lower-layer");
    }
  }
}
