package trnsim.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Renders a header plus rows as an aligned text table, JSON array of objects, or RFC 4180 CSV. */
public final class Tables {
  private Tables() {}

  public static void print(PrintWriter out, OutputFormat format, List<String> header, List<List<Object>> rows) {
    switch (format) {
      case table -> out.print(text(header, rows));
      case json -> {
        List<Map<String, Object>> objs = new ArrayList<>();
        for (List<Object> r : rows) {
          Map<String, Object> m = new LinkedHashMap<>();
          for (int i = 0; i < header.size(); i++) {
            m.put(header.get(i), r.get(i));
          }
          objs.add(m);
        }
        out.println(Json.pretty(objs));
      }
      case csv -> out.print(csv(header, rows));
    }
    out.flush();
  }

  public static String text(List<String> header, List<List<Object>> rows) {
    int n = header.size();
    int[] w = new int[n];
    List<List<String>> cells = new ArrayList<>();
    cells.add(header);
    for (List<Object> r : rows) {
      List<String> c = new ArrayList<>();
      for (Object o : r) {
        c.add(cell(o));
      }
      cells.add(c);
    }
    for (List<String> r : cells) {
      for (int i = 0; i < n; i++) {
        w[i] = Math.max(w[i], r.get(i).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (int ri = 0; ri < cells.size(); ri++) {
      List<String> r = cells.get(ri);
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < n; i++) {
        String v = r.get(i);
        boolean numeric = ri > 0 && rows.get(ri - 1).get(i) instanceof Number;
        if (i > 0) {
          line.append("  ");
        }
        line.append(numeric ? " ".repeat(w[i] - v.length()) + v : v + " ".repeat(w[i] - v.length()));
      }
      sb.append(line.toString().stripTrailing()).append('\n');
      if (ri == 0) {
        StringBuilder rule = new StringBuilder();
        for (int i = 0; i < n; i++) {
          if (i > 0) {
            rule.append("  ");
          }
          rule.append("-".repeat(w[i]));
        }
        sb.append(rule).append('\n');
      }
    }
    return sb.toString();
  }

  /** CSV of report rows by key; an {@code explain} object is written as its one-line text. */
  static String csvOfRows(List<String> keys, List<? extends java.util.Map<String, Object>> rows) {
    List<List<Object>> r = new java.util.ArrayList<>();
    for (var m : rows) {
      List<Object> cells = new java.util.ArrayList<>();
      for (String k : keys) {
        Object v = m.get(k);
        cells.add(k.equals("explain") && v instanceof java.util.Map<?, ?> x ? x.get("text") : v);
      }
      r.add(cells);
    }
    return csv(keys, r);
  }

  public static String csv(List<String> header, List<List<Object>> rows) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.join(",", header.stream().map(Tables::csvCell).toList())).append('\n');
    for (List<Object> r : rows) {
      List<String> c = new ArrayList<>();
      for (Object o : r) {
        c.add(csvCell(o == null ? "" : plain(o)));
      }
      sb.append(String.join(",", c)).append('\n');
    }
    return sb.toString();
  }

  private static String plain(Object o) {
    if (o instanceof Double d) {
      return Double.isFinite(d) ? Double.toString(d) : "";
    }
    return String.valueOf(o);
  }

  private static String csvCell(String s) {
    if (s.contains(",") || s.contains("\"") || s.contains("\n")) {
      return "\"" + s.replace("\"", "\"\"") + "\"";
    }
    return s;
  }

  /** Formats a cell for people: doubles with 4 significant digits, nulls and NaN as '-'. */
  public static String cell(Object o) {
    if (o == null) {
      return "-";
    }
    if (o instanceof Double d) {
      return fmt(d);
    }
    return String.valueOf(o);
  }

  public static String fmt(double d) {
    if (!Double.isFinite(d)) {
      return "-";
    }
    double a = Math.abs(d);
    if (a == 0) {
      return "0";
    }
    if (a >= 1e6 || a < 1e-3) {
      return String.format(java.util.Locale.ROOT, "%.3e", d);
    }
    int decimals = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3;
    return String.format(java.util.Locale.ROOT, "%." + decimals + "f", d);
  }
}
