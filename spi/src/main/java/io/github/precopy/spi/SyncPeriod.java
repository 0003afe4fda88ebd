package io.github.precopy.spi;

/**
 * What happened over one dirty-rate period of a migration: QEMU's period of {@code
 * migration_bitmap_sync}, closed by the first sync at least one second after the previous period
 * ended. The figures a convergence aid such as auto-converge decides from.
 *
 * @param syncCount the sync that closed the period (2 or more; the setup sync opens the first)
 * @param periodMillis the period's length in milliseconds, at least 1000
 * @param dirtiedBytes bytes of pages the syncs of the period found newly dirty
 * @param transferredBytes stream bytes the migration sent in the period
 * @param remainingBytes bytes still dirty right after the closing sync
 */
public record SyncPeriod(
    long syncCount,
    long periodMillis,
    long dirtiedBytes,
    long transferredBytes,
    long remainingBytes) {

  /** Validates the figures. */
  public SyncPeriod {
    if (syncCount < 1
        || periodMillis < 0
        || dirtiedBytes < 0
        || transferredBytes < 0
        || remainingBytes < 0) {
      throw new IllegalArgumentException(
          "sync period figures must not be negative (sync "
              + syncCount
              + ", "
              + periodMillis
              + " ms, dirtied "
              + dirtiedBytes
              + ", transferred "
              + transferredBytes
              + ", remaining "
              + remainingBytes
              + ")");
    }
  }
}
