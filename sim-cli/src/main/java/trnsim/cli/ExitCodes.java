package trnsim.cli;

/** Process exit codes, the contract with CI pipelines and scripts. */
public final class ExitCodes {
  /** Success. */
  public static final int OK = 0;
  /** The command ran, and a checked claim did not hold. */
  public static final int CLAIM_FAILED = 1;
  /** Bad input: a config, workload, option or file the user gave cannot be used. */
  public static final int BAD_INPUT = 2;
  /** A bug or an unexpected runtime fault inside trnsim. */
  public static final int INTERNAL = 3;

  private ExitCodes() {}
}
