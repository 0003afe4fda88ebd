package io.github.precopy.examples;

import io.github.precopy.balloon.FreePageHintProvider;
import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.PrecopyMigration;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.sim.SimulatedGuest;
import io.github.precopy.sim.WorkloadOptions;
import io.github.precopy.sim.balloon.BalloonDriver;
import java.util.Map;

/**
 * Free page hinting: plugs a virtio-balloon with free page hinting into a simulated 256 MiB guest
 * and enables capability {@code free-page-hint} for its migration, so that the guest's balloon
 * driver reports free memory and the engine does not send it. The capability is on the class path
 * through the {@code balloon-hint} jar; {@link MigrationEngine#create()} finds it.
 */
public final class FreePageHintExample {

  private static final long MEMORY_BYTES = 256L << 20;

  private FreePageHintExample() {}

  /**
   * Runs the example.
   *
   * @throws IllegalStateException if no page was hinted or the migration did not arrive intact
   */
  public static void main(String[] args) throws InterruptedException {
    MigrationEngine engine = MigrationEngine.create();
    System.out.println("capabilities on the class path: " + engine.capabilities());
    try (GuestMemory destination = GuestMemory.anonymous(MEMORY_BYTES);
        SimulatedGuest guest =
            SimulatedGuest.builder()
                .memorySize(MEMORY_BYTES)
                .vcpus(2)
                .seed(42)
                .workload("idle", WorkloadOptions.defaults())
                .build()) {
      guest.boot();
      // The device and its guest driver; true: the guest kernel accepts free page hinting.
      try (BalloonDriver balloon = BalloonDriver.install(guest, true)) {
        guest.start();

        MigrationConfig config =
            MigrationConfig.builder().capability(FreePageHintProvider.CAPABILITY).build();
        PrecopyMigration migration = engine.startInProcess(guest, destination, config);
        MigrationStats stats = migration.await();

        Map<String, Object> hints = stats.optimizations().get(FreePageHintProvider.CAPABILITY);
        System.out.printf(
            "status %s in %d ms: %d pages sent, %d zero pages; free-page-hint: %s%n",
            stats.status().qemuName(),
            stats.totalTimeMillis(),
            stats.ram().normal(),
            stats.ram().duplicate(),
            hints);
        System.out.printf(
            "the driver reported %d blocks of 4 MiB; verification: %d mismatches%n",
            balloon.reportedBlocks(), stats.verification().mismatches());
        if (stats.status() != MigrationStatus.COMPLETED
            || stats.verification().mismatches() != 0
            || !(hints.get("hinted-pages") instanceof Long hinted && hinted > 0)) {
          throw new IllegalStateException("expected an intact migration with hints: " + stats);
        }
      }
    }
  }
}
