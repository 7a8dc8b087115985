package trnsim.cli;

/** Entry point of the {@code trnsim} executable. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    int code = Cli.execute(args);
    System.exit(code);
  }
}
