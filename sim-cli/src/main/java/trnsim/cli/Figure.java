package trnsim.cli;

import java.util.List;

/**
 * A chart as data, drawn by {@link ChartRenderer} to SVG (text kept as {@code <text>} elements) or PNG.
 * Axis labels are quantities with units ("message size", "latency (us)"), never raw JSON keys.
 */
sealed interface Figure permits Figure.Xy, Figure.Bars {
  String title();

  /** How an axis maps values: linear, log base 10 (decade ticks) or log base 2 (power-of-two ticks). */
  enum Scale { LINEAR, LOG10, LOG2 }

  /** How tick values are written: plain numbers, byte sizes (1 KiB, 4 MiB) or factors (0.5x, 2x). */
  enum Format { NUMBER, BYTES, FACTOR }

  /**
   * An axis: its label (quantity and unit), scale and tick format; {@code categories}, when not null,
   * makes the axis categorical (ticks at 0, 1, ... labelled with these names).
   */
  record Axis(String label, Scale scale, Format format, List<String> categories) {
    static Axis of(String label, Scale scale, Format format) {
      return new Axis(label, scale, format, null);
    }

    static Axis categories(String label, List<String> names) {
      return new Axis(label, Scale.LINEAR, Format.NUMBER, List.copyOf(names));
    }
  }

  /** A series of points; drawn as a line, as markers, or both. */
  record Series(String name, List<Double> xs, List<Double> ys, boolean line, boolean markers) {}

  /** A vertical dashed line across every panel at {@code x}, labelled (e.g. where the algorithm changes). */
  record Marker(double x, String label) {}

  /** One plot area sharing the figure's x axis. */
  record Panel(Axis y, List<Series> series) {}

  /** Line and point charts: one or more panels stacked over a shared x axis. */
  record Xy(String title, Axis x, List<Panel> panels, List<Marker> markers) implements Figure {}

  /** One part of a bar: a value on a linear axis, a factor on a log axis. */
  record Segment(String name, double value) {}

  /**
   * One horizontal bar: its label, its stacked segments and the total they make (the sum on a linear
   * axis, the product on a log axis), written at its end as {@code totalText}. A bar without segments
   * shows {@code totalText} alone (say, why there is no value).
   */
  record Bar(String label, List<Segment> segments, double total, String totalText) {}

  /**
   * Horizontal stacked bars. On a linear axis segments stack from 0; on a log axis each factor is a
   * segment of length log(factor) from 1x, factors above 1 stacking right and below 1 stacking left,
   * and a black tick marks the product.
   */
  record Bars(String title, Axis value, List<Bar> bars) implements Figure {}
}
