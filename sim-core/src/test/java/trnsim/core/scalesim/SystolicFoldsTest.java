package trnsim.core.scalesim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The closed-form folds against SCALE-Sim v2's construction carried out literally: the test builds
 * the three per-cycle demand matrices the way systolic_compute_{ws,os,is}.py builds them (operand
 * slices padded with null requests, load/drain rows, skew, folds concatenated) and reads cycles,
 * first/last access and access counts off them, for every small array and GEMM shape.
 */
class SystolicFoldsTest {
  private static final int NULL = -1;

  @Test
  void handCountedSmallCases() {
    // 2x2 array, os, M=N=K=2: one fold; PE(1,1) does its last MAC at cycle k + i + j = 1 + 1 + 1,
    // so 4 cycles (R + C + T - 2); SCALE-Sim reports the last cycle index, 3.
    assertThat(SystolicFolds.of(2, 2, SystolicDataflow.OUTPUT_STATIONARY, 2, 2, 2).totalCycles()).isEqualTo(3);
    // ws, M=N=K=3 on 2x2: K=3 and N=3 each need 2 folds (the second half-empty), 4 folds of
    // 2R + C + T - 2 = 4 + 2 + 3 - 2 = 7 cycles: 28 rows, last index 27. is: same by symmetry.
    assertThat(SystolicFolds.of(2, 2, SystolicDataflow.WEIGHT_STATIONARY, 3, 3, 3).totalCycles()).isEqualTo(27);
    assertThat(SystolicFolds.of(2, 2, SystolicDataflow.INPUT_STATIONARY, 3, 3, 3).totalCycles()).isEqualTo(27);
    // os, M=5, N=3, K=4 on 2x2: 3 x 2 folds of 2 + 2 + 4 - 2 = 6 cycles.
    assertThat(SystolicFolds.of(2, 2, SystolicDataflow.OUTPUT_STATIONARY, 5, 3, 4).totalCycles()).isEqualTo(35);
    // Non-square 4 rows x 2 columns, ws, M=5, N=3, K=4: K fits the 4 rows, N needs 2 column folds,
    // each 8 + 2 + 5 - 2 = 13 cycles.
    assertThat(SystolicFolds.of(4, 2, SystolicDataflow.WEIGHT_STATIONARY, 5, 3, 4).totalCycles()).isEqualTo(25);
    // Mapping efficiency of that case: the folds use 4x2 and 4x1 of 8 PEs.
    assertThat(SystolicFolds.of(4, 2, SystolicDataflow.WEIGHT_STATIONARY, 5, 3, 4).mappingEfficiency())
        .isCloseTo((1.0 + 0.5) / 2, within(1e-12));
  }

  @Test
  void closedFormEqualsTheLiteralConstructionForEverySmallShape() {
    for (SystolicDataflow df : SystolicDataflow.values()) {
      for (int r = 1; r <= 4; r++) {
        for (int c = 1; c <= 4; c++) {
          for (int m = 1; m <= 5; m++) {
            for (int n = 1; n <= 5; n++) {
              for (int k = 1; k <= 5; k++) {
                check(df, r, c, m, n, k);
              }
            }
          }
        }
      }
    }
  }

  private static void check(SystolicDataflow df, int r, int c, int m, int n, int k) {
    Demand d = Demand.build(df, r, c, m, n, k);
    SystolicFolds f = SystolicFolds.of(r, c, df, m, n, k);
    String where = df + " " + r + "x" + c + " M=" + m + " N=" + n + " K=" + k;
    assertThat(d.ifmap.size()).as(where).isEqualTo(d.filter.size()).isEqualTo(d.ofmap.size());
    assertThat(f.totalCycles()).as(where).isEqualTo(d.ofmap.size() - 1);
    assertThat(f.ifmapSram()).as(where + " ifmap").isEqualTo(access(d.ifmap, 1, 0));
    assertThat(f.filterSram()).as(where + " filter").isEqualTo(access(d.filter, 1, 0));
    long quirk = df == SystolicDataflow.OUTPUT_STATIONARY ? (long) d.mapping.size() * (r + c) : 0;
    assertThat(f.ofmapSram()).as(where + " ofmap").isEqualTo(access(d.ofmap, 0, quirk));
    assertThat(f.mappingEfficiency()).as(where).isCloseTo(mean(d.mapping), within(1e-12));
    assertThat(f.computeUtilization()).as(where).isCloseTo(mean(d.util), within(1e-12));
  }

