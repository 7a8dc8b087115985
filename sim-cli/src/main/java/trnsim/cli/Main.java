package trnsim.cli;

/** Entry point of the {@code trnsim} executable. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    int code;
    try {
      code = Cli.execute(args);
    } catch (OutOfMemoryError e) {
      // A runtime fault, not bad input: one line naming the limit and how to raise it. Output files are
      // written whole or not at all (AtomicFiles), so none is left half-written.
      System.err.println(outOfMemory(Runtime.getRuntime().maxMemory()));
      code = ExitCodes.INTERNAL;
    }
    System.exit(code);
  }

  static String outOfMemory(long maxHeapBytes) {
    return "error: out of memory: this simulation needs more than the JVM's " + (maxHeapBytes >> 20)
        + " MiB heap; give it more, e.g. TRNSIM_JAVA_OPTS=-Xmx8g ./trnsim ...";
  }
}
