package io.github.precopy.core;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.Multibinder;
import com.google.inject.name.Named;
import io.github.precopy.spi.MigrationOptimizationProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * The engine's bindings: providers found by {@link ServiceLoader} plus those added through the
 * {@link Multibinder} (tests, embedders), combined into one {@link OptimizationRegistry}.
 */
final class EngineModule extends AbstractModule {

  private final ClassLoader classLoader;

  EngineModule(ClassLoader classLoader) {
    this.classLoader = classLoader;
  }

  @Override
  protected void configure() {
    binder().requireExplicitBindings();
    Multibinder.newSetBinder(binder(), MigrationOptimizationProvider.class);
  }

  @Provides
  @Singleton
  @Named("service-loader")
  List<MigrationOptimizationProvider> discoveredProviders() {
    List<MigrationOptimizationProvider> found = new ArrayList<>();
    ServiceLoader.load(MigrationOptimizationProvider.class, classLoader).forEach(found::add);
    return found;
  }

  @Provides
  @Singleton
  OptimizationRegistry registry(
      @Named("service-loader") List<MigrationOptimizationProvider> discovered,
      Set<MigrationOptimizationProvider> added) {
    List<MigrationOptimizationProvider> all = new ArrayList<>(discovered);
    all.addAll(added);
    return new OptimizationRegistry(all);
  }
}