  private static SystolicFolds.SramAccess access(List<int[]> mat, int latency, long extraWords) {
    long first = -1;
    long last = -1;
    long words = 0;
    for (int i = 0; i < mat.size(); i++) {
      for (int a : mat.get(i)) {
        if (a != NULL) {
          words++;
          first = first < 0 ? i : first;
          last = i;
        }
      }
    }
    return new SystolicFolds.SramAccess(first + latency, last + latency, words + extraWords);
  }

  private static double mean(List<Double> xs) {
    return xs.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
  }

  /** SCALE-Sim's demand matrices, one row per cycle, built fold by fold (column folds outermost). */
  private static final class Demand {
    final List<int[]> ifmap = new ArrayList<>();
    final List<int[]> filter = new ArrayList<>();
    final List<int[]> ofmap = new ArrayList<>();
    final List<Double> mapping = new ArrayList<>();
    final List<Double> util = new ArrayList<>();

    static Demand build(SystolicDataflow df, int r, int c, int m, int n, int k) {
      int[][] ifm = numbered(m, k, 0);
      int[][] fil = numbered(k, n, 100_000);
      int[][] ofm = numbered(m, n, 200_000);
      int sr = switch (df) { case WEIGHT_STATIONARY, INPUT_STATIONARY -> k; case OUTPUT_STATIONARY -> m; };
      int sc = switch (df) { case WEIGHT_STATIONARY, OUTPUT_STATIONARY -> n; case INPUT_STATIONARY -> m; };
      int t = switch (df) { case WEIGHT_STATIONARY -> m; case OUTPUT_STATIONARY -> k; case INPUT_STATIONARY -> n; };
      Demand d = new Demand();
      for (int fc = 0; fc * c < sc; fc++) {
        for (int fr = 0; fr * r < sr; fr++) {
          int r0 = fr * r;
          int r1 = Math.min(r0 + r, sr);
          int c0 = fc * c;
          int c1 = Math.min(c0 + c, sc);
          int measure = switch (df) {
            case WEIGHT_STATIONARY -> d.ws(ifm, fil, ofm, r, c, t, r0, r1, c0, c1);
            case OUTPUT_STATIONARY -> d.os(ifm, fil, ofm, r, c, t, r0, r1, c0, c1);
            case INPUT_STATIONARY -> d.is(ifm, fil, ofm, r, c, t, r0, r1, c0, c1);
          };
          double used = (double) (r1 - r0) * (c1 - c0);
          d.mapping.add(used / (r * c));
          d.util.add(used * t / ((double) r * c * measure));
        }
      }
      return d;
    }

    private int ws(int[][] ifm, int[][] fil, int[][] ofm, int r, int c, int t, int r0, int r1, int c0, int c1) {
      List<int[]> in = pad(slice(ifm, 0, t, r0, r1), r);
      ifmap.addAll(skew(concat(nulls(r, r), in, nulls(c - 1, r))));
      List<int[]> w = padRows(pad(slice(fil, r0, r1, c0, c1), c), r, c);
      List<int[]> wf = concat(flip(w), nulls(r + c + t - 2, c));
      filter.addAll(wf);
      ofmap.addAll(skew(concat(nulls(2 * r - 1, c), pad(slice(ofm, 0, t, c0, c1), c))));
      return wf.size() + c - 1;
    }

