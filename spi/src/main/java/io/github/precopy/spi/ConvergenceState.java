package io.github.precopy.spi;

/**
 * The figures a {@link ConvergencePolicy} decides from, taken right after a dirty-log sync.
 *
 * @param syncCount dirty-log syncs so far in this migration, this one included (1 after setup)
 * @param remainingBytes bytes still dirty after this sync (QEMU {@code remaining})
 * @param bandwidthBytesPerSecond the rate, bytes per second, at which the engine expects what
 *     remains to reach the destination during the final copy, by what each kind of page has cost
 *     lately and with the engine's safety margin applied: {@link #thresholdBytes()} is then what
 *     the final copy may carry within the downtime limit
 * @param downtimeLimitMillis the configured downtime limit in milliseconds
 * @param elapsedMillis time since the migration started, in milliseconds
 * @param dirtyPagesRate pages dirtied per second over the last sync period
 */
public record ConvergenceState(
    long syncCount,
    long remainingBytes,
    double bandwidthBytesPerSecond,
    long downtimeLimitMillis,
    long elapsedMillis,
    long dirtyPagesRate) {

  /** Bytes that can be sent within the downtime limit at the measured bandwidth. */
  public long thresholdBytes() {
    return (long) (bandwidthBytesPerSecond * downtimeLimitMillis / 1000.0);
  }
}
