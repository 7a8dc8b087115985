package trnsim.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** compare --chart: each row's speedup drawn as its stacked factors. */
final class CompareChart {
  private CompareChart() {}

  static void save(List<Map<String, Object>> rows, String baseline, String target, Path out) {
    throw new UserInputException("--chart: not yet");
  }
}
