package io.github.precopy.core;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Stage;
import com.google.inject.multibindings.Multibinder;
import io.github.precopy.spi.MigrationOptimizationProvider;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The entry point: knows the optimisation plugins on the class path and starts migrations.
 *
 * <pre>{@code
 * MigrationEngine engine = MigrationEngine.create();
 * PrecopyMigration migration = engine.startInProcess(guest, destinationMemory,
 *     MigrationConfig.builder().capability("free-page-hint").build());
 * MigrationStats stats = migration.await();
 * }</pre>
 *
 * <p>Plugins are found with {@link java.util.ServiceLoader}; a plugin's capability is only
 * available, and its optimisation created only for migrations that enable it. Thread-safe: one
 * engine may run many migrations, each on its own thread.
 */
public final class MigrationEngine {

  private static final long PROGRESS_PERIOD_MILLIS = 100;
  private static final AtomicInteger MIGRATIONS = new AtomicInteger();

  private final OptimizationRegistry registry;

  private MigrationEngine(OptimizationRegistry registry) {
    this.registry = registry;
  }

  /** An engine with the plugins found by the context class loader (or this class's). */
  public static MigrationEngine create() {
    return builder().build();
  }

  /** A builder to choose the class loader or add providers without a jar. */
  public static Builder builder() {
    return new Builder();
  }

  /** The capability names this engine can enable, sorted. */
  public Set<String> capabilities() {
    return registry.capabilities();
  }

  /**
   * Starts migrating {@code source} into a destination memory in this process, through the encoded
   * stream and a bounded pipe, and verifies the destination after completion.
   *
   * @param destination memory with the same RAM block layout as the source's
   * @throws IllegalArgumentException if a capability is unknown (the message lists the available
   *     ones) or the layouts differ; nothing has started then
   */
  public PrecopyMigration startInProcess(
      Guest source, GuestMemory destination, MigrationConfig config) {
    return startInProcess(source, destination, config, stats -> {});
  }

  /**
   * As {@link #startInProcess(Guest, GuestMemory, MigrationConfig)}, calling {@code progress} with
   * a snapshot at least every 100 ms and once at the end, on a separate thread.
   */
  public PrecopyMigration startInProcess(
      Guest source,
      GuestMemory destination,
      MigrationConfig config,
      Consumer<MigrationStats> progress) {
    Objects.requireNonNull(destination, "destination");
    return start(source, config, new InProcessCompletion(source.memory(), destination), progress);
  }

  /**
   * Starts migrating {@code source} into {@code out}, one channel, which the migration closes at
   * the end. The stream carries the digest of the pages in use (unless {@link
   * MigrationConfig#verify()} is off); the peer at the other end validates, applies and verifies
   * it. Nothing comes back, so nothing is verified here.
   */
  public PrecopyMigration start(
      Guest source, MigrationConfig config, OutputStream out, Consumer<MigrationStats> progress) {
    Objects.requireNonNull(out, "out");
    return start(source, config, new StreamCompletion(out), progress);
  }

  /**
   * Starts migrating {@code source} to {@code target}: a {@code precopy incoming} destination over
   * TCP, which verifies the digest of the pages in use and reports back, or a snapshot file.
   * Connecting is part of the migration: a destination that cannot be reached makes it fail, with
   * the cause in its statistics.
   */
  public PrecopyMigration start(
      Guest source,
      MigrationConfig config,
      MigrationTarget target,
      Consumer<MigrationStats> progress) {
    Objects.requireNonNull(target, "target");
    return start(source, config, target.connection(source.memory()), progress);
  }

  private PrecopyMigration start(
      Guest source,
      MigrationConfig config,
      PrecopyMigration.Completion completion,
      Consumer<MigrationStats> progress) {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(progress, "progress");
    RamState ram = new RamState(source.memory());
    Optimizations optimizations =
        new Optimizations(
            registry.providersFor(config.capabilities()), new Context(source, config, ram));
    PrecopyMigration migration =
        new PrecopyMigration(source, config, optimizations, ram, completion);
    migration.start("precopy-migration-" + MIGRATIONS.incrementAndGet());
    migration.startProgressReports(progress, PROGRESS_PERIOD_MILLIS);
    return migration;
  }

  /** Builds a {@link MigrationEngine}. Not thread-safe. */
  public static final class Builder {
    private ClassLoader classLoader;
    private final List<MigrationOptimizationProvider> added = new ArrayList<>();

    private Builder() {}

    /** The class loader whose plugins are found; default: the context class loader. */
    public Builder classLoader(ClassLoader classLoader) {
      this.classLoader = Objects.requireNonNull(classLoader, "classLoader");
      return this;
    }

    /** Adds a provider as if it had been found on the class path. */
    public Builder addProvider(MigrationOptimizationProvider provider) {
      added.add(Objects.requireNonNull(provider, "provider"));
      return this;
    }

    /**
     * Builds the engine (one Guice injector, production stage, explicit bindings only).
     *
     * @throws IllegalStateException if two plugins claim one capability or a name is invalid
     */
    public MigrationEngine build() {
      ClassLoader loader = classLoader;
      if (loader == null) {
        loader = Thread.currentThread().getContextClassLoader();
      }
      if (loader == null) {
        loader = MigrationEngine.class.getClassLoader();
      }
      List<MigrationOptimizationProvider> extra = List.copyOf(added);
      Injector injector =
          Guice.createInjector(
              Stage.PRODUCTION,
              new EngineModule(loader),
              new AbstractModule() {
                @Override
                protected void configure() {
                  Multibinder<MigrationOptimizationProvider> providers =
                      Multibinder.newSetBinder(binder(), MigrationOptimizationProvider.class);
                  extra.forEach(provider -> providers.addBinding().toInstance(provider));
                }
              });
      return new MigrationEngine(injector.getInstance(OptimizationRegistry.class));
    }
  }
}
