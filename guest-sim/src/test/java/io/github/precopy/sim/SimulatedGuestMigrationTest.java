package io.github.precopy.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.ConvergencePolicies;
import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.spi.testing.Await;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Simulated guests running workloads migrate in process, every page in use byte for byte. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
final class SimulatedGuestMigrationTest {

  private static final long MIB = 1 << 20;

  private final MigrationEngine engine = MigrationEngine.create();

  @ParameterizedTest(name = "{0} dirty tracking")
  @MethodSource("io.github.precopy.core.testing.TestMemories#dirtyTrackings")
  void idleGuestArrivesByteForByte(String tracking) throws Exception {
    MigrationStats stats =
        migrateSimulated(
            "idle", 128 * MIB, MigrationConfig.builder().dirtyTracking(tracking).build());

    assertCompletedAndVerified(stats);
  }

  @ParameterizedTest(name = "{0} dirty tracking")
  @MethodSource("io.github.precopy.core.testing.TestMemories#dirtyTrackings")
  void compilingGuestArrivesByteForByte(String tracking) throws Exception {
    MigrationStats stats =
        migrateSimulated(
            "compile", 256 * MIB, MigrationConfig.builder().dirtyTracking(tracking).build());

    assertCompletedAndVerified(stats);
    assertThat(stats.rounds()).hasSizeGreaterThanOrEqualTo(3);
  }

  @Test
  void hotSetGuestFailsUnderABoundedPolicyAndKeepsRunning() throws Exception {
    MigrationConfig config =
        MigrationConfig.builder()
            .maxBandwidth(64 * MIB)
            .downtimeLimit(Duration.ofMillis(10))
            .convergencePolicy(
                ConvergencePolicies.bounded(
                    4, Duration.ofSeconds(30), ConvergencePolicies.GiveUp.FAIL))
            .build();
    long seed = seed();
    try (SimulatedGuest guest = simulated("hot-set", 128 * MIB, seed);
        GuestMemory destination = GuestMemory.anonymous(128 * MIB)) {
      guest.start();
      MigrationStats stats = engine.startInProcess(guest, destination, config).await();

      assertThat(stats.status()).as("seed %d", seed).isEqualTo(MigrationStatus.FAILED);
      assertThat(stats.errorDescription()).contains("convergence policy gave up after 4 syncs");
      assertThat(guest.isRunning()).isTrue();
      long work = guest.workDone();
      awaitWorkBeyond(guest, work);
    }
  }

  @ParameterizedTest(name = "{0} dirty tracking")
  @MethodSource("io.github.precopy.core.testing.TestMemories#dirtyTrackings")
  void hotSetGuestSwitchesOverWhenTheBoundedPolicySaysSo(String tracking) throws Exception {
    MigrationConfig config =
        MigrationConfig.builder()
            .dirtyTracking(tracking)
            .maxBandwidth(256 * MIB)
            .downtimeLimit(Duration.ofMillis(10))
            .convergencePolicy(
                ConvergencePolicies.bounded(
                    3, Duration.ofSeconds(30), ConvergencePolicies.GiveUp.SWITCH_OVER))
            .build();

    MigrationStats stats = migrateSimulated("hot-set", 128 * MIB, config);

    assertCompletedAndVerified(stats);
    assertThat(stats.ram().dirtySyncCount()).isEqualTo(4);
  }

  private MigrationStats migrateSimulated(String workload, long bytes, MigrationConfig config)
      throws InterruptedException {
    long seed = seed();
    try (SimulatedGuest guest = simulated(workload, bytes, seed);
        GuestMemory destination = GuestMemory.anonymous(bytes)) {
      guest.start();
      MigrationStats stats = engine.startInProcess(guest, destination, config).await();
      assertThat(guest.failure()).as("seed %d", seed).isEmpty();
      return stats;
    }
  }

  private static SimulatedGuest simulated(String workload, long bytes, long seed) {
    SimulatedGuest guest =
        SimulatedGuest.builder()
            .memorySize(bytes)
            .vcpus(2)
            .seed(seed)
            .workload(workload, WorkloadOptions.defaults())
            .build();
    guest.boot();
    return guest;
  }

  /** Waits, bounded, until the guest's vCPUs have done more than {@code work}. */
  private static void awaitWorkBeyond(SimulatedGuest guest, long work) {
    Await.until(() -> guest.workDone() > work, "the guest keeps working");
  }

  private static void assertCompletedAndVerified(MigrationStats stats) {
    assertThat(stats.status()).as("%s", stats).isEqualTo(MigrationStatus.COMPLETED);
    assertThat(stats.errorDescription()).isNull();
    assertThat(stats.verification()).isNotNull();
    assertThat(stats.verification().pagesChecked()).isPositive();
    assertThat(stats.verification().mismatches()).as("%s", stats).isZero();
    assertThat(stats.ram().remaining()).isZero();
  }

  private static long seed() {
    long seed = Long.getLong("precopy.seed", System.nanoTime());
    System.out.println("SimulatedGuestMigrationTest seed=" + seed);
    return seed;
  }
}
