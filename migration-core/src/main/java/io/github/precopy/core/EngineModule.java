package io.github.precopy.core;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.Multibinder;
import io.github.precopy.core.engine.OptimizationRegistry;
import io.github.precopy.spi.ConvergencePolicy;
import io.github.precopy.spi.MigrationOptimizationProvider;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * The engine's Guice bindings, each of which a module of the caller's may override through {@link
 * MigrationEngine.Builder#override}:
 *
 * <ul>
 *   <li>{@code Set<MigrationOptimizationProvider>}, a {@link Multibinder}: the plugins {@link
 *       ServiceLoader} finds with the engine's class loader, plus any another module adds;
 *   <li>{@link ConvergencePolicy}: the policy of migrations whose configuration names none, QEMU's
 *       rule ({@link ConvergencePolicy#qemu()});
 *   <li>the engine's clock, the system's.
 * </ul>
 *
 * <p>Plugins need none of this: they are found on the class path.
 */
public final class EngineModule extends AbstractModule {

  private final ClassLoader classLoader;

  /** The bindings of an engine whose plugins {@code classLoader} finds. */
  public EngineModule(ClassLoader classLoader) {
    this.classLoader = classLoader;
  }

  @Override
  protected void configure() {
    binder().requireExplicitBindings();
    Multibinder<MigrationOptimizationProvider> providers =
        Multibinder.newSetBinder(binder(), MigrationOptimizationProvider.class);
    ServiceLoader.load(MigrationOptimizationProvider.class, classLoader)
        .forEach(provider -> providers.addBinding().toInstance(provider));
    bind(ConvergencePolicy.class).toInstance(ConvergencePolicy.qemu());
    bind(Ticker.class).toInstance(Ticker.SYSTEM);
  }

  @Provides
  @Singleton
  OptimizationRegistry registry(Set<MigrationOptimizationProvider> providers) {
    return new OptimizationRegistry(providers);
  }
}
