package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import io.github.precopy.core.memory.MemoryReachingIntoTheEngine;
import io.github.precopy.core.testing.ArchitectureRules;
import io.github.precopy.outside.UserOfTheStreamCodec;
import org.junit.jupiter.api.Test;

/** The engine's packages keep their layers, and nothing here reaches the simulator or a plugin. */
final class ArchitectureTest {

  private final JavaClasses classes = ArchitectureRules.productionClasses();

  @Test
  void theRulesSeeEveryPackageOfTheEngine() {
    assertThat(classes.getPackage("io.github.precopy.core").getClasses()).isNotEmpty();
    for (String sub : new String[] {"memory", "engine", "stream", "transport"}) {
      assertThat(classes.getPackage("io.github.precopy.core." + sub).getClasses())
          .as(sub)
          .isNotEmpty();
    }
  }

  @Test
  void theEnginesPackagesHaveNoCycle() {
    ArchitectureRules.noPackageCycles().check(classes);
  }

  @Test
  void theEnginesPackagesKeepTheirLayers() {
    ArchitectureRules.engineLayers().check(classes);
  }

  @Test
  void theEngineKnowsNoSimulatorAndNoPlugin() {
    ArchitectureRules.theEngineKnowsNoSimulatorAndNoPlugin().check(classes);
  }

  @Test
  void aLowerLayerReachingUpBreaksTheLayers() {
    JavaClasses broken =
        new ClassFileImporter()
            .importClasses(
                MemoryReachingIntoTheEngine.class, io.github.precopy.core.engine.RamState.class);

    assertThat(ArchitectureRules.engineLayers().evaluate(broken).hasViolation()).isTrue();
  }

  @Test
  void codeOutsideTheEngineUsingItsInternalsBreaksTheRule() {
    JavaClasses broken =
        new ClassFileImporter()
            .importClasses(
                UserOfTheStreamCodec.class, io.github.precopy.core.stream.StreamFormat.class);

    assertThat(ArchitectureRules.internalsStayInTheEngine().evaluate(broken).hasViolation())
        .isTrue();
  }
}
