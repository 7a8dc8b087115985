package trnsim.isa.workload;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import trnsim.isa.DType;

/**
 * A workload written inline, {@code kind:key=value,key=value} (e.g.
 * {@code gemm:m=4096,k=8192,n=8192,dtype=bf16}). Typed getters parse values and remember which keys
 * were read; {@link #finish()} rejects keys nobody read, so typos never pass silently.
 */
public final class WorkloadSpec {
  private final String source;
  private final String kind;
  private final Map<String, String> params;
  private final Set<String> used = new LinkedHashSet<>();
  private static final java.util.regex.Pattern BYTES =
      java.util.regex.Pattern.compile("^\\s*([0-9][0-9_]*(?:\\.[0-9]+)?)\\s*(kB|[KMGT]?i?B)?\\s*$");

  private WorkloadSpec(String source, String kind, Map<String, String> params) {
    this.source = source;
    this.kind = kind;
    this.params = params;
  }

  /** @param source where the text came from, for error messages ({@code --workload}, a file name) */
  public static WorkloadSpec parse(String text, String source) {
    if (text == null || text.isBlank()) {
      throw new WorkloadException(source, null, text, "empty workload; expected kind:key=value,... such as gemm:m=4096,k=4096,n=4096");
    }
    String t = text.trim();
    int colon = t.indexOf(':');
    String kind = (colon < 0 ? t : t.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
    if (!kind.matches("[a-z][a-z0-9_-]*")) {
      throw new WorkloadException(source, "kind", kind, "not a workload kind");
    }
    Map<String, String> params = new LinkedHashMap<>();
    if (colon >= 0 && colon < t.length() - 1) {
      for (String part : t.substring(colon + 1).split(",")) {
        if (part.isBlank()) {
          continue;
        }
        int eq = part.indexOf('=');
        if (eq <= 0) {
          throw new WorkloadException(source, kind, part.trim(), "expected key=value");
        }
        String k = part.substring(0, eq).trim().toLowerCase(Locale.ROOT);
        String v = part.substring(eq + 1).trim();
        if (v.isEmpty()) {
          throw new WorkloadException(source, kind + "." + k, "", "empty value");
        }
        if (params.put(k, v) != null) {
          throw new WorkloadException(source, kind + "." + k, v, "given twice");
        }
      }
    }
    return new WorkloadSpec(source, kind, params);
  }

  public String kind() {
    return kind;
  }

  public String source() {
    return source;
  }

  public Map<String, String> params() {
    return java.util.Collections.unmodifiableMap(params);
  }

  public boolean has(String key) {
    return params.containsKey(key);
  }

  private WorkloadException bad(String key, String value, String reason) {
    return new WorkloadException(source, kind + "." + key, value, reason);
  }

  /** Marks {@code key} as read and returns its text; null when absent and a default exists. */
  private String raw(String key, Object dflt) {
    used.add(key);
    String v = params.get(key);
    if (v == null && dflt == null) {
      throw bad(key, null, "missing required key");
    }
    return v;
  }

  public String string(String key, String dflt) {
    used.add(key);
    String v = params.get(key);
    if (v == null) {
      if (dflt == null) {
        throw bad(key, null, "missing required key");
      }
      return dflt;
    }
    return v;
  }

  /** A positive finite decimal number (a ratio such as 1.25), or {@code dflt} when absent. */
  public double number(String key, double dflt) {
    used.add(key);
    String v = params.get(key);
    if (v == null) {
      return dflt;
    }
    double x;
    try {
      x = Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      throw bad(key, v, "not a number");
    }
    if (!(x > 0) || Double.isInfinite(x)) {
      throw bad(key, v, "must be a positive number");
    }
    return x;
  }

  /** A positive count; accepts 4096, 4_096, 4k (x1000), 4Ki (x1024), 1e6. */
  public long positive(String key, Long dflt) {
    String v = raw(key, dflt);
    if (v == null) {
      return dflt;
    }
    long x = parseCount(v, key);
    if (x <= 0) {
      throw bad(key, v, "must be a positive integer");
    }
    return x;
  }

  /** Longest numeric value read (a 1 MB number is refused at once instead of parsed for seconds). */
  static final int MAX_NUMBER_CHARS = 40;

  /**
   * Numbers are ASCII: full-width or other Unicode digits (which {@link java.math.BigDecimal}
   * would accept) are refused, so the canonical spec text, and with it a sweep's resume key, is
   * the text that was parsed.
   */
  private void requireAsciiNumber(String key, String v) {
    if (v.length() > MAX_NUMBER_CHARS) {
      throw bad(key, v, "not a number (" + v.length() + " characters)");
    }
    for (int i = 0; i < v.length(); i++) {
      if (v.charAt(i) > 0x7e) {
        throw bad(key, v, "not a number (digits must be ASCII 0-9)");
      }
    }
  }

  private long parseCount(String v, String key) {
    requireAsciiNumber(key, v);
    String s = v.replace("_", "").trim();
    long mult = 1;
    String lower = s.toLowerCase(Locale.ROOT);
    if (lower.endsWith("ki")) {
      mult = 1024;
      s = s.substring(0, s.length() - 2);
    } else if (lower.endsWith("mi")) {
      mult = 1024 * 1024;
      s = s.substring(0, s.length() - 2);
    } else if (lower.endsWith("k")) {
      mult = 1000;
      s = s.substring(0, s.length() - 1);
    }
    try {
      java.math.BigDecimal d = new java.math.BigDecimal(s).multiply(java.math.BigDecimal.valueOf(mult));
      if (d.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE / 4)) > 0) {
        throw bad(key, v, "too large");
      }
      if (d.stripTrailingZeros().scale() > 0) {
        throw bad(key, v, "must be a whole number");
      }
      return d.longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw bad(key, v, "not a number");
    }
  }

  /**
   * A byte count: a bare number is bytes ({@code 1048576}); units follow one rule, SI prefixes are
   * powers of 1000 ({@code kB}/{@code KB}, {@code MB}, {@code GB}, {@code TB}) and binary ones powers
   * of 1024 ({@code KiB}, {@code MiB}, {@code GiB}, {@code TiB}).
   */
  public long bytes(String key, Long dflt) {
    String v = raw(key, dflt);
    if (v == null) {
      return dflt;
    }
    requireAsciiNumber(key, v);
    var m = BYTES.matcher(v);
    if (!m.matches()) {
      throw bad(key, v, "expected a size such as 1GiB, 256MiB or 1048576 (bytes)");
    }
    if (m.group(2) == null && m.group(1).contains(".")) {
      throw bad(key, v, "a bare number is bytes and must be whole; write a unit such as 1.5MiB");
    }
    String unit = m.group(2) == null ? "B" : m.group(2);
    long mult = switch (unit.equals("kB") ? "KB" : unit) {
      case "B" -> 1L;
      case "KB" -> 1000L;
      case "KiB" -> 1L << 10;
      case "MB" -> 1_000_000L;
      case "MiB" -> 1L << 20;
      case "GB" -> 1_000_000_000L;
      case "GiB" -> 1L << 30;
      case "TB" -> 1_000_000_000_000L;
      case "TiB" -> 1L << 40;
      default -> throw bad(key, v, "unknown unit " + unit);
    };
    java.math.BigDecimal d = new java.math.BigDecimal(m.group(1).replace("_", "")).multiply(java.math.BigDecimal.valueOf(mult));
    if (d.compareTo(java.math.BigDecimal.valueOf(1L << 50)) > 0) {
      throw bad(key, v, "too large (limit 1 PiB)");
    }
    long b = d.setScale(0, java.math.RoundingMode.HALF_EVEN).longValueExact();
    if (b <= 0) {
      throw bad(key, v, "must be positive");
    }
    return b;
  }

  public boolean bool(String key, boolean dflt) {
    used.add(key);
    String v = params.get(key);
    if (v == null) {
      return dflt;
    }
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "true", "yes", "1" -> true;
      case "false", "no", "0" -> false;
      default -> throw bad(key, v, "must be true or false");
    };
  }

  public DType dtype(String key, DType dflt) {
    used.add(key);
    String v = params.get(key);
    if (v == null) {
      return dflt;
    }
    try {
      return DType.parse(v);
    } catch (IllegalArgumentException e) {
      throw bad(key, v, e.getMessage());
    }
  }

  public String choice(String key, String dflt, String... allowed) {
    String v = string(key, dflt).toLowerCase(Locale.ROOT);
    for (String a : allowed) {
      if (a.equals(v)) {
        return v;
      }
    }
    throw bad(key, v, "must be one of " + String.join(", ", allowed));
  }

  /** Rejects any key no getter asked for. */
  public void finish() {
    for (String k : params.keySet()) {
      if (!used.contains(k)) {
        throw bad(k, params.get(k), "unknown key; known keys for " + kind + ": " + String.join(", ", used));
      }
    }
  }

  /** Canonical text: kind:key=value in the given order. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(kind);
    String sep = ":";
    for (var e : params.entrySet()) {
      sb.append(sep).append(e.getKey()).append('=').append(e.getValue());
      sep = ",";
    }
    return sb.toString();
  }
}
