package trnsim.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The module rule sim-isa <- sim-core <- sim-cli, checked on the compiled classes of all three. */
class ArchitectureTest {
  private static final JavaClasses ALL = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("trnsim");

  @Test
  void isaDependsOnNoOtherTrnsimModule() {
    noClasses().that().resideInAPackage("trnsim.isa..")
        .should().dependOnClassesThat().resideInAnyPackage("trnsim.core..", "trnsim.cli..")
        .check(ALL);
  }

  @Test
  void coreDoesNotDependOnCli() {
    noClasses().that().resideInAPackage("trnsim.core..")
        .should().dependOnClassesThat().resideInAPackage("trnsim.cli..")
        .check(ALL);
  }

  @Test
  void theSimulationApiDependsOnNoCommandLineCode() {
    noClasses().that().resideInAPackage("trnsim.core.api..")
        .should().dependOnClassesThat().resideInAnyPackage("trnsim.cli..", "picocli..")
        .check(ALL);
  }

  /**
   * The command line parses and renders: it simulates through {@code trnsim.core.api.Simulator},
   * never by driving the lowerings, the runner, the power limiter or a system step itself.
   */
  @Test
  void theCommandLineSimulatesOnlyThroughTheApi() {
    noClasses().that().resideInAPackage("trnsim.cli..")
        .should().dependOnClassesThat().haveFullyQualifiedName("trnsim.core.run.WorkloadRunner")
        .orShould().dependOnClassesThat().haveFullyQualifiedName("trnsim.core.run.GemmSteadyState")
        .orShould().dependOnClassesThat().haveFullyQualifiedName("trnsim.core.energy.PowerLimiter")
        .orShould().dependOnClassesThat().haveFullyQualifiedName("trnsim.isa.lower.Workloads")
        .orShould().callMethod(trnsim.core.system.LlmSystem.class, "run", trnsim.core.config.HardwareSpec.class,
            trnsim.isa.workload.WorkloadSpec.class, java.util.function.Function.class, trnsim.core.energy.EnergyModel.class,
            trnsim.core.run.RunOptions.class)
        .check(ALL);
  }

  @Test
  void simulationCodeHasNoConsoleClockOrUnseededRandomness() {
    noClasses().that().resideInAnyPackage("trnsim.core..", "trnsim.isa..")
        .should().accessField(System.class, "out")
        .orShould().callMethod(System.class, "nanoTime")
        .orShould().callMethod(System.class, "currentTimeMillis")
        .orShould().callConstructor(java.util.Random.class)
        .check(ALL);
  }
}
