package io.github.precopy.examples;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.PrecopyMigration;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.sim.SimulatedGuest;
import io.github.precopy.sim.WorkloadOptions;

/**
 * Plain precopy: boots a simulated 128 MiB guest running the idle workload, migrates it into a
 * fresh memory in this process while it runs, and prints QEMU's {@code query-migrate} figures.
 */
public final class PlainPrecopyExample {

  private static final long MEMORY_BYTES = 128L << 20;

  private PlainPrecopyExample() {}

  /**
   * Runs the example.
   *
   * @throws IllegalStateException if the migration did not complete with every page intact
   */
  public static void main(String[] args) throws InterruptedException {
    MigrationEngine engine = MigrationEngine.create();
    try (GuestMemory destination = GuestMemory.anonymous(MEMORY_BYTES);
        SimulatedGuest guest =
            SimulatedGuest.builder()
                .memorySize(MEMORY_BYTES)
                .vcpus(2)
                .seed(42)
                .workload("idle", WorkloadOptions.defaults())
                .build()) {
      guest.start();

      PrecopyMigration migration =
          engine.startInProcess(guest, destination, MigrationConfig.defaults());
      MigrationStats stats = migration.await();

      MigrationStats.Ram ram = stats.ram();
      System.out.printf(
          "status %s in %d ms (downtime %d ms): %d bytes in %d pages and %d zero pages,"
              + " %d syncs%n",
          stats.status().qemuName(),
          stats.totalTimeMillis(),
          stats.downtimeMillis(),
          ram.transferred(),
          ram.normal(),
          ram.duplicate(),
          ram.dirtySyncCount());
      System.out.printf(
          "verification: %d pages in use checked, %d mismatches%n",
          stats.verification().pagesChecked(), stats.verification().mismatches());
      if (stats.status() != MigrationStatus.COMPLETED || stats.verification().mismatches() != 0) {
        throw new IllegalStateException("the migration did not arrive intact: " + stats);
      }
    }
  }
}
