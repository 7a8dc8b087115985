package trnsim.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Lays out a {@link Figure} and draws it on a {@link Canvas}: axes with ticks and labels, series, bars, legend. */
final class ChartRenderer {
  private ChartRenderer() {}

  static final String[] PALETTE = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
      "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d",
      "#9edae5"};
  static final String GRID = "#e3e3e3";
  static final String INK = "#222222";
  static final int WIDTH = 900;
  static final double FONT = 12;

  static byte[] render(Figure f, String format) {
    if (f instanceof Figure.Xy xy) {
      return xy(xy, format);
    }
    return bars((Figure.Bars) f, format);
  }

  /** A value-to-pixel mapping along one axis. */
  record Scale(double lo, double hi, Figure.Scale kind, double from, double to) {
    double px(double v) {
      double t = kind == Figure.Scale.LINEAR ? (v - lo) / (hi - lo) : Math.log(v / lo) / Math.log(hi / lo);
      return from + t * (to - from);
    }

    boolean drawable(double v) {
      return Double.isFinite(v) && (kind == Figure.Scale.LINEAR || v > 0);
    }
  }

  /** The range of values an axis must show, padded, with 0 included on linear axes of non-negative values. */
  static double[] range(List<Double> values, Figure.Scale kind) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      if (Double.isFinite(v) && (kind == Figure.Scale.LINEAR || v > 0)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    if (lo > hi) {
      return kind == Figure.Scale.LINEAR ? new double[] {0, 1} : new double[] {1, 10};
    }
    if (kind == Figure.Scale.LINEAR) {
      lo = lo >= 0 ? 0 : lo;
      double pad = hi > lo ? 0.06 * (hi - lo) : Math.max(1, Math.abs(hi)) * 0.5;
      return new double[] {lo, hi + pad};
    }
    if (hi / lo < 1.5) {
      return new double[] {lo / 1.5, hi * 1.5};
    }
    return new double[] {lo / 1.12, hi * 1.12};
  }

  static List<Double> ticks(double lo, double hi, Figure.Scale kind) {
    List<Double> t = new ArrayList<>();
    if (kind == Figure.Scale.LINEAR) {
      double raw = (hi - lo) / 6;
      double mag = Math.pow(10, Math.floor(Math.log10(raw)));
      double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
      for (double v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) {
        t.add(Math.abs(v) < 1e-12 * step ? 0.0 : v);
      }
      return t;
    }
    double base = kind == Figure.Scale.LOG2 ? 2 : 10;
    int first = (int) Math.ceil(Math.log(lo) / Math.log(base) - 1e-9);
    int last = (int) Math.floor(Math.log(hi) / Math.log(base) + 1e-9);
    int every = Math.max(1, (last - first + 1 + 9) / 10);
    for (int k = first; k <= last; k += every) {
      t.add(Math.pow(base, k));
    }
    if (kind == Figure.Scale.LOG10 && t.size() < 3) {
      for (int k = first - 1; k <= last; k++) {
        for (double m : new double[] {2, 5}) {
          double v = m * Math.pow(10, k);
          if (v >= lo && v <= hi) {
            t.add(v);
          }
        }
      }
      t.sort(Double::compare);
    }
    return t;
  }

  static String label(double v, Figure.Format f) {
    return switch (f) {
      case FACTOR -> number(v) + "x";
      case BYTES -> bytes(v);
      case NUMBER -> number(v);
    };
  }

  static String number(double v) {
    if (v == 0) {
      return "0";
    }
    double a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) {
      return String.format(Locale.ROOT, "%.3g", v).replaceFirst("\\.?0+e", "e");
    }
    String s = String.format(Locale.ROOT, "%.3f", v);
    return s.contains(".") ? s.replaceFirst("\\.?0+$", "") : s;
  }

  static String bytes(double v) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (u < units.length - 1 && v >= 1024) {
      v /= 1024;
      u++;
    }
    return number(v) + " " + units[u];
  }

  private static void title(Canvas c, String title, double width) {
    c.text(width / 2, 24, title, FONT + 3, Canvas.Anchor.MIDDLE, false, true);
  }

  /** Draws a vertical value axis (ticks, grid across the plot, tick labels, the rotated axis label). */
  private static void yAxis(Canvas c, Scale s, Figure.Axis a, double left, double right, double labelX) {
    for (double v : ticks(s.lo(), s.hi(), s.kind())) {
      double y = s.px(v);
      c.line(left, y, right, y, GRID, 1, false);
      c.line(left - 4, y, left, y, INK, 1, false);
      c.text(left - 7, y + 4, label(v, a.format()), FONT - 1, Canvas.Anchor.END, false, false);
    }
    c.text(labelX, (s.from() + s.to()) / 2, a.label(), FONT, Canvas.Anchor.MIDDLE, true, false);
  }

  /** Draws a horizontal axis at {@code y} (ticks and labels below it, grid up to {@code top}) and its label. */
  private static void xAxis(Canvas c, Scale s, Figure.Axis a, double y, double top, boolean grid) {
    if (a.categories() != null) {
      for (int i = 0; i < a.categories().size(); i++) {
        double x = s.px(i);
        c.line(x, y, x, y + 4, INK, 1, false);
        c.text(x, y + 17, a.categories().get(i), FONT - 1, Canvas.Anchor.MIDDLE, false, false);
      }
    } else {
      for (double v : ticks(s.lo(), s.hi(), s.kind())) {
        double x = s.px(v);
        if (grid) {
          c.line(x, top, x, y, GRID, 1, false);
        }
        c.line(x, y, x, y + 4, INK, 1, false);
        c.text(x, y + 17, label(v, a.format()), FONT - 1, Canvas.Anchor.MIDDLE, false, false);
      }
    }
    c.text((s.from() + s.to()) / 2, y + 38, a.label(), FONT, Canvas.Anchor.MIDDLE, false, false);
  }

  private static double legendWidth(List<String> names) {
    double w = 0;
    for (String n : names) {
      w = Math.max(w, Canvas.textWidth(n, FONT - 1));
    }
    return names.isEmpty() ? 0 : Math.min(320, w + 44);
  }

  /** Legend entries: a filled box ({@code swatches}), a dot for names in {@code dots}, else a line. */
  private static void legend(Canvas c, Map<String, String> colors, double x, double y, boolean swatches, java.util.Set<String> dots) {
    double yy = y;
    for (var e : colors.entrySet()) {
      if (swatches) {
        c.rect(x, yy - 9, 16, 10, e.getValue(), null);
      } else if (dots.contains(e.getKey())) {
        c.circle(x + 9, yy - 4, 3.5, e.getValue());
      } else {
        c.line(x, yy - 4, x + 18, yy - 4, e.getValue(), 2, false);
      }
      String name = e.getKey().length() > 44 ? e.getKey().substring(0, 41) + "..." : e.getKey();
      c.text(x + 24, yy, name, FONT - 1, Canvas.Anchor.START, false, false);
      yy += 17;
    }
  }

  private static byte[] xy(Figure.Xy f, String format) {
    List<String> names = new ArrayList<>();
    for (var p : f.panels()) {
      for (var s : p.series()) {
        names.add(s.name());
      }
    }
    double legendW = names.size() > 1 ? legendWidth(names) : 0;
    int panels = f.panels().size();
    int height = 130 + panels * 380 + (panels - 1) * 30;
    double left = 90;
    double right = WIDTH - 24 - legendW;
    double top = 44;
    double panelH = (height - top - 70 - (panels - 1) * 30) / panels;
    Canvas c = Canvas.forFormat(format, WIDTH, height);
    title(c, f.title(), WIDTH);
    List<Double> xs = new ArrayList<>();
    for (var p : f.panels()) {
      for (var s : p.series()) {
        xs.addAll(s.xs());
      }
    }
    Scale sx = f.x().categories() != null
        ? new Scale(-0.5, f.x().categories().size() - 0.5, Figure.Scale.LINEAR, left, right)
        : scale(xs, f.x().scale(), left, right);
    Map<String, String> colors = new LinkedHashMap<>();
    double y0 = top;
    for (var p : f.panels()) {
      double bottom = y0 + panelH;
      List<Double> ys = new ArrayList<>();
      p.series().forEach(s -> ys.addAll(s.ys()));
      Scale sy = scale(ys, p.y().scale(), bottom, y0);
      yAxis(c, sy, p.y(), left, right, 22);
      boolean last = p == f.panels().get(panels - 1);
      if (last) {
        xAxis(c, sx, f.x(), bottom, top, true);
      } else if (f.x().categories() == null) {
        for (double v : ticks(sx.lo(), sx.hi(), sx.kind())) {
          c.line(sx.px(v), y0, sx.px(v), bottom, GRID, 1, false);
        }
      }
      c.rect(left, y0, right - left, panelH, null, INK);
      for (var s : p.series()) {
        String color = colors.computeIfAbsent(s.name(), k -> PALETTE[colors.size() % PALETTE.length]);
        series(c, s, sx, sy, color);
      }
      for (var m : f.markers()) {
        double x = sx.px(m.x());
        c.line(x, y0, x, bottom, "#555555", 1, true);
        if (p == f.panels().get(0)) {
          c.text(x - 4, y0 + 6, m.label(), FONT - 2, Canvas.Anchor.END, true, false);
        }
      }
      y0 = bottom + 30;
    }
    if (legendW > 0) {
      java.util.Set<String> dots = new java.util.HashSet<>();
      f.panels().forEach(p -> p.series().stream().filter(x -> !x.line()).forEach(x -> dots.add(x.name())));
      legend(c, colors, right + 14, top + 12, false, dots);
    }
    return c.bytes();
  }

  private static Scale scale(List<Double> values, Figure.Scale kind, double from, double to) {
    double[] r = range(values, kind);
    return new Scale(r[0], r[1], kind, from, to);
  }

  private static void series(Canvas c, Figure.Series s, Scale sx, Scale sy, String color) {
    List<double[]> pts = new ArrayList<>();
    for (int i = 0; i < s.xs().size(); i++) {
      double x = s.xs().get(i);
      double y = s.ys().get(i);
      if (sx.drawable(x) && sy.drawable(y)) {
        pts.add(new double[] {sx.px(x), sy.px(y)});
      }
    }
    if (s.line() && pts.size() > 1) {
      c.polyline(pts, color, 2);
    }
    if (s.markers() || pts.size() == 1) {
      for (double[] p : pts) {
        c.circle(p[0], p[1], 3.5, color);
      }
    }
  }

  private static byte[] bars(Figure.Bars f, String format) {
    boolean log = f.value().scale() != Figure.Scale.LINEAR;
    Map<String, String> colors = new LinkedHashMap<>();
    List<Double> extent = new ArrayList<>();
    extent.add(log ? 1.0 : 0.0);
    for (var b : f.bars()) {
      double pos = log ? 1 : 0;
      double neg = log ? 1 : 0;
      for (var s : b.segments()) {
        colors.computeIfAbsent(s.name(), k -> PALETTE[colors.size() % PALETTE.length]);
        if (log) {
          pos *= s.value() > 1 ? s.value() : 1;
          neg *= s.value() < 1 ? s.value() : 1;
        } else {
          pos += s.value();
        }
      }
      extent.add(pos);
      extent.add(neg);
      if (Double.isFinite(b.total())) {
        extent.add(b.total());
      }
    }
    double legendW = legendWidth(new ArrayList<>(colors.keySet()));
    double rowH = 46;
    double top = 48;
    int height = (int) (top + f.bars().size() * rowH + 70);
    height = Math.max(height, (int) (top + 17 * colors.size() + 80));
    double left = 24;
    double right = WIDTH - 100 - legendW;
    Canvas c = Canvas.forFormat(format, WIDTH, height);
    title(c, f.title(), WIDTH);
    double[] r = range(extent, f.value().scale());
    if (log) {
      r = new double[] {Math.min(r[0], 1 / 1.12), Math.max(r[1], 1.12)};
    }
    Scale sx = new Scale(r[0], r[1], f.value().scale(), left, right);
    double bottom = top + f.bars().size() * rowH;
    xAxis(c, sx, f.value(), bottom, top, true);
    double zero = sx.px(log ? 1 : 0);
    c.line(zero, top, zero, bottom, "#777777", 1, false);
    double y = top;
    double maxChars = (right - left) / (0.56 * (FONT - 1));
    for (var b : f.bars()) {
      String label = b.label().length() > maxChars ? b.label().substring(0, (int) maxChars - 3) + "..." : b.label();
      c.text(left, y + 14, label, FONT - 1, Canvas.Anchor.START, false, false);
      bar(c, b, sx, y + 19, 20, colors, log);
      y += rowH;
    }
    legend(c, colors, WIDTH - legendW - 10, top + 12, true, java.util.Set.of());
    return c.bytes();
  }

  private static void bar(Canvas c, Figure.Bar b, Scale sx, double y, double h, Map<String, String> colors, boolean log) {
    if (b.segments().isEmpty()) {
      c.text(sx.px(log ? 1 : 0) + 6, y + 14, b.totalText(), FONT - 1, Canvas.Anchor.START, false, false);
      return;
    }
    double pos = log ? 1 : 0;
    double neg = 1;
    for (var s : b.segments()) {
      String color = colors.get(s.name());
      if (log && s.value() < 1) {
        c.rect(sx.px(neg * s.value()), y, sx.px(neg) - sx.px(neg * s.value()), h, color, null);
        neg *= s.value();
      } else if (log) {
        c.rect(sx.px(pos), y, sx.px(pos * s.value()) - sx.px(pos), h, color, null);
        pos *= s.value();
      } else {
        c.rect(sx.px(pos), y, sx.px(pos + s.value()) - sx.px(pos), h, color, null);
        pos += s.value();
      }
    }
    double end = Math.max(sx.px(pos), sx.px(b.total()));
    if (log) {
      double t = sx.px(b.total());
      c.line(t, y - 3, t, y + h + 3, "#000000", 2.5, false);
    }
    c.text(end + 6, y + 14, b.totalText(), FONT - 1, Canvas.Anchor.START, false, true);
  }
}
