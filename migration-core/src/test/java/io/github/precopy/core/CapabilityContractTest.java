package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.DirtyTracker;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.testing.TestGuest;
import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.PrecopyPhase;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The optional-capability contract: each of its four cases, through the production path. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class CapabilityContractTest {

  private static final long MEMORY = 4 << 20;

  @Test
  void serviceLoaderFindsPluginsOnTheClassPath() {
    assertThat(MigrationEngine.create().capabilities()).contains("service-loaded-test");
  }

  @Test
  void withoutPluginsTheMigrationIsPlainPrecopy() throws Exception {
    MigrationEngine engine =
        MigrationEngine.builder().classLoader(new URLClassLoader(new URL[0], null)).build();

    assertThat(engine.capabilities()).isEmpty();
    MigrationStats stats = migrate(engine, MigrationConfig.defaults());
    assertThat(stats.status()).isEqualTo(MigrationStatus.COMPLETED);
    assertThat(stats.optimizations()).isEmpty();
    assertThat(stats.verification().mismatches()).isZero();
  }

  @Test
  void aPluginPresentButNotEnabledIsNeverCreated() throws Exception {
    RecordingProvider present = new RecordingProvider("present");
    int before = ServiceLoadedTestProvider.CREATED.get();
    MigrationEngine engine = MigrationEngine.builder().addProvider(present).build();

    MigrationStats stats = migrate(engine, MigrationConfig.defaults());

    assertThat(engine.capabilities()).contains("present", "service-loaded-test");
    assertThat(stats.status()).isEqualTo(MigrationStatus.COMPLETED);
    assertThat(present.created).hasValue(0);
    assertThat(ServiceLoadedTestProvider.CREATED.get()).isEqualTo(before);
  }

  @Test
  void anEnabledCapabilityWithoutProviderFailsBeforeMigrating() {
    MigrationEngine engine =
        MigrationEngine.builder().addProvider(new RecordingProvider("present")).build();
    MigrationConfig config =
        MigrationConfig.builder().capability("free-page-hint").capability("present").build();
    try (TestGuest guest = TestGuest.filled(MEMORY, 1);
        GuestMemory destination = GuestMemory.anonymous(MEMORY)) {
      RamBlock block = guest.memory().blocks().get(0);
      long written = block.pageCount() - (block.pageCount() + 7) / 8;

      assertThatThrownBy(() -> engine.startInProcess(guest, destination, config))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "unknown capability free-page-hint; available: present, service-loaded-test, test-delta");
      assertThat(guest.isRunning()).isTrue();
      try (DirtyTracker tracker = guest.memory().startDirtyTracking()) {
        assertThat(tracker.drainInto(block, new PageBitmap(block.pageCount())))
            .as("no sync drained the dirty log")
            .isEqualTo(written);
      }
    }
  }

  @Test
  void anOptimisationThatThrowsIsReportedAndTheMigrationCarriesOn() throws Exception {
    RecordingProvider healthy = new RecordingProvider("healthy");
    MigrationEngine engine =
        MigrationEngine.builder()
            .addProvider(healthy)
            .addProvider(throwingOn(PrecopyPhase.SETUP, "broken"))
            .addProvider(failingToCreate("unbuildable"))
            .build();
    MigrationConfig config =
        MigrationConfig.builder()
            .capability("healthy")
            .capability("broken")
            .capability("unbuildable")
            .build();

    MigrationStats stats = migrate(engine, config);

    assertThat(stats.status()).isEqualTo(MigrationStatus.COMPLETED);
    assertThat(stats.verification().mismatches()).isZero();
    assertThat(stats.optimizations().get("broken"))
        .containsEntry("error", "SETUP failed: java.lang.IllegalStateException: broken on SETUP");
    assertThat(stats.optimizations().get("unbuildable"))
        .containsEntry("error", "create failed: java.lang.IllegalStateException: cannot create");
    assertThat(healthy.phases).contains(PrecopyPhase.SETUP).endsWith(PrecopyPhase.CLEANUP);
  }

  @Test
  void twoProvidersClaimingOneCapabilityAreRejected() {
    MigrationEngine.Builder builder =
        MigrationEngine.builder()
            .addProvider(new RecordingProvider("same"))
            .addProvider(throwingOn(PrecopyPhase.SETUP, "same"));

    assertThatThrownBy(builder::build).hasMessageContaining("capability 'same' is offered by both");
  }

  @Test
  void aCapabilityNameMustBeLowerCaseWithDashes() {
    MigrationEngine.Builder builder =
        MigrationEngine.builder().addProvider(new RecordingProvider("Free Page Hint"));

    assertThatThrownBy(builder::build).hasMessageContaining("invalid capability name");
  }

  private static MigrationStats migrate(MigrationEngine engine, MigrationConfig config)
      throws InterruptedException {
    try (TestGuest guest = TestGuest.filled(MEMORY, 7);
        GuestMemory destination = GuestMemory.anonymous(MEMORY)) {
      return engine.startInProcess(guest, destination, config).await();
    }
  }

  private static MigrationOptimizationProvider throwingOn(PrecopyPhase failing, String name) {
    return new MigrationOptimizationProvider() {
      @Override
      public String capability() {
        return name;
      }

      @Override
      public MigrationOptimization create(OptimizationContext context) {
        return new MigrationOptimization() {
          @Override
          public void onPhase(PrecopyPhase phase) {
            if (phase == failing) {
              throw new IllegalStateException(name + " on " + phase);
            }
          }

          @Override
          public Map<String, Object> statistics() {
            return Map.of();
          }
        };
      }
    };
  }

  private static MigrationOptimizationProvider failingToCreate(String name) {
    return new MigrationOptimizationProvider() {
      @Override
      public String capability() {
        return name;
      }

      @Override
      public MigrationOptimization create(OptimizationContext context) {
        throw new IllegalStateException("cannot create");
      }
    };
  }
}
