package io.github.precopy.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.ConvergencePolicies;
import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.GuestMemory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A guest that dirties memory five times faster than the link never converges alone, and converges
 * with auto-converge throttling it; the throttle is lifted at the end.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
final class AutoConvergeMigrationTest {

  private static final long MIB = 1 << 20;

  /** 8 MiB of working set rewritten at 40 MiB/s, five times the 8 MiB/s link. */
  private static SimulatedGuest hotGuest(long seed) {
    SimulatedGuest guest =
        SimulatedGuest.builder()
            .memorySize(32 * MIB)
            .vcpus(2)
            .seed(seed)
            .workload("hot-set", WorkloadOptions.parse("dirty-rate=40m"))
            .build();
    guest.boot();
    guest.start();
    return guest;
  }

  private static MigrationConfig.Builder config() {
    return MigrationConfig.builder().maxBandwidth(8 * MIB);
  }

  @Test
  void withoutAutoConvergeTheMigrationStallsAndTheGuestRunsOn() throws Exception {
    long seed = seed();
    try (SimulatedGuest guest = hotGuest(seed);
        GuestMemory destination = GuestMemory.anonymous(32 * MIB)) {
      MigrationConfig stalls =
          config()
              .convergencePolicy(
                  ConvergencePolicies.untilStalled(6, ConvergencePolicies.GiveUp.FAIL))
              .build();
      MigrationStats stats =
          MigrationEngine.create().startInProcess(guest, destination, stalls).await();

      assertThat(stats.status()).as("seed %d: %s", seed, stats).isEqualTo(MigrationStatus.FAILED);
      assertThat(stats.errorDescription()).startsWith("convergence policy gave up");
      assertThat(stats.cpuThrottlePercentage()).isZero();
      assertThat(guest.isRunning()).isTrue();
    }
  }

  @Test
  void withAutoConvergeItConvergesVerifiedAndTheThrottleIsLiftedAtTheEnd() throws Exception {
    long seed = seed();
    MigrationConfig config =
        config()
            .capability("auto-converge")
            .option("cpu-throttle-initial", "60")
            .option("cpu-throttle-increment", "20")
            .convergencePolicy(
                ConvergencePolicies.bounded(
                    1000, Duration.ofSeconds(90), ConvergencePolicies.GiveUp.FAIL))
            .build();
    try (SimulatedGuest guest = hotGuest(seed);
        GuestMemory destination = GuestMemory.anonymous(32 * MIB)) {
      MigrationStats stats =
          MigrationEngine.create().startInProcess(guest, destination, config).await();

      assertThat(stats.status())
          .as("seed %d: %s", seed, stats)
          .isEqualTo(MigrationStatus.COMPLETED);
      assertThat(stats.verification().mismatches()).isZero();
      assertThat(stats.cpuThrottlePercentage()).isGreaterThanOrEqualTo(60);
      assertThat(stats.optimizations().get("auto-converge")).containsEntry("active", true);
      assertThat(stats.rounds())
          .extracting(MigrationStats.Round::cpuThrottlePercentage)
          .contains(60L);
      assertThat(guest.throttlePercentage()).as("lifted at the end").isZero();
    }
  }

  private static long seed() {
    long seed = Long.getLong("precopy.seed", System.nanoTime());
    System.out.println("AutoConvergeMigrationTest seed=" + seed);
    return seed;
  }
}
