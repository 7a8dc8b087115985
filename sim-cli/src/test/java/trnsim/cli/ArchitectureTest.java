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
  void simulationCodeHasNoConsoleClockOrUnseededRandomness() {
    noClasses().that().resideInAnyPackage("trnsim.core..", "trnsim.isa..")
        .should().accessField(System.class, "out")
        .orShould().callMethod(System.class, "nanoTime")
        .orShould().callMethod(System.class, "currentTimeMillis")
        .orShould().callConstructor(java.util.Random.class)
        .check(ALL);
  }
}
