package trnsim.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code compare --chart}: each row's speedup as its stacked factors on a log axis, so each factor's
 * length is its share of the speedup (log 4.36 = log 2.25 + log 2.00 + log 0.97): chips, per-chip peak,
 * the parts of utilisation (productive-time efficiency and each lost part) and work per unit.
 */
final class CompareChart {
  private CompareChart() {}

  static void save(List<Map<String, Object>> rows, String baseline, String target, Path out) {
    List<Figure.Bar> bars = new ArrayList<>();
    for (var r : rows) {
      bars.add(bar(r));
    }
    Figure.Bars fig = new Figure.Bars("Speedup of " + target + " over " + baseline + ", as factors",
        Figure.Axis.of("speedup factor (" + target + " over " + baseline + ", log scale)", Figure.Scale.LOG2, Figure.Format.FACTOR),
        bars);
    Charts.save(fig, out, "--chart");
  }

  /** Factors of 1 (to 1e-6) have no length on a log axis and stay out of the bar and the legend. */
  private static void add(List<Figure.Segment> segs, String name, double v) {
    if (Math.abs(Math.log(v)) > 1e-6) {
      segs.add(new Figure.Segment(name, v));
    }
  }

  private static Figure.Bar bar(Map<String, Object> r) {
    String label = String.valueOf(r.get("workload"));
    if (!(r.get("explain") instanceof Map<?, ?> x)) {
      String why = r.get("error") != null ? "error: " + r.get("error")
          : "no speedup: " + (r.get("baseline_time_s") == null ? r.get("baseline_bottleneck") : r.get("target_bottleneck"));
      return new Figure.Bar(label, List.of(), Double.NaN, why);
    }
    List<Figure.Segment> segs = new ArrayList<>();
    for (Object o : (List<?>) x.get("factors")) {
      Map<?, ?> f = (Map<?, ?>) o;
      if (f.get("name").equals("utilisation")) {
        for (Object u : (List<?>) x.get("utilisation_parts")) {
          Map<?, ?> p = (Map<?, ?>) u;
          add(segs, "utilisation: " + p.get("name"), (Double) p.get("value"));
        }
      } else {
        add(segs, String.valueOf(f.get("name")), (Double) f.get("value"));
      }
    }
    double s = (Double) r.get("speedup");
    return new Figure.Bar(label, segs, s, String.format(Locale.ROOT, "%.2fx %s", s, r.get("speedup_basis")));
  }
}
