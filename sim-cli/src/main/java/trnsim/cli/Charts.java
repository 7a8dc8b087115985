package trnsim.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

/** Saves XChart charts as PNG or SVG (chosen by the file extension), headless and atomically. */
final class Charts {
  private Charts() {}

  static {
    System.setProperty("java.awt.headless", "true");
  }

  static final int WIDTH = 900;
  static final int HEIGHT = 600;

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

  static void save(Chart<?, ?> chart, Path out, String option) {
    String fmt = format(out, option);
    try {
      byte[] bytes;
      if (fmt.equals("png")) {
        bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
      } else {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        VectorGraphicsEncoder.saveVectorGraphic(chart, bos, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        bytes = bos.toByteArray();
      }
      AtomicFiles.writeBytes(out, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot render " + out + ": " + e.getMessage(), e);
    }
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
