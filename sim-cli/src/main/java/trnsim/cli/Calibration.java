package trnsim.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Real-hardware measurements to check the model against ({@code ../shared/calibration/<chip>/}),
 * and the statistics {@code trnsim validate} reports. Pure: parsing and arithmetic, no simulation.
 *
 * <p>Files read from each chip folder (the folder name is the hardware config name), all optional
 * but at least one required: {@code gemm.csv} (dtype,M,K,N,ms,...), {@code copy.csv} (bytes,ms,...),
 * {@code elementwise.csv} (op,dtype,numel,ms,...) and {@code energy.csv}
 * (label,...,pj_per_unit,...,sm_clock_mhz_median; labels {@code idle}, {@code gemm_<dtype>_<n>},
 * {@code copy_<size>}).
 */
final class Calibration {
  private Calibration() {}

  /** Measured time below which a call is bound by host launch overhead: listed, not in the statistics. */
  static final double MIN_MS = 0.05;

  /** What is compared: a rate (TFLOP/s or GB/s), energy per unit, a clock or a power. */
  enum Metric {
    TFLOPS("TFLOP/s"), GBPS("GB/s"), PJ_PER_FLOP("pJ/FLOP"), PJ_PER_BYTE("pJ/byte"), CLOCK_MHZ("MHz"), WATTS("W"),
    MS("ms"), US("us"), SECONDS("s"), TOKENS_PER_S("tokens/s"), SEQ_PER_S("seq/s");

    /** The metric whose unit is {@code unit}, for records that name their unit. */
    static Metric ofUnit(String unit) {
      for (Metric m : values()) {
        if (m.unit.equals(unit)) {
          return m;
        }
      }
      throw new IllegalArgumentException("unknown unit '" + unit + "'");
    }

    final String unit;

    Metric(String unit) {
      this.unit = unit;
    }
  }

  /**
   * One measured point.
   *
   * @param chip hardware config name (the folder name)
   * @param group statistics group: gemm, copy, elementwise, energy, clock
   * @param label what was measured, in words
   * @param workload the trnsim workload that reproduces it (null for idle power)
   * @param metric the compared quantity
   * @param measured its measured value
   * @param measuredMs measured time per call (NaN when not a timed call)
   * @param units work per call the metric divides by: FLOPs for TFLOP/s and pJ/FLOP, bytes moved for
   *     GB/s and pJ/byte
   * @param note what the reader should know about the point (its source's caveat), or empty
   * @param fittedBy the model parameters this point set (comma-separated), empty when it set none
   *     (a prediction), null when the calibration set does not record it
   */
  record Point(String chip, String group, String label, String workload, Metric metric, double measured,
      double measuredMs, double units, String note, String fittedBy) {
    Point(String chip, String group, String label, String workload, Metric metric, double measured, double measuredMs,
        double units) {
      this(chip, group, label, workload, metric, measured, measuredMs, units, "", null);
    }

    /** fitted (the point set a model parameter), predicted (it set none), or "" when not recorded. */
    String role() {
      return fittedBy == null ? "" : fittedBy.isEmpty() ? "predicted" : "fitted";
    }

    /** In the statistics unless the call was launch-overhead bound. */
    boolean counted() {
      return Double.isNaN(measuredMs) || measuredMs >= MIN_MS;
    }
  }

  /** A point and the model's prediction of it. */
  record Compared(Point point, double predicted, String failure) {
    Compared(Point point, double predicted) {
      this(point, predicted, null);
    }

    /** In the statistics: not launch-bound, and simulated. */
    boolean counted() {
      return point.counted() && failure == null && !Double.isNaN(predicted);
    }

    /** Relative error of the prediction: predicted / measured - 1. */
    double error() {
      return predicted / point.measured() - 1;
    }
  }

  /** Median and worst absolute relative error of a group's counted points. */
  record Stats(String group, int points, int counted, double medianAbsError, double worstAbsError, String worstLabel) {}

  /** Loads every chip folder under {@code root}; a malformed file or an empty folder is a {@link UserInputException}. */
  static List<Point> load(Path root, List<Path> skip) {
    if (!Files.isDirectory(root)) {
      throw new UserInputException("--calibration = '" + root + "': no such folder");
    }
    List<Path> chips = new ArrayList<>();
    try (var s = Files.list(root)) {
      s.filter(Files::isDirectory).filter(d -> !skip.contains(d)).sorted().forEach(chips::add);
    } catch (IOException e) {
      throw new UserInputException("--calibration = '" + root + "': " + e.getMessage());
    }
    List<Point> out = new ArrayList<>();
    for (Path dir : chips) {
      out.addAll(loadChip(dir));
    }
    if (out.isEmpty() && skip.isEmpty()) {
      throw new UserInputException("--calibration = '" + root + "': no <chip>/{gemm,copy,elementwise,energy}.csv or measurements.json found");
    }
    return out;
  }

