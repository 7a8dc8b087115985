package trnsim.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Saves figures as PNG or SVG (chosen by the file extension), headless and atomically; helpers for sweep axes. */
final class Charts {
  private Charts() {}

  /** Checks an output path names a chart format we write; returns the extension. */
  static String format(Path out, String option) {
    String n = out.getFileName() == null ? "" : out.getFileName().toString().toLowerCase(Locale.ROOT);
    if (n.endsWith(".png")) {
      return "png";
    }
    if (n.endsWith(".svg")) {
      return "svg";
    }
    throw new UserInputException(option + " = '" + out + "': must end with .png or .svg");
  }

  /** Renders a figure in the format the file name says and writes it atomically (no partial chart on failure). */
  static void save(Figure figure, Path out, String option) {
    AtomicFiles.writeBytes(out, ChartRenderer.render(figure, format(out, option)));
  }

  /** Numeric value of a varied setting such as "2TB/s", "12MiB" or "4096" (NaN if not a number). */
  static double leadingNumber(String v) {
    var m = java.util.regex.Pattern.compile("^\\s*([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\\s*(.*)$").matcher(v);
    return m.matches() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  static String unitSuffix(String v) {
    var m = java.util.regex.Pattern.compile("^\\s*([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\\s*(.*)$").matcher(v);
    return m.matches() ? m.group(2) : null;
  }

  /** True if every value is a number with the same unit (so the axis can be numeric). */
  static boolean numericAxis(List<String> values) {
    String unit = null;
    for (String v : values) {
      String u = unitSuffix(v);
      if (u == null || (unit != null && !unit.equals(u))) {
        return false;
      }
      unit = u;
    }
    return true;
  }
}
