package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.testing.TestGuest;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A downtime longer than the limit is said in the statistics, not left to the caller to find. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class DowntimeLimitTest {

  private static final long MIB = 1 << 20;

  @Test
  void aDowntimeOverTheLimitIsReportedAsExceeded() throws Exception {
    try (TestGuest guest = TestGuest.filled(4 * MIB, 1);
        GuestMemory destination = GuestMemory.anonymous(4 * MIB)) {
      MigrationConfig config =
          MigrationConfig.builder().downtimeLimit(Duration.ofMillis(1)).build();

      MigrationStats stats =
          MigrationEngine.create()
              .startInProcess(new SlowToPause(guest, 30), destination, config)
              .await();

      assertThat(stats.status()).isEqualTo(MigrationStatus.COMPLETED);
      assertThat(stats.downtimeMillis()).isGreaterThanOrEqualTo(30);
      assertThat(stats.downtimeLimitExceeded()).isTrue();
    }
  }

  @Test
  void aDowntimeWithinTheLimitIsNot() throws Exception {
    try (TestGuest guest = TestGuest.filled(4 * MIB, 2);
        GuestMemory destination = GuestMemory.anonymous(4 * MIB)) {
      MigrationConfig config =
          MigrationConfig.builder().downtimeLimit(Duration.ofSeconds(20)).build();

      MigrationStats stats =
          MigrationEngine.create().startInProcess(guest, destination, config).await();

      assertThat(stats.status()).isEqualTo(MigrationStatus.COMPLETED);
      assertThat(stats.downtimeLimitExceeded()).isFalse();
    }
  }

  /**
   * A guest whose pause takes a while after it has stopped its writers (it is part of downtime).
   */
  private record SlowToPause(TestGuest guest, long pauseMillis) implements Guest {
    @Override
    public GuestMemory memory() {
      return guest.memory();
    }

    @Override
    public void pause() {
      guest.pause();
      // The fault under test: a pause that takes long, as a guest with many vCPUs may.
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(pauseMillis));
    }

    @Override
    public void resume() {
      guest.resume();
    }

    @Override
    public boolean isRunning() {
      return guest.isRunning();
    }
  }
}
