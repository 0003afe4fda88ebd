package io.github.precopy.core;

import static io.github.precopy.spi.PrecopyPhase.SETUP;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.testing.TestGuest;
import io.github.precopy.spi.ConvergencePolicy;
import io.github.precopy.spi.SyncPeriod;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the engine gives a convergence aid: the figures of each dirty-rate period, and a guest
 * throttle that it lifts when the migration ends, whatever the outcome.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class ConvergenceAidTest {

  private static final long MIB = 1 << 20;

  private static final RecordingProvider THROTTLER =
      new RecordingProvider(
          "throttler",
          (phase, context) -> {
            if (phase == SETUP) {
              assertThat(context.throttleGuest(40)).isTrue();
            }
          });

  private final MigrationEngine engine = MigrationEngine.builder().addProvider(THROTTLER).build();

  @Test
  void aThrottleIsLiftedWhenTheMigrationCompletesAndItsStatisticsKeepIt() throws Exception {
    try (TestGuest guest = TestGuest.filled(8 * MIB, 1);
        GuestMemory destination = GuestMemory.anonymous(8 * MIB)) {
      MigrationStats stats =
          engine
              .startInProcess(
                  guest, destination, MigrationConfig.builder().capability("throttler").build())
              .await();

      assertThat(stats.status()).isEqualTo(MigrationStatus.COMPLETED);
      assertThat(guest.throttles()).containsExactly(40, 0);
      assertThat(stats.cpuThrottlePercentage()).isEqualTo(40);
      assertThat(stats.rounds().get(stats.rounds().size() - 1).cpuThrottlePercentage())
          .isEqualTo(40);
    }
  }

  @Test
  void aThrottleIsLiftedWhenTheMigrationFails() throws Exception {
    MigrationConfig config =
        MigrationConfig.builder()
            .capability("throttler")
            .convergencePolicy(state -> ConvergencePolicy.Decision.ABORT)
            .build();
    try (TestGuest guest = TestGuest.filled(8 * MIB, 2);
        GuestMemory destination = GuestMemory.anonymous(8 * MIB)) {
      MigrationStats stats = engine.startInProcess(guest, destination, config).await();

      assertThat(stats.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(guest.throttles()).containsExactly(40, 0);
      assertThat(guest.isRunning()).isTrue();
    }
  }

  @Test
  void aThrottleIsLiftedWhenTheMigrationIsCancelled() throws Exception {
    MigrationConfig config =
        MigrationConfig.builder().capability("throttler").maxBandwidth(1 * MIB).build();
    try (TestGuest guest = TestGuest.filled(16 * MIB, 3);
        GuestMemory destination = GuestMemory.anonymous(16 * MIB)) {
      CompletableFuture<Void> throttled = new CompletableFuture<>();
      PrecopyMigration migration =
          engine.startInProcess(
              guest,
              destination,
              config,
              stats -> {
                if (stats.cpuThrottlePercentage() == 40) {
                  throttled.complete(null);
                }
              });
      throttled.get(20, TimeUnit.SECONDS);

      migration.cancel();
      MigrationStats stats = migration.await(30, TimeUnit.SECONDS);

      assertThat(stats.status()).isEqualTo(MigrationStatus.CANCELLED);
      assertThat(guest.throttles()).containsExactly(40, 0);
    }
  }

  @Test
  void anOptimisationIsToldWhatWasDirtiedAndSentInEachPeriodOfASecondOrMore() throws Exception {
    RecordingProvider recorder = new RecordingProvider("recorder");
    MigrationEngine withRecorder = MigrationEngine.builder().addProvider(recorder).build();
    MigrationConfig config =
        MigrationConfig.builder()
            .capability("recorder")
            .maxBandwidth(8 * MIB)
            // The 64 pages the writer dirties take 32 ms at 8 MiB/s: within half of 200 ms, so the
            // migration switches over once the bulk (3 s) is sent, whatever the writer's speed.
            .downtimeLimit(Duration.ofMillis(200))
            .build();
    try (TestGuest guest = TestGuest.filled(24 * MIB, 4).writing(64);
        GuestMemory destination = GuestMemory.anonymous(24 * MIB)) {
      MigrationStats stats = withRecorder.startInProcess(guest, destination, config).await();

      assertThat(stats.status()).as("%s", stats).isEqualTo(MigrationStatus.COMPLETED);
      assertThat(recorder.periods).isNotEmpty();
      for (SyncPeriod period : recorder.periods) {
        assertThat(period.syncCount()).isGreaterThanOrEqualTo(2);
        assertThat(period.periodMillis()).isGreaterThanOrEqualTo(1000);
        assertThat(period.transferredBytes()).isPositive();
        assertThat(period.dirtiedBytes()).as("the writer dirties 64 pages").isPositive();
      }
      assertThat(recorder.periods.stream().mapToLong(SyncPeriod::transferredBytes).sum())
          .isLessThanOrEqualTo(stats.ram().transferred());
    }
  }
}
