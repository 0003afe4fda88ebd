package io.github.precopy.core;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Inject;
import com.google.inject.Injector;
import com.google.inject.Module;
import com.google.inject.Stage;
import com.google.inject.multibindings.Multibinder;
import com.google.inject.util.Modules;
import io.github.precopy.core.engine.Connection;
import io.github.precopy.core.engine.MigrationContext;
import io.github.precopy.core.engine.OptimizationRegistry;
import io.github.precopy.core.engine.Optimizations;
import io.github.precopy.core.engine.RamState;
import io.github.precopy.core.memory.DirtyTracker;
import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.MigrationTarget;
import io.github.precopy.spi.ConvergencePolicy;
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
 * available, and its optimisation created only for migrations that enable it. The engine is
 * assembled with Guice from {@link EngineModule}, whose bindings a caller's module may override
 * ({@link Builder#override}); {@link #create()} needs no Guice at all. Thread-safe: one engine may
 * run many migrations, each on its own thread, and at most one at a time of any one guest memory.
 */
public final class MigrationEngine {

  private static final long PROGRESS_PERIOD_MILLIS = 100;
  private static final AtomicInteger MIGRATIONS = new AtomicInteger();

  private final OptimizationRegistry registry;
  private final ConvergencePolicy defaultPolicy;
  private final Ticker ticker;

  @Inject
  MigrationEngine(OptimizationRegistry registry, ConvergencePolicy defaultPolicy, Ticker ticker) {
    this.registry = registry;
    this.defaultPolicy = defaultPolicy;
    this.ticker = ticker;
  }

  /** An engine with the plugins found by the context class loader (or this class's). */
  public static MigrationEngine create() {
    return builder().build();
  }

  /** A builder to choose the class loader, add providers without a jar or override bindings. */
  public static Builder builder() {
    return new Builder();
  }

  /** The capability names this engine can enable, sorted. */
  public Set<String> capabilities() {
    return registry.capabilities();
  }

  /**
   * Checks, without starting anything, that this engine can run a migration with {@code config}.
   *
   * @throws IllegalArgumentException if a capability is unknown (the message lists the available
   *     ones) or refuses the options, two enabled capabilities encode pages, or {@code
   *     multifd-compression} names no codec of the plugins or its codec refuses the options
   */
  public void check(MigrationConfig config) {
    registry.check(config.capabilities(), config.options());
  }

  /**
   * Starts migrating {@code source} into a destination memory in this process, through the encoded
   * stream and a bounded pipe, and verifies the destination after completion: {@link #start(Guest,
   * MigrationConfig, MigrationTarget)} to {@link MigrationTarget#inProcess}.
   *
   * @param destination memory with the same RAM block layout as the source's
   * @throws IllegalArgumentException if a capability is unknown (the message lists the available
   *     ones) or the layouts differ; nothing has started then
   */
  public PrecopyMigration startInProcess(
      Guest source, GuestMemory destination, MigrationConfig config) {
    return start(source, config, MigrationTarget.inProcess(destination));
  }

  /**
   * As {@link #startInProcess(Guest, GuestMemory, MigrationConfig)}, calling {@code progress} with
   * a snapshot every 100 ms and once at the end, on a thread of its own.
   */
  public PrecopyMigration startInProcess(
      Guest source,
      GuestMemory destination,
      MigrationConfig config,
      Consumer<MigrationStats> progress) {
    return start(source, config, MigrationTarget.inProcess(destination), progress);
  }

  /**
   * Starts migrating {@code source} into {@code out}, one channel, which the migration closes at
   * the end: {@link MigrationTarget#stream}. The stream carries the digest of the pages in use
   * (unless {@link MigrationConfig#verify()} is off); the peer at the other end validates, applies
   * and verifies it. Nothing comes back, so nothing is verified here.
   */
  public PrecopyMigration start(
      Guest source, MigrationConfig config, OutputStream out, Consumer<MigrationStats> progress) {
    return start(source, config, MigrationTarget.stream(out), progress);
  }

  /**
   * Starts migrating {@code source} to {@code target}: a destination over TCP, which verifies the
   * digest of the pages in use and reports back, a snapshot file, a memory in this process or a
   * stream. Connecting is part of the migration: a destination that cannot be reached makes it
   * fail, with the cause in its statistics.
   *
   * @throws IllegalArgumentException if a capability is unknown (the message lists the available
   *     ones) or the target does not fit the guest; nothing has started then
   * @throws IllegalStateException if another migration of the guest's memory is running
   * @throws UnsupportedOperationException if the config's {@linkplain MigrationConfig#dirtyTracking
   *     dirty tracking} cannot work here or cannot see the guest's writes; the message says why in
   *     one line
   */
  public PrecopyMigration start(Guest source, MigrationConfig config, MigrationTarget target) {
    return launch(source, config, target, null);
  }

  /**
   * As {@link #start(Guest, MigrationConfig, MigrationTarget)}, calling {@code progress} with a
   * snapshot every 100 ms and once at the end, on a thread of its own.
   */
  public PrecopyMigration start(
      Guest source,
      MigrationConfig config,
      MigrationTarget target,
      Consumer<MigrationStats> progress) {
    return launch(source, config, target, Objects.requireNonNull(progress, "progress"));
  }

  private PrecopyMigration launch(
      Guest source,
      MigrationConfig config,
      MigrationTarget target,
      Consumer<MigrationStats> progress) {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(target, "target");
    check(config);
    DirtyTracker dirtyTracker = source.memory().startDirtyTracking(config.dirtyTracking());
    PrecopyMigration migration;
    try {
      Connection connection = target.connect(source.memory());
      RamState ram = new RamState(source.memory(), dirtyTracker);
      MigrationContext context = new MigrationContext(source, config.options(), ram);
      Optimizations optimizations =
          new Optimizations(registry.providersFor(config.capabilities()), context);
      migration =
          new PrecopyMigration(
              source,
              config,
              config.convergencePolicy().orElse(defaultPolicy),
              ram,
              dirtyTracker,
              optimizations,
              context,
              connection,
              registry.frameCodec(config.capabilities(), config.options()),
              ticker);
    } catch (RuntimeException | Error e) {
      dirtyTracker.close();
      throw e;
    }
    migration.start(
        "precopy-migration-" + MIGRATIONS.incrementAndGet(), progress, PROGRESS_PERIOD_MILLIS);
    return migration;
  }

  /** Builds a {@link MigrationEngine}. Not thread-safe. */
  public static final class Builder {
    private static final String GUICE_BYTECODE_GEN = "guice_bytecode_gen_option";

    private ClassLoader classLoader;
    private final List<MigrationOptimizationProvider> added = new ArrayList<>();
    private final List<Module> overrides = new ArrayList<>();

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
     * Overrides bindings of {@link EngineModule} with those of {@code module} (Guice's {@code
     * Modules.override}), e.g. another default {@link ConvergencePolicy}. Providers that {@code
     * module} adds to the {@code Set<MigrationOptimizationProvider>} join those found.
     */
    public Builder override(Module module) {
      overrides.add(Objects.requireNonNull(module, "module"));
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
      avoidBytecodeGeneration();
      List<MigrationOptimizationProvider> extra = List.copyOf(added);
      Module engine =
          Modules.override(
                  new EngineModule(loader),
                  new AbstractModule() {
                    @Override
                    protected void configure() {
                      Multibinder<MigrationOptimizationProvider> providers =
                          Multibinder.newSetBinder(binder(), MigrationOptimizationProvider.class);
                      extra.forEach(provider -> providers.addBinding().toInstance(provider));
                      bind(MigrationEngine.class);
                    }
                  })
              .with(overrides);
      Injector injector;
      try {
        injector = Guice.createInjector(Stage.PRODUCTION, engine);
      } catch (com.google.inject.CreationException | com.google.inject.ProvisionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof IllegalStateException || cause instanceof IllegalArgumentException) {
          throw (RuntimeException) cause;
        }
        throw e;
      }
      return injector.getInstance(MigrationEngine.class);
    }

    /**
     * Guice defines its generated classes through {@code sun.misc.Unsafe}, for which JDK 24+ print
     * a deprecation warning on the caller's stderr; the engine's few bindings need no generated
     * code, so unless the application chose otherwise, Guice is told to use reflection.
     */
    private static void avoidBytecodeGeneration() {
      if (System.getProperty(GUICE_BYTECODE_GEN) == null) {
        System.setProperty(GUICE_BYTECODE_GEN, "DISABLED");
      }
    }
  }
}