  static List<Point> loadChip(Path dir) {
    String chip = dir.getFileName().toString();
    List<Point> out = new ArrayList<>();
    Csv gemm = Csv.read(dir.resolve("gemm.csv"), "dtype", "M", "K", "N", "ms");
    if (gemm != null) {
      for (int i = 0; i < gemm.rows.size(); i++) {
        String dtype = gemm.text(i, "dtype").toLowerCase(Locale.ROOT);
        long m = gemm.integer(i, "M");
        long k = gemm.integer(i, "K");
        long n = gemm.integer(i, "N");
        double ms = gemm.number(i, "ms");
        double flops = 2.0 * m * n * k;
        out.add(new Point(chip, "gemm", String.format(Locale.ROOT, "gemm %s %dx%dx%d", dtype, m, k, n),
            String.format(Locale.ROOT, "gemm:m=%d,k=%d,n=%d,dtype=%s", m, k, n, dtype), Metric.TFLOPS,
            flops / (ms * 1e-3) / 1e12, ms, flops));
      }
    }
    Csv copy = Csv.read(dir.resolve("copy.csv"), "bytes", "ms");
    if (copy != null) {
      for (int i = 0; i < copy.rows.size(); i++) {
        long bytes = copy.integer(i, "bytes");
        double ms = copy.number(i, "ms");
        out.add(new Point(chip, "copy", "copy " + sizeLabel(bytes), "copy:bytes=" + bytes + "B", Metric.GBPS,
            2.0 * bytes / (ms * 1e-3) / 1e9, ms, 2.0 * bytes));
      }
    }
    Csv ew = Csv.read(dir.resolve("elementwise.csv"), "op", "dtype", "numel", "ms");
    if (ew != null) {
      for (int i = 0; i < ew.rows.size(); i++) {
        String op = ew.text(i, "op").toLowerCase(Locale.ROOT);
        String dtype = ew.text(i, "dtype").toLowerCase(Locale.ROOT);
        long numel = ew.integer(i, "numel");
        double ms = ew.number(i, "ms");
        int operands = op.equals("add") || op.equals("mul") ? 3 : 2;
        double bytes = (double) operands * numel * bytesOf(dtype, ew.file, i);
        out.add(new Point(chip, "elementwise", String.format(Locale.ROOT, "%s %s %d", op, dtype, numel),
            String.format(Locale.ROOT, "elementwise:op=%s,numel=%d,dtype=%s", op, numel, dtype), Metric.GBPS,
            bytes / (ms * 1e-3) / 1e9, ms, bytes));
      }
    }
    Csv en = Csv.read(dir.resolve("energy.csv"), "label", "watts", "pj_per_unit", "sm_clock_mhz_median");
    if (en != null) {
      for (int i = 0; i < en.rows.size(); i++) {
        String label = en.text(i, "label");
        String[] p = label.split("_");
        if (label.equals("idle")) {
          out.add(new Point(chip, "energy", "idle power", null, Metric.WATTS, en.number(i, "watts"), Double.NaN, 1));
        } else if (p.length == 3 && p[0].equals("gemm")) {
          long n = parseLong(p[2], en.file, i, "label");
          String w = String.format(Locale.ROOT, "gemm:m=%d,k=%d,n=%d,dtype=%s", n, n, n, p[1]);
          double flops = 2.0 * n * n * n;
          out.add(new Point(chip, "energy", "energy per FLOP, gemm " + p[1] + " " + n + "^3", w, Metric.PJ_PER_FLOP,
              en.number(i, "pj_per_unit"), Double.NaN, flops));
          out.add(new Point(chip, "clock", "clock under the power limit, gemm " + p[1] + " " + n + "^3", w, Metric.CLOCK_MHZ,
              en.number(i, "sm_clock_mhz_median"), Double.NaN, flops));
        } else if (p.length == 2 && p[0].equals("copy")) {
          long bytes = parseSize(p[1], en.file, i);
          String w = "copy:bytes=" + bytes + "B";
          out.add(new Point(chip, "energy", "energy per byte moved, copy " + p[1], w, Metric.PJ_PER_BYTE,
              en.number(i, "pj_per_unit"), Double.NaN, 2.0 * bytes));
          out.add(new Point(chip, "clock", "clock under the power limit, copy " + p[1], w, Metric.CLOCK_MHZ,
              en.number(i, "sm_clock_mhz_median"), Double.NaN, 2.0 * bytes));
        } else {
          throw new UserInputException(en.file + " line " + (i + 2) + ": label '" + label
              + "' is not idle, gemm_<dtype>_<n> or copy_<size>");
        }
      }
    }
    return out;
  }

