package trnsim.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The top-level {@code trnsim} command. */
@Command(
    name = "trnsim",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    description = {
        "Cycle-approximate performance simulator for Trainium-style ML accelerators.",
        "How long, how much energy and how much money does a workload take on given hardware, and why."},
    footer = {"", "Exit codes: 0 ok, 1 a checked claim failed, 2 bad input, 3 internal error."},
    subcommands = {
        RunCommand.class,
        CompareCommand.class,
        SweepCommand.class,
        VerifyCommand.class,
        PlotCommand.class,
        CollectiveCommand.class,
        ServeCommand.class,
        ConfigCommand.class,
        ValidateCommand.class,
        ScaleSimCommand.class,
        AutoComplete.GenerateCompletion.class,
        CommandLine.HelpCommand.class})
public final class TrnsimCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = {"-v", "--verbose"}, description = "Log details to stderr.", scope = CommandLine.ScopeType.INHERIT)
  boolean verbose;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
