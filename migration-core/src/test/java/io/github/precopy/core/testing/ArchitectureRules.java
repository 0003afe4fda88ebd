package io.github.precopy.core.testing;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.CompositeArchRule;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The layering of the project (README, "Modules"), as ArchUnit rules that each module's
 * architecture test checks against the production classes it can see, so that a change that breaks
 * it fails the build.
 */
public final class ArchitectureRules {

  private static final String ROOT = "io.github.precopy";
  private static final String FACADE = "io.github.precopy.core";
  private static final String[] PLUGINS = {
    ROOT + ".balloon",
    ROOT + ".autoconverge",
    ROOT + ".xbzrle",
    ROOT + ".compression",
    ROOT + ".kernel"
  };

  /** Built on JDK 22 and later only, so absent from the class path of a JDK 17 build. */
  private static final String KERNEL_TRACKING = ROOT + ".kernel";

  /** The libraries a plugin wraps, beside the JDK and the SPI: compression's zstd and lz4. */
  private static final java.util.Map<String, String[]> PLUGIN_LIBRARIES =
      java.util.Map.of(
          ROOT + ".compression", new String[] {"com.github.luben.zstd..", "net.jpountz.."});

  private static final String[] INTERNAL = {
    "io.github.precopy.core.engine..", "io.github.precopy.core.stream.."
  };

  private static final Pattern TEST_JAR = Pattern.compile(".*-tests\\.jar.*");

  private ArchitectureRules() {}

  /**
   * The production classes of the project on the class path: no test classes, whether in a module's
   * {@code test-classes} or in a test-jar ({@code -tests.jar}).
   */
  public static JavaClasses productionClasses() {
    return new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .withImportOption(location -> !location.matches(TEST_JAR))
        .importPackages(ROOT);
  }

  /** Every rule. */
  public static List<ArchRule> all() {
    return List.of(
        noPackageCycles(),
        engineLayers(),
        internalsStayInTheEngine(),
        theEngineKnowsNoSimulatorAndNoPlugin(),
        pluginsDependOnTheSpiAlone());
  }

  /** No two packages of the project depend on each other, directly or through others. */
  public static ArchRule noPackageCycles() {
    return slices().matching(ROOT + ".(**)").should().beFreeOfCycles();
  }

  /**
   * Inside the engine: the facade on top; transports below it; the engine's internals and the
   * stream codec below them; guest memory at the bottom.
   */
  public static ArchRule engineLayers() {
    return layeredArchitecture()
        .consideringOnlyDependenciesInLayers()
        .layer("facade")
        .definedBy(FACADE)
        .layer("transport")
        .definedBy(FACADE + ".transport..")
        .layer("engine")
        .definedBy(FACADE + ".engine..")
        .layer("stream")
        .definedBy(FACADE + ".stream..")
        .layer("memory")
        .definedBy(FACADE + ".memory..")
        .whereLayer("facade")
        .mayNotBeAccessedByAnyLayer()
        .whereLayer("transport")
        .mayOnlyBeAccessedByLayers("facade")
        .whereLayer("engine")
        .mayOnlyBeAccessedByLayers("facade", "transport")
        .whereLayer("stream")
        .mayOnlyBeAccessedByLayers("facade", "transport", "engine")
        .whereLayer("memory")
        .mayOnlyBeAccessedByLayers("facade", "transport", "engine", "stream");
  }

  /** The engine's internal packages are used by the engine only, never by other modules. */
  public static ArchRule internalsStayInTheEngine() {
    return noClasses()
        .that()
        .resideOutsideOfPackage(FACADE + "..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(INTERNAL)
        .because("core.engine and core.stream are internal: use the facade and core.transport");
  }

  /** The engine finds plugins through ServiceLoader only and ships no simulator. */
  public static ArchRule theEngineKnowsNoSimulatorAndNoPlugin() {
    return noClasses()
        .that()
        .resideInAPackage(FACADE + "..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            ROOT + ".sim..",
            ROOT + ".balloon..",
            ROOT + ".autoconverge..",
            ROOT + ".xbzrle..",
            ROOT + ".compression..",
            ROOT + ".kernel..");
  }

  /**
   * A plugin needs nothing of the project but the SPI (and the library it wraps, if any), so a
   * custom stack can ship it alone.
   */
  public static ArchRule pluginsDependOnTheSpiAlone() {
    CompositeArchRule rule = null;
    for (String plugin : PLUGINS) {
      ArchRule one =
          classes()
              .that()
              .resideInAPackage(plugin + "..")
              .should()
              .onlyDependOnClassesThat()
              .resideInAnyPackage(
                  java.util.stream.Stream.concat(
                          java.util.stream.Stream.of(
                              "java..", "javax..", ROOT + ".spi..", plugin + ".."),
                          java.util.Arrays.stream(
                              PLUGIN_LIBRARIES.getOrDefault(plugin, new String[0])))
                      .toArray(String[]::new))
              .allowEmptyShould(plugin.equals(KERNEL_TRACKING));
      rule = rule == null ? CompositeArchRule.of(one) : rule.and(one);
    }
    return rule;
  }
}
