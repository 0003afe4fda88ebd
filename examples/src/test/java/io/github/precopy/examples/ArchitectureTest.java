package io.github.precopy.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.lang.ArchRule;
import io.github.precopy.core.testing.ArchitectureRules;
import org.junit.jupiter.api.Test;

/**
 * Every module the command line ships (bitmap, spi, engine, free-page-hint, auto-converge and
 * xbzrle and compression plugins, simulator and the examples themselves) keeps the project's
 * layering: no package cycle, plugins on the SPI alone, the engine's internals used by the engine
 * only.
 */
final class ArchitectureTest {

  @Test
  void everyModuleOnTheClassPathKeepsTheLayering() {
    JavaClasses classes = ArchitectureRules.productionClasses();
    for (String module :
        new String[] {
          "bitmap",
          "spi",
          "core",
          "balloon",
          "autoconverge",
          "xbzrle",
          "compression",
          "sim",
          "examples"
        }) {
      assertThat(classes.containPackage("io.github.precopy." + module)).as(module).isTrue();
    }

    for (ArchRule rule : ArchitectureRules.all()) {
      rule.check(classes);
    }
  }
}