  /** Median and worst absolute error per group (in first-appearance order), then "all". */
  static List<Stats> stats(List<Compared> results) {
    Map<String, List<Compared>> groups = new LinkedHashMap<>();
    for (Compared c : results) {
      groups.computeIfAbsent(c.point().group(), g -> new ArrayList<>()).add(c);
    }
    List<Stats> out = new ArrayList<>();
    for (var e : groups.entrySet()) {
      out.add(stats(e.getKey(), e.getValue()));
    }
    out.add(stats("all", results));
    return out;
  }

  static Stats stats(String group, List<Compared> cs) {
    List<Double> errs = new ArrayList<>();
    double worst = Double.NaN;
    String worstLabel = null;
    for (Compared c : cs) {
      if (!c.counted()) {
        continue;
      }
      double a = Math.abs(c.error());
      errs.add(a);
      if (Double.isNaN(worst) || a > worst || Double.isNaN(a)) {
        worst = a;
        worstLabel = c.point().label();
      }
    }
    return new Stats(group, cs.size(), errs.size(), median(errs), worst, worstLabel);
  }

  /** Median (mean of the middle two for an even count); NaN for none. */
  static double median(List<Double> xs) {
    if (xs.isEmpty()) {
      return Double.NaN;
    }
    double[] a = xs.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(a);
    int n = a.length;
    return n % 2 == 1 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
  }

  static String sizeLabel(long bytes) {
    if (bytes >= (1L << 30) && bytes % (1L << 30) == 0) {
      return (bytes >> 30) + " GiB";
    }
    if (bytes >= (1L << 20) && bytes % (1L << 20) == 0) {
      return (bytes >> 20) + " MiB";
    }
    return bytes + " B";
  }

  private static double bytesOf(String dtype, Path file, int row) {
    switch (dtype) {
      case "bf16": case "fp16": return 2;
      case "fp32": return 4;
      case "fp8": return 1;
      default: throw new UserInputException(file + " line " + (row + 2) + ": dtype '" + dtype + "' is not bf16, fp16, fp32 or fp8");
    }
  }

  private static long parseLong(String s, Path file, int row, String col) {
    try {
      long v = Long.parseLong(s.trim());
      if (v <= 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new UserInputException(file + " line " + (row + 2) + ": " + col + " = '" + s + "' is not a positive integer");
    }
  }

  private static long parseSize(String s, Path file, int row) {
    String t = s.trim();
    long mult = 1;
    for (String[] u : new String[][] {{"GiB", "1073741824"}, {"MiB", "1048576"}, {"KiB", "1024"}}) {
      if (t.endsWith(u[0])) {
        mult = Long.parseLong(u[1]);
        t = t.substring(0, t.length() - u[0].length());
        break;
      }
    }
    return parseLong(t, file, row, "label size") * mult;
  }

  /** A small CSV reader: a header row, then rows with as many cells; no quoting (the calibration files need none). */
  static final class Csv {
    final Path file;
    final Map<String, Integer> cols = new LinkedHashMap<>();
    final List<String[]> rows = new ArrayList<>();

    private Csv(Path file) {
      this.file = file;
    }

    /** The file, or null if absent; missing required columns or ragged rows are errors. */
    static Csv read(Path file, String... required) {
      if (!Files.exists(file)) {
        return null;
      }
      List<String> lines;
      try {
        lines = Files.readAllLines(file);
      } catch (IOException e) {
        throw new UserInputException(file + ": cannot read: " + e.getMessage());
      }
      lines.removeIf(l -> l.isBlank());
      if (lines.isEmpty()) {
        throw new UserInputException(file + ": empty (expected a header row)");
      }
      Csv c = new Csv(file);
      String[] head = lines.get(0).split(",", -1);
      for (int i = 0; i < head.length; i++) {
        c.cols.put(head[i].trim(), i);
      }
      for (String r : required) {
        if (!c.cols.containsKey(r)) {
          throw new UserInputException(file + ": header has no column '" + r + "' (needs " + String.join(", ", required) + ")");
        }
      }
      for (int i = 1; i < lines.size(); i++) {
        String[] cells = lines.get(i).split(",", -1);
        if (cells.length != head.length) {
          throw new UserInputException(file + " line " + (i + 1) + ": " + cells.length + " cells, header has " + head.length);
        }
        c.rows.add(cells);
      }
      return c;
    }

    String text(int row, String col) {
      String s = rows.get(row)[cols.get(col)].trim();
      if (s.isEmpty()) {
        throw new UserInputException(file + " line " + (row + 2) + ": " + col + " is empty");
      }
      return s;
    }

    long integer(int row, String col) {
      return parseLong(text(row, col), file, row, col);
    }

    double number(int row, String col) {
      String s = text(row, col);
      try {
        double v = Double.parseDouble(s);
        if (!(v > 0) || Double.isInfinite(v)) {
          throw new NumberFormatException();
        }
        return v;
      } catch (NumberFormatException e) {
        throw new UserInputException(file + " line " + (row + 2) + ": " + col + " = '" + s + "' is not a positive number");
      }
    }
  }
}
