package trnsim.core.system;

import java.util.ArrayList;
import java.util.List;
import trnsim.isa.workload.WorkloadException;

/**
 * Which group of a {@link Domain.Mixed} runs which part of a step: the user's choice.
 * {@link Pipeline}: llm-train's layers split into consecutive pipeline stages, one per group
 * ({@code stages=trn:40+gpu:40}); {@link Disaggregated}: llm-infer's prefill on one group and decode
 * on another, the KV cache crossing the fabric ({@code prefill=trn,decode=gpu}).
 */
public sealed interface Placement permits Placement.Pipeline, Placement.Disaggregated {
  /** One pipeline stage: {@code layers} consecutive decoder layers on {@code group}. */
  record Stage(Domain.Group group, int layers) {}

  /** Stages in pipeline order (the first holds the embedding, the last the LM head and loss). */
  record Pipeline(List<Stage> stages) implements Placement {
    public Pipeline {
      stages = List.copyOf(stages);
    }
  }

  record Disaggregated(Domain.Group prefill, Domain.Group decode) implements Placement {}

  /**
   * Parses {@code group:layers+group:layers...}; every group at most once, each at least one layer,
   * adding up to the model's {@code layers}. Null text: every group in config order, layers in
   * proportion to each group's dense peak at {@code peaks}: each group's share rounded down (at least
   * one layer), then one more layer to each group in config order until they add up.
   */
  static Pipeline pipeline(Domain.Mixed d, String text, int layers, double[] peaks, String src, String key) {
    List<Stage> stages = new ArrayList<>();
    if (text == null) {
      double sum = 0;
      for (double p : peaks) {
        sum += p;
      }
      int[] n = new int[peaks.length];
      int given = 0;
      for (int i = 0; i < n.length; i++) {
        n[i] = Math.max(1, (int) Math.floor(layers * peaks[i] / sum));
        given += n[i];
      }
      for (int i = 0; given < layers; i = (i + 1) % n.length, given++) {
        n[i]++;
      }
      for (int i = n.length - 1; given > layers; i = (i + n.length - 1) % n.length) {
        if (n[i] > 1) {
          n[i]--;
          given--;
        }
      }
      for (int i = 0; i < n.length; i++) {
        stages.add(new Stage(d.groups().get(i), n[i]));
      }
      return new Pipeline(stages);
    }
    int total = 0;
    for (String part : text.split("\\+")) {
      String[] kv = part.split(":", -1);
      if (kv.length != 2) {
        throw new WorkloadException(src, key, text, "expected group:layers+group:layers (groups: " + String.join(", ", d.names()) + ")");
      }
      Domain.Group g = group(d, kv[0].trim(), src, key, text);
      if (stages.stream().anyMatch(s -> s.group() == g)) {
        throw new WorkloadException(src, key, text, "group '" + g.name() + "' given twice (one pipeline stage per group)");
      }
      int n;
      try {
        n = Integer.parseInt(kv[1].trim());
      } catch (NumberFormatException e) {
        throw new WorkloadException(src, key, text, "layers of group '" + g.name() + "' must be a positive integer");
      }
      if (n < 1) {
        throw new WorkloadException(src, key, text, "layers of group '" + g.name() + "' must be a positive integer");
      }
      total += n;
      stages.add(new Stage(g, n));
    }
    if (total != layers) {
      throw new WorkloadException(src, key, text, "the stages hold " + total + " layers; the model has " + layers);
    }
    return new Pipeline(stages);
  }

  static Domain.Group group(Domain.Mixed d, String name, String src, String key, String text) {
    Domain.Group g = d.group(name);
    if (g == null) {
      throw new WorkloadException(src, key, text, "unknown group '" + name + "'; " + d.hw().name() + " has " + String.join(", ", d.names()));
    }
    return g;
  }

  /**
   * Per-group values {@code group:n+group:n}, or one {@code n} for every group; null when absent.
   * Returns one entry per group name, null where not given.
   */
  static java.util.Map<String, Integer> perGroup(Domain.Mixed d, String text, String src, String key) {
    java.util.Map<String, Integer> out = new java.util.LinkedHashMap<>();
    for (String n : d.names()) {
      out.put(n, null);
    }
    if (text == null) {
      return out;
    }
    try {
      if (!text.contains(":")) {
        int v = Integer.parseInt(text.trim());
        if (v < 1) {
          throw new NumberFormatException();
        }
        out.replaceAll((k, x) -> v);
        return out;
      }
      for (String part : text.split("\\+")) {
        String[] kv = part.split(":", -1);
        if (kv.length != 2) {
          throw new NumberFormatException();
        }
        Domain.Group g = group(d, kv[0].trim(), src, key, text);
        int v = Integer.parseInt(kv[1].trim());
        if (v < 1) {
          throw new NumberFormatException();
        }
        out.put(g.name(), v);
      }
      return out;
    } catch (NumberFormatException e) {
      throw new WorkloadException(src, key, text, "expected a positive integer, or group:n+group:n (groups: " + String.join(", ", d.names())
          + ")");
    }
  }
}
