package trnsim.core.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Loads hardware configs: reads YAML, resolves {@code extends:} by deep merge, applies {@code --set
 * key=value} overrides, and binds the result to immutable {@link HardwareSpec} records. Every
 * failure is a {@link ConfigException} naming the file (or {@code --set}), key path and value.
 *
 * <p>Stateless apart from the config root: safe to share between threads and simulations.
 */
public final class HardwareLoader {
  /** Largest config file read, in bytes: configs are hand-written, a bigger file is a mistake. */
  static final long MAX_FILE_BYTES = 1 << 20;

  private final Path root;
  private final ObjectMapper yaml;
  private final ObjectMapper binder;

  /** @param root the {@code configs/} folder (hardware configs live in {@code root/hardware}) */
  public HardwareLoader(Path root) {
    this.root = root;
    this.yaml = yamlMapper();
    this.binder = bindingMapper(yaml);
  }

  static ObjectMapper yamlMapper() {
    LoaderOptions opts = new LoaderOptions();
    opts.setMaxAliasesForCollections(20);
    opts.setNestingDepthLimit(40);
    opts.setCodePointLimit((int) MAX_FILE_BYTES);
    opts.setAllowDuplicateKeys(false);
    YAMLFactory factory = YAMLFactory.builder()
        .loaderOptions(opts)
        .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(40).build())
        .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
        .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
        .build();
    return new YAMLMapper(factory);
  }

  static ObjectMapper bindingMapper(ObjectMapper base) {
    return JsonMapper.builder()
        .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
        .addModule(new UnitsModule())
        .build();
  }

  public Path root() {
    return root;
  }

  /** Names of the hardware configs under {@code root/hardware} (bases under {@code _base} excluded), sorted. */
  public List<String> list() {
    Path dir = root.resolve("hardware");
    if (!Files.isDirectory(dir)) {
      throw new ConfigException(dir.toString(), null, null, "hardware config folder not found");
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".yaml"))
          .map(p -> stem(p))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new ConfigException(dir.toString(), null, null, "cannot list: " + e.getMessage());
    }
  }

  /** Resolves a config name ({@code trn2}) or a path to a YAML file. */
  public Path locate(String nameOrPath) {
    if (nameOrPath == null || nameOrPath.isBlank()) {
      throw new ConfigException("--hardware", null, nameOrPath, "empty hardware name");
    }
    if (nameOrPath.endsWith(".yaml") || nameOrPath.endsWith(".yml") || nameOrPath.contains("/")) {
      return Path.of(nameOrPath);
    }
    if (!nameOrPath.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new ConfigException("--hardware", null, nameOrPath, "not a config name");
    }
    Path p = root.resolve("hardware").resolve(nameOrPath + ".yaml");
    if (!Files.isRegularFile(p)) {
      throw new ConfigException("--hardware", null, nameOrPath,
          "unknown hardware config; known: " + String.join(", ", list()));
    }
    return p;
  }

  /** Loads and binds a hardware config with overrides ({@code key.path=value}). */
  public Resolved load(String nameOrPath, List<String> overrides) {
    Path file = locate(nameOrPath);
    Map<String, String> origins = new TreeMap<>();
    ObjectNode tree = readWithExtends(file, new LinkedHashSet<>(), origins);
    // A config is named by its file, unless the file itself (not a base) says `name:`, as a resolved
    // config written by `config show` or `--outdir` does: re-running from it reports the same name.
    JsonNode own = tree.get("name");
    if (!file.toString().equals(origins.get("name")) || own == null || !own.isTextual() || own.asText().isBlank()) {
      tree.put("name", stem(file));
      origins.put("name", file.toString());
    }
    for (String set : overrides) {
      applySet(tree, set, origins);
    }
    // A key no model reads is refused by name before binding; after binding (unknown keys refused
    // with the known ones listed), any key the registry lacks is refused too.
    ConfigReaders.HARDWARE.check(tree, origins, file.toString(), false);
    HardwareSpec spec = bind(tree, origins, file.toString());
    ConfigReaders.HARDWARE.check(tree, origins, file.toString(), true);
    return new Resolved(spec, tree, file);
  }

  /**
   * Reads one YAML file (no {@code extends:}, no overrides) and binds it to {@code type} with the
   * same strict rules as hardware configs: snake_case keys, unknown keys rejected, units parsed.
   * Used for side tables such as energy tables. Errors are {@link ConfigException}s naming the
   * file, key path and value.
   */
  public <T> T bindFile(Path file, Class<T> type) {
    return bindFile(file, type, null);
  }

  /** {@link #bindFile(Path, Class)}, every key checked against {@code readers} (null: unchecked). */
  public <T> T bindFile(Path file, Class<T> type, ConfigReaders readers) {
    ObjectNode tree = readYamlObject(file);
    Map<String, String> origins = new TreeMap<>();
    recordOrigins(tree, "", file.toString(), origins);
    try {
      if (readers != null) {
        readers.check(tree, origins, file.toString(), false);
      }
      T bound = binder.treeToValue(tree, type);
      if (readers != null) {
        readers.check(tree, origins, file.toString(), true);
      }
      return bound;
    } catch (JsonProcessingException e) {
      throw translate(e, tree, origins, file.toString());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file.toString(), null, null, e.getMessage());
    }
  }

  /**
   * Binds a tree that {@link #load} already merged ({@link Resolved#tree()}: extends resolved,
   * overrides applied) with the same strict rules: how a resolved config travels to another machine
   * (a sweep's executors) without the files it came from. Errors name {@code origin}.
   */
  public HardwareSpec bindTree(JsonNode tree, String origin) {
    if (!(tree instanceof ObjectNode obj)) {
      throw new ConfigException(origin, null, null, "a hardware config must be a mapping");
    }
    ObjectNode copy = obj.deepCopy();
    Map<String, String> origins = new TreeMap<>();
    recordOrigins(copy, "", origin, origins);
    return bind(copy, origins, origin);
  }

  /** The resolved spec plus the merged tree it came from. */
  public record Resolved(HardwareSpec spec, JsonNode tree, Path file) {}

  /** Renders a resolved spec as YAML with units, every default filled in. */
  public String toYaml(HardwareSpec spec) {
    try {
      JsonNode node = binder.valueToTree(spec);
      return yaml.writeValueAsString(dropUnread(stripNulls(node)));
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalStateException("cannot render config", e);
    }
  }

  /** Renders a resolved spec as a JSON tree (units as strings). */
  public JsonNode toTree(HardwareSpec spec) {
    return dropUnread(stripNulls(binder.valueToTree(spec)));
  }

  /**
   * Drops the defaults of keys no model reads (GpSimd's PSUM limit: GpSimd cannot touch PSUM), so a
   * rendered config loads again, where setting such a key is refused.
   */
  private static JsonNode dropUnread(JsonNode tree) {
    for (String path : ConfigReaders.leafPaths(tree)) {
      int dot = path.lastIndexOf('.');
      if (ConfigReaders.HARDWARE.unreadReason(path) != null && dot > 0 && !path.contains("[]")
          && lookup(tree, path.substring(0, dot)) instanceof ObjectNode parent) {
        parent.remove(path.substring(dot + 1));
      }
    }
    return tree;
  }

  private static JsonNode stripNulls(JsonNode node) {
    if (node.isObject()) {
      ObjectNode o = (ObjectNode) node;
      List<String> drop = new ArrayList<>();
      Iterator<Map.Entry<String, JsonNode>> it = o.fields();
      while (it.hasNext()) {
        var e = it.next();
        if (e.getValue().isNull()) {
          drop.add(e.getKey());
        } else {
          stripNulls(e.getValue());
        }
      }
      o.remove(drop);
    } else if (node.isArray()) {
      node.forEach(HardwareLoader::stripNulls);
    }
    return node;
  }

  /** Longest {@code extends:} chain (the shipped configs use two or three links). */
  static final int MAX_EXTENDS_DEPTH = 32;
  /** Deepest {@code --set} key path (the deepest real key has five parts). */
  static final int MAX_KEY_PARTS = 16;

  private ObjectNode readWithExtends(Path file, Set<Path> chain, Map<String, String> origins) {
    Path norm = file.toAbsolutePath().normalize();
    if (chain.size() >= MAX_EXTENDS_DEPTH) {
      throw new ConfigException(file.toString(), "extends", null,
          "extends chain longer than " + MAX_EXTENDS_DEPTH + " files");
    }
    if (!chain.add(norm)) {
      throw new ConfigException(file.toString(), "extends", null,
          "inheritance cycle: " + chain.stream().map(Path::toString).reduce((a, b) -> a + " -> " + b).orElse("")
              + " -> " + norm);
    }
    ObjectNode node = readYamlObject(file);
    JsonNode ext = node.remove("extends");
    ObjectNode merged;
    if (ext != null) {
      if (!ext.isTextual() || ext.asText().isBlank()) {
        throw new ConfigException(file.toString(), "extends", ext.toString(), "must be a file path (relative to this file)");
      }
      Path base = resolveBase(file, ext.asText());
      merged = readWithExtends(base, chain, origins);
      recordOrigins(node, "", file.toString(), origins);
      deepMerge(merged, node);
    } else {
      merged = node;
      recordOrigins(node, "", file.toString(), origins);
    }
    return merged;
  }

  /**
   * Where {@code extends: x} points: {@code x} relative to the extending file, else a config name
   * or file under {@code configs/hardware} ({@code extends: trn3} works from any folder). The error
   * names every place it looked.
   */
  private Path resolveBase(Path file, String ext) {
    List<Path> tried = new java.util.ArrayList<>();
    try {
      tried.add(file.toAbsolutePath().getParent().resolve(ext));
      Path hw = root.resolve("hardware");
      tried.add(hw.resolve(ext));
      if (!ext.endsWith(".yaml") && !ext.endsWith(".yml")) {
        tried.add(hw.resolve(ext + ".yaml"));
      }
    } catch (java.nio.file.InvalidPathException e) {
      throw new ConfigException(file.toString(), "extends", ext, "not a file path");
    }
    for (Path p : tried) {
      if (Files.exists(p)) {
        return p;
      }
    }
    throw new ConfigException(file.toString(), "extends", ext, "base config not found; looked for "
        + tried.stream().map(Path::toString).distinct().reduce((a, b) -> a + ", " + b).orElse(""));
  }

  ObjectNode readYamlObject(Path file) {
    byte[] bytes;
    if (Files.exists(file) && !Files.isRegularFile(file)) {
      // A FIFO blocks forever and a device (or a symlink to /dev/zero) never ends: refuse before reading.
      throw new ConfigException(file.toString(), null, null, "not a regular file (a directory, FIFO or device)");
    }
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new ConfigException(file.toString(), null, null, "file is larger than " + MAX_FILE_BYTES + " bytes");
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file.toString(), null, null, "file not found");
    } catch (IOException e) {
      throw new ConfigException(file.toString(), null, null, "cannot read: " + e.getMessage());
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new ConfigException(file.toString(), null, null, "not a UTF-8 text file");
    }
    if (text.indexOf('\0') >= 0) {
      throw new ConfigException(file.toString(), null, null, "not a text file (contains NUL bytes)");
    }
    JsonNode node;
    try {
      node = yaml.readTree(text);
    } catch (JsonProcessingException e) {
      throw new ConfigException(file.toString(), null, null, "malformed YAML: " + yamlProblem(e));
    } catch (RuntimeException | StackOverflowError e) {
      throw new ConfigException(file.toString(), null, null, "malformed YAML: " + e.getClass().getSimpleName()
          + (e.getMessage() == null ? "" : ": " + firstLine(e.getMessage())));
    }
    if (node == null || node.isMissingNode() || node.isNull()) {
      throw new ConfigException(file.toString(), null, null, "empty config");
    }
    if (!node.isObject()) {
      throw new ConfigException(file.toString(), null, firstLine(node.toString()),
          "top level must be a mapping of keys to values");
    }
    return (ObjectNode) node;
  }

  static String yamlProblem(JsonProcessingException e) {
    String msg = e.getOriginalMessage();
    var loc = e.getLocation();
    String where = loc == null || loc.getLineNr() < 0 ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    return firstLine(msg == null ? e.getClass().getSimpleName() : msg) + where;
  }

  static String firstLine(String s) {
    int nl = s.indexOf('\n');
    String line = nl < 0 ? s : s.substring(0, nl);
    return line.length() > 160 ? line.substring(0, 157) + "..." : line;
  }

  private static void recordOrigins(JsonNode node, String prefix, String origin, Map<String, String> origins) {
    if (node.isObject()) {
      node.fields().forEachRemaining(e -> {
        String p = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
        origins.put(p, origin);
        recordOrigins(e.getValue(), p, origin, origins);
      });
    }
  }

  /** Objects merge key by key; anything else in {@code overlay} replaces what {@code base} had. */
  static void deepMerge(ObjectNode base, ObjectNode overlay) {
    overlay.fields().forEachRemaining(e -> {
      JsonNode existing = base.get(e.getKey());
      if (existing != null && existing.isObject() && e.getValue().isObject()) {
        deepMerge((ObjectNode) existing, (ObjectNode) e.getValue());
      } else {
        base.set(e.getKey(), e.getValue().deepCopy());
      }
    });
  }

  void applySet(ObjectNode tree, String set, Map<String, String> origins) {
    int eq = set == null ? -1 : set.indexOf('=');
    if (eq <= 0) {
      throw new ConfigException("--set", null, set, "expected key.path=value");
    }
    String path = set.substring(0, eq).trim();
    String raw = set.substring(eq + 1).trim();
    if (path.chars().filter(c -> c == '.').count() >= MAX_KEY_PARTS) {
      // Checked before the pattern below, whose repetition recurses once per part.
      throw new ConfigException("--set", path, raw, "key path deeper than " + MAX_KEY_PARTS + " parts");
    }
    if (!path.matches(KEY_PATH)) {
      throw new ConfigException("--set", path, raw, "not a key path (dotted snake_case keys, a list element as key[N])");
    }
    String unread = ConfigReaders.unreadBecause(path.replaceAll("\\[\\d+\\]", ""));
    if (unread != null) {
      throw new ConfigException("--set", path, raw, "read by no model (" + unread + "); setting it would change no result");
    }
    JsonNode value;
    try {
      value = raw.isEmpty() ? JsonNodeFactory.instance.nullNode() : yaml.readTree(raw);
    } catch (JsonProcessingException e) {
      throw new ConfigException("--set", path, raw, "not a valid value: " + yamlProblem(e));
    }
    if (value == null || value.isMissingNode() || value.isNull()) {
      throw new ConfigException("--set", path, raw, "empty value");
    }
    String[] keys = path.split("\\.");
    JsonNode cur = tree;
    for (int i = 0; i < keys.length - 1; i++) {
      cur = step((ObjectNode) cur, keys[i], path, raw, String.join(".", java.util.Arrays.copyOf(keys, i + 1)));
      if (!cur.isObject()) {
        throw new ConfigException("--set", path, raw,
            "'" + String.join(".", java.util.Arrays.copyOf(keys, i + 1)) + "' is a value, not a section");
      }
    }
    String last = keys[keys.length - 1];
    ObjectNode parent = (ObjectNode) cur;
    int br = last.indexOf('[');
    JsonNode old = br < 0 ? parent.get(last) : step(parent, last, path, raw, path);
    if (old != null && old.isObject() && !value.isObject()) {
      throw new ConfigException("--set", path, raw, "is a section; set one of its keys instead");
    }
    if (br < 0) {
      parent.set(last, value);
    } else {
      ((ArrayNode) parent.get(last.substring(0, br))).set(index(last), value);
    }
    // Origins are kept by key path without list indices (as originOf looks them up).
    String unindexed = path.replaceAll("\\[\\d+\\]", "");
    origins.put(unindexed, "--set");
    recordOrigins(value, unindexed, "--set", origins);
  }

  /** A --set key path: dotted snake_case keys, each optionally addressing a list element ({@code links[2]}). */
  private static final String KEY_PATH = "[a-z0-9_]+(\\[[0-9]{1,6}\\])?(\\.[a-z0-9_]+(\\[[0-9]{1,6}\\])?)*";

  private static int index(String part) {
    return Integer.parseInt(part.substring(part.indexOf('[') + 1, part.length() - 1));
  }

  /**
   * One part of a --set path below {@code cur}: a key (a missing section is created) or
   * {@code key[N]}, an element of an existing list (a missing list, a non-list or an index past its
   * end is an error naming the option, the path and the value). {@code upTo} is the path so far.
   */
  private static JsonNode step(ObjectNode cur, String part, String path, String raw, String upTo) {
    int br = part.indexOf('[');
    if (br < 0) {
      JsonNode next = cur.get(part);
      return next != null ? next : cur.putObject(part);
    }
    String key = part.substring(0, br);
    String list = upTo.substring(0, upTo.length() - (part.length() - br));
    JsonNode arr = cur.get(key);
    if (arr == null) {
      throw new ConfigException("--set", path, raw, "'" + list + "' is not in this config; [N] addresses an element of an existing list");
    }
    if (!arr.isArray()) {
      throw new ConfigException("--set", path, raw, "'" + list + "' is not a list; [N] addresses a list element");
    }
    int i = index(part);
    if (i >= arr.size()) {
      throw new ConfigException("--set", path, raw, "index " + i + " is out of range: '" + list + "' has " + arr.size()
          + (arr.size() == 1 ? " element (index 0)" : " elements (indices 0.." + (arr.size() - 1) + ")"));
    }
    return arr.get(i);
  }

  private HardwareSpec bind(ObjectNode tree, Map<String, String> origins, String topFile) {
    try {
      return binder.treeToValue(tree, HardwareSpec.class);
    } catch (JsonProcessingException e) {
      throw translate(e, tree, origins, topFile);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(topFile, null, null, e.getMessage());
    }
  }

  /** Turns a Jackson binding failure into a one-line error naming origin file, key path and value. */
  static ConfigException translate(JsonProcessingException e, JsonNode tree, Map<String, String> origins, String topFile) {
    List<String> path = new ArrayList<>();
    if (e instanceof JsonMappingException jm) {
      for (JsonMappingException.Reference r : jm.getPath()) {
        if (r.getFieldName() != null) {
          path.add(r.getFieldName());
        } else if (r.getIndex() >= 0) {
          if (path.isEmpty()) {
            path.add("[" + r.getIndex() + "]");
          } else {
            path.set(path.size() - 1, path.get(path.size() - 1) + "[" + r.getIndex() + "]");
          }
        }
      }
    }
    String reason;
    String value = null;
    if (e instanceof UnrecognizedPropertyException up) {
      var known = up.getKnownPropertyIds() == null ? List.<Object>of() : new ArrayList<>(up.getKnownPropertyIds());
      known.sort((a, b) -> a.toString().compareTo(b.toString()));
      reason = "unknown key" + (known.isEmpty() ? "" : "; known keys here: " + known.stream().map(Object::toString)
          .reduce((a, b) -> a + ", " + b).orElse(""));
    } else if (e instanceof InvalidFormatException inv) {
      value = String.valueOf(inv.getValue());
      reason = firstLine(inv.getOriginalMessage()).replaceFirst("^Cannot deserialize value of type `[^`]*` from String \"[^\"]*\": ", "");
    } else if (e instanceof ValueInstantiationException vi && rootCause(vi) instanceof ConfigFieldException cf) {
      for (String part : cf.field().split("\\.")) {
        path.add(part);
      }
      value = cf.value();
      reason = cf.getMessage();
    } else if (e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException mi && mi.getTargetType() != null) {
      reason = "wrong type: expected " + describe(mi.getTargetType());
    } else {
      reason = cleanJacksonMessage(e);
    }
    String dotted = String.join(".", path);
    if (value == null) {
      JsonNode at = lookup(tree, dotted);
      if (at != null && !at.isMissingNode() && at.isValueNode()) {
        value = at.asText();
      } else if (at != null && !at.isMissingNode() && !at.isNull()) {
        value = firstLine(at.toString());
      }
    }
    if (reason.contains("empty String")) {
      reason = "empty value";
    }
    // No Java, Jackson or SnakeYAML class names in a message, whichever branch produced it.
    reason = reason.replaceAll("`(java\\.lang\\.)?([A-Za-z]+)`", "$2").replaceAll("\\(?but could if coercion was enabled[^)]*\\)?", "")
        .replaceAll("([a-z]+\\.)+([A-Z][A-Za-z]*)", "$2").trim();
    return new ConfigException(originOf(dotted, origins, topFile), dotted, value, reason);
  }

  static String describe(Class<?> t) {
    if (java.util.Collection.class.isAssignableFrom(t) || t.isArray()) {
      return "a list";
    }
    if (java.util.Map.class.isAssignableFrom(t) || t.isRecord()) {
      return "a mapping of keys to values";
    }
    if (t == Integer.class || t == int.class || t == Long.class || t == long.class) {
      return "a whole number";
    }
    if (t == Double.class || t == double.class) {
      return "a number";
    }
    if (t == Boolean.class || t == boolean.class) {
      return "true or false";
    }
    if (t == String.class) {
      return "a string";
    }
    return "a value with a unit";
  }

  private static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }

  static String cleanJacksonMessage(JsonProcessingException e) {
    String m = firstLine(e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage());
    m = m.replaceAll("`(java\\.lang\\.)?([A-Za-z]+)`", "$2");
    m = m.replaceAll("`trnsim\\.[a-z.]*\\.([A-Za-z]+)`", "$1");
    m = m.replaceAll("[a-z]+(\\.[a-z]+)+\\.([A-Z][A-Za-z]*)", "$2");
    m = m.replaceAll("\\(?but could if coercion was enabled[^)]*\\)?", "");
    m = m.replaceAll("Cannot coerce", "wrong type: cannot use");
    return m.trim();
  }

  static JsonNode lookup(JsonNode tree, String dotted) {
    if (dotted.isEmpty()) {
      return null;
    }
    JsonNode cur = tree;
    for (String part : dotted.split("\\.")) {
      String key = part;
      int idx = -1;
      int br = part.indexOf('[');
      if (br >= 0) {
        key = part.substring(0, br);
        idx = Integer.parseInt(part.substring(br + 1, part.indexOf(']')));
      }
      cur = key.isEmpty() ? cur : cur.path(key);
      if (idx >= 0) {
        cur = cur.path(idx);
      }
    }
    return cur;
  }

  static String originOf(String dotted, Map<String, String> origins, String topFile) {
    String p = dotted;
    while (!p.isEmpty()) {
      String o = origins.get(p.replaceAll("\\[\\d+\\]", ""));
      if (o != null) {
        return o;
      }
      int dot = p.lastIndexOf('.');
      p = dot < 0 ? "" : p.substring(0, dot);
    }
    return topFile;
  }

  static String stem(Path p) {
    String n = p.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot < 0 ? n : n.substring(0, dot);
  }

  /** For tests and tools: all keys set in a tree, dotted. */
  static Map<String, JsonNode> leaves(JsonNode node) {
    Map<String, JsonNode> out = new LinkedHashMap<>();
    collect(node, "", out);
    return out;
  }

  private static void collect(JsonNode node, String prefix, Map<String, JsonNode> out) {
    if (node.isObject()) {
      node.fields().forEachRemaining(e -> collect(e.getValue(), prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), out));
    } else {
      out.put(prefix, node);
    }
  }
}
