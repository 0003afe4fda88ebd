package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.Multibinder;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.testing.TestGuest;
import io.github.precopy.spi.ConvergencePolicy;
import io.github.precopy.spi.MigrationOptimizationProvider;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The engine's Guice bindings can be overridden through the facade, and only those. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class EngineModuleTest {

  private static final long MEMORY = 4L << 20;

  private static final ConvergencePolicy NEVER = state -> ConvergencePolicy.Decision.ABORT;

  @Test
  void aModuleOfTheCallersReplacesTheDefaultConvergencePolicy() throws Exception {
    MigrationEngine engine =
        MigrationEngine.builder()
            .override(
                new AbstractModule() {
                  @Override
                  protected void configure() {
                    bind(ConvergencePolicy.class).toInstance(NEVER);
                  }
                })
            .build();
    try (TestGuest guest = TestGuest.filled(MEMORY, 3);
        GuestMemory destination = GuestMemory.anonymous(MEMORY)) {
      MigrationStats stats =
          engine.startInProcess(guest, destination, MigrationConfig.defaults()).await();

      assertThat(stats.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(stats.errorDescription()).startsWith("convergence policy gave up after 2 syncs");
      assertThat(guest.isRunning()).isTrue();
    }
  }

  @Test
  void aConfigurationsOwnPolicyWinsOverTheBoundDefault() throws Exception {
    MigrationEngine engine =
        MigrationEngine.builder()
            .override(
                new AbstractModule() {
                  @Override
                  protected void configure() {
                    bind(ConvergencePolicy.class).toInstance(NEVER);
                  }
                })
            .build();
    MigrationConfig config =
        MigrationConfig.builder().convergencePolicy(ConvergencePolicy.qemu()).build();
    try (TestGuest guest = TestGuest.filled(MEMORY, 4);
        GuestMemory destination = GuestMemory.anonymous(MEMORY)) {
      MigrationStats stats = engine.startInProcess(guest, destination, config).await();

      assertThat(stats.status()).isEqualTo(MigrationStatus.COMPLETED);
      assertThat(stats.verification().mismatches()).isZero();
    }
  }

  @Test
  void aProviderThatAModuleAddsJoinsThoseFoundOnTheClassPath() {
    MigrationEngine engine =
        MigrationEngine.builder()
            .override(
                new AbstractModule() {
                  @Override
                  protected void configure() {
                    Multibinder.newSetBinder(binder(), MigrationOptimizationProvider.class)
                        .addBinding()
                        .toInstance(new RecordingProvider("from-a-module"));
                  }
                })
            .build();

    assertThat(engine.capabilities())
        .containsExactly("from-a-module", "service-loaded-test", "test-delta");
  }

  @Test
  void withoutOverridesTheEngineUsesQemusRule() throws Exception {
    try (TestGuest guest = TestGuest.filled(MEMORY, 5);
        GuestMemory destination = GuestMemory.anonymous(MEMORY)) {
      MigrationStats stats =
          MigrationEngine.create()
              .startInProcess(guest, destination, MigrationConfig.defaults())
              .await();

      assertThat(stats.status()).isEqualTo(MigrationStatus.COMPLETED);
    }
  }
}