    private int os(int[][] ifm, int[][] fil, int[][] ofm, int r, int c, int t, int r0, int r1, int c0, int c1) {
      ifmap.addAll(skew(concat(pad(transpose(slice(ifm, r0, r1, 0, t)), r), nulls(c - 1, r))));
      filter.addAll(skew(concat(pad(slice(fil, 0, t, c0, c1), c), nulls(r - 1, c))));
      List<int[]> out = concat(nulls(t - 1, c), flip(padRows(pad(slice(ofm, r0, r1, c0, c1), c), r, c)));
      ofmap.addAll(skew(out));
      return out.size() + c - 1;
    }

    private int is(int[][] ifm, int[][] fil, int[][] ofm, int r, int c, int t, int r0, int r1, int c0, int c1) {
      List<int[]> held = padRows(pad(transpose(slice(ifm, c0, c1, r0, r1)), c), r, c);
      List<int[]> in = concat(flip(held), nulls(r + c + t - 2, c));
      ifmap.addAll(in);
      filter.addAll(skew(concat(nulls(r, r), pad(transpose(slice(fil, r0, r1, 0, t)), r), nulls(c - 1, r))));
      ofmap.addAll(skew(concat(nulls(2 * r - 1, c), pad(transpose(slice(ofm, c0, c1, 0, t)), c))));
      return in.size() + c - 1;
    }

    static int[][] numbered(int rows, int cols, int base) {
      int[][] a = new int[rows][cols];
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          a[i][j] = base + i * cols + j;
        }
      }
      return a;
    }

    static List<int[]> slice(int[][] a, int r0, int r1, int c0, int c1) {
      List<int[]> out = new ArrayList<>();
      for (int i = r0; i < r1; i++) {
        out.add(java.util.Arrays.copyOfRange(a[i], c0, c1));
      }
      return out;
    }

    static List<int[]> transpose(List<int[]> a) {
      int cols = a.get(0).length;
      List<int[]> out = new ArrayList<>();
      for (int j = 0; j < cols; j++) {
        int[] row = new int[a.size()];
        for (int i = 0; i < a.size(); i++) {
          row[i] = a.get(i)[j];
        }
        out.add(row);
      }
      return out;
    }

    /** Pads every row with null requests to {@code width} columns. */
    static List<int[]> pad(List<int[]> a, int width) {
      List<int[]> out = new ArrayList<>();
      for (int[] row : a) {
        int[] p = new int[width];
        java.util.Arrays.fill(p, NULL);
        System.arraycopy(row, 0, p, 0, row.length);
        out.add(p);
      }
      return out;
    }

    static List<int[]> padRows(List<int[]> a, int height, int width) {
      List<int[]> out = new ArrayList<>(a);
      out.addAll(nulls(height - a.size(), width));
      return out;
    }

    static List<int[]> nulls(int rows, int width) {
      List<int[]> out = new ArrayList<>();
      for (int i = 0; i < rows; i++) {
        int[] p = new int[width];
        java.util.Arrays.fill(p, NULL);
        out.add(p);
      }
      return out;
    }

    static List<int[]> flip(List<int[]> a) {
      List<int[]> out = new ArrayList<>(a);
      java.util.Collections.reverse(out);
      return out;
    }

    @SafeVarargs
    static List<int[]> concat(List<int[]>... parts) {
      List<int[]> out = new ArrayList<>();
      for (List<int[]> p : parts) {
        out.addAll(p);
      }
      return out;
    }

    /** Column j delayed by j cycles: rows + cols - 1 rows (SCALE-Sim's skew_matrix). */
    static List<int[]> skew(List<int[]> a) {
      int rows = a.size();
      int cols = a.get(0).length;
      List<int[]> out = nulls(rows + cols - 1, cols);
      for (int j = 0; j < cols; j++) {
        for (int i = 0; i < rows; i++) {
          out.get(i + j)[j] = a.get(i)[j];
        }
      }
      return out;
    }
  }
}
