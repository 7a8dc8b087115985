package trnsim.core.scalesim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import trnsim.core.config.ConfigException;

/**
 * Reads SCALE-Sim's own input files: the INI-style architecture {@code .cfg} (keys are
 * case-insensitive and take {@code :} or {@code =}, as Python's configparser reads them) and the
 * topology CSV (first line a header; convolution rows {@code name, IFMAP H, IFMAP W, Filter H,
 * Filter W, Channels, Num Filter, Stride[, Stride W]}; GEMM rows {@code name, M, N, K}; a trailing
 * comma is optional). Every problem is a {@link ConfigException} naming file, line or key, and value.
 */
public final class ScaleSimFiles {
  private static final String[] CONV_FIELDS = {"IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
      "Channels", "Num Filter", "Strides", "Stride Width"};
  private static final String[] GEMM_FIELDS = {"M", "N", "K"};

  private ScaleSimFiles() {}

  public static ScaleSimConfig readConfig(Path file) {
    Map<String, String> kv = parseIni(file);
    String f = file.toString();
    String mode = kv.getOrDefault("run_presets.interfacebandwidth", "CALC").trim();
    if (!mode.equals("CALC")) {
      throw new ConfigException(f, "run_presets.InterfaceBandwidth", mode,
          "only CALC (stall-free, SCALE-Sim's bandwidth-estimation mode) is modelled");
    }
    String df = required(kv, f, "architecture_presets", "Dataflow");
    SystolicDataflow dataflow = SystolicDataflow.byName(df);
    if (dataflow == null || df.length() != 2) {
      throw new ConfigException(f, "architecture_presets.Dataflow", df, "must be ws, os or is");
    }
    String runName = required(kv, f, "general", "run_name");
    if (runName.contains("/") || runName.contains("\\") || runName.equals(".") || runName.equals("..")) {
      throw new ConfigException(f, "general.run_name", runName, "must be a folder name, not a path");
    }
    return new ScaleSimConfig(runName,
        positiveInt(kv, f, "ArrayHeight"), positiveInt(kv, f, "ArrayWidth"),
        positiveInt(kv, f, "IfmapSramSzkB"), positiveInt(kv, f, "FilterSramSzkB"), positiveInt(kv, f, "OfmapSramSzkB"),
        dataflow);
  }

  public static List<ScaleSimLayer> readTopology(Path file, boolean gemm) {
    List<String> lines = readLines(file);
    List<ScaleSimLayer> layers = new ArrayList<>();
    for (int i = 1; i < lines.size(); i++) {
      String row = lines.get(i).strip();
      if (!row.isEmpty()) {
        layers.addAll(gemm ? List.of(gemmRow(file, i + 1, row)) : convRows(file, i + 1, row));
      }
    }
    if (layers.isEmpty()) {
      throw new ConfigException(file.toString(), null, null, "no layers (the first line is the header)");
    }
    return layers;
  }

  private static ScaleSimLayer gemmRow(Path file, int line, String row) {
    List<String> cells = cells(row);
    int[] v = ints(file, line, cells, GEMM_FIELDS, 3);
    return ScaleSimLayer.gemm(cells.get(0), v[0], v[1], v[2]);
  }

  /** A depth-wise layer (name containing DP) is one single-channel layer per channel, as SCALE-Sim runs it. */
  private static List<ScaleSimLayer> convRows(Path file, int line, String row) {
    List<String> cells = cells(row);
    int[] v = ints(file, line, cells, CONV_FIELDS, 7);
    int strideW = cells.size() > 8 ? v[7] : v[6];
    String name = cells.get(0);
    String where = "line " + line;
    if (v[2] > v[0]) {
      throw new ConfigException(file.toString(), where + ", Filter Height", String.valueOf(v[2]),
          "is larger than the IFMAP Height " + v[0]);
    }
    if (v[3] > v[1]) {
      throw new ConfigException(file.toString(), where + ", Filter Width", String.valueOf(v[3]),
          "is larger than the IFMAP Width " + v[1]);
    }
    if (!name.contains("DP")) {
      return List.of(new ScaleSimLayer(name, v[0], v[1], v[2], v[3], v[4], v[5], v[6], strideW));
    }
    List<ScaleSimLayer> perChannel = new ArrayList<>();
    for (int ch = 0; ch < v[4]; ch++) {
      perChannel.add(new ScaleSimLayer(name + "Channel_" + ch, v[0], v[1], v[2], v[3], 1, v[5], v[6], strideW));
    }
    return perChannel;
  }

  private static List<String> cells(String row) {
    List<String> cells = new ArrayList<>();
    for (String c : row.split(",", -1)) {
      cells.add(c.strip());
    }
    if (cells.size() > 1 && cells.get(cells.size() - 1).isEmpty()) {
      cells.remove(cells.size() - 1);
    }
    return cells;
  }

  private static int[] ints(Path file, int line, List<String> cells, String[] fields, int required) {
    if (cells.size() < required + 1) {
      throw new ConfigException(file.toString(), "line " + line, String.join(",", cells),
          "needs " + (required + 1) + " fields: name, " + String.join(", ", List.of(fields).subList(0, required)));
    }
    int n = Math.min(cells.size() - 1, fields.length);
    int[] v = new int[n];
    for (int i = 0; i < n; i++) {
      v[i] = positive(file.toString(), "line " + line + ", " + fields[i], cells.get(i + 1));
    }
    return v;
  }

  private static int positive(String file, String key, String text) {
    try {
      int v = Integer.parseInt(text);
      if (v > 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new ConfigException(file, key, text, "must be a positive whole number");
  }

  private static int positiveInt(Map<String, String> kv, String file, String key) {
    return positive(file, "architecture_presets." + key, required(kv, file, "architecture_presets", key));
  }

  private static String required(Map<String, String> kv, String file, String section, String key) {
    String v = kv.get(section + "." + key.toLowerCase(Locale.ROOT));
    if (v == null || v.isBlank()) {
      throw new ConfigException(file, section + "." + key, null, "missing");
    }
    return v.strip();
  }

  /** section.key (lower-case key) to value; comments start with # or ;. */
  private static Map<String, String> parseIni(Path file) {
    Map<String, String> kv = new LinkedHashMap<>();
    String section = null;
    List<String> lines = readLines(file);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
        continue;
      }
      if (line.startsWith("[") && line.endsWith("]")) {
        section = line.substring(1, line.length() - 1).strip();
        continue;
      }
      int sep = separator(line);
      if (sep <= 0 || section == null) {
        throw new ConfigException(file.toString(), "line " + (i + 1), line,
            section == null ? "a key before any [section]" : "expected 'key: value' or 'key = value'");
      }
      kv.put(section + "." + line.substring(0, sep).strip().toLowerCase(Locale.ROOT), line.substring(sep + 1).strip());
    }
    return kv;
  }

  private static int separator(String line) {
    int colon = line.indexOf(':');
    int eq = line.indexOf('=');
    if (colon < 0) {
      return eq;
    }
    return eq < 0 ? colon : Math.min(colon, eq);
  }

  private static List<String> readLines(Path file) {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(file.toString(), null, null, "cannot read: " + e.getClass().getSimpleName()
          + (e.getMessage() == null ? "" : " " + e.getMessage()));
    }
  }
}
