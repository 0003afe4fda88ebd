package io.github.precopy.core;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.spi.SyncPeriod;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The rounds of one migration: a round is what was sent between two dirty-log syncs, and each sync
 * ends one. Also QEMU's dirty-rate periods: a period is closed by the first sync at least one
 * second after it began, and gives {@code dirty-pages-rate} and the {@link SyncPeriod} that
 * convergence aids decide from. Written by the migration thread; {@link #rounds()} and {@link
 * #dirtyPagesRate()} may be read from any thread.
 */
final class RoundLog {

  private static final long RATE_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final long startNanos;
  private final List<MigrationStats.Round> rounds = new ArrayList<>();
  private long roundPages;
  private long roundStartBytes;
  private long periodStartNanos;
  private long periodStartBytes;
  private long periodDirtyPages;
  private SyncPeriod closedPeriod;
  private volatile long dirtyPagesRate;

  /** A log of a migration that started at {@code startNanos}; the first period starts there. */
  RoundLog(long startNanos) {
    this.startNanos = startNanos;
    this.periodStartNanos = startNanos;
  }

  /** Counts pages sent in the current round. */
  void pagesSent(int pages) {
    roundPages += pages;
  }

  /**
   * Ends the current round at a sync and starts the next.
   *
   * @param syncCount the sync's number, 1 for the first
   * @param streamBytes the stream's length at the sync
   * @param newlyDirtyPages pages the sync found newly dirty
   * @param remainingBytes bytes dirty right after the sync
   * @param guestRunning whether the guest ran during the sync
   * @param cpuThrottlePercentage the guest's throttle during the round
   * @return the round it ended
   */
  MigrationStats.Round endRound(
      long syncCount,
      long nowNanos,
      long streamBytes,
      long newlyDirtyPages,
      long remainingBytes,
      boolean guestRunning,
      int cpuThrottlePercentage) {
    periodDirtyPages += newlyDirtyPages;
    long period = nowNanos - periodStartNanos;
    closedPeriod = null;
    if (period >= RATE_PERIOD_NANOS) {
      dirtyPagesRate = (long) (periodDirtyPages * 1e9 / period);
      closedPeriod =
          new SyncPeriod(
              syncCount,
              TimeUnit.NANOSECONDS.toMillis(period),
              periodDirtyPages << GuestMemory.PAGE_SHIFT,
              streamBytes - periodStartBytes,
              remainingBytes);
      periodStartNanos = nowNanos;
      periodStartBytes = streamBytes;
      periodDirtyPages = 0;
    }
    MigrationStats.Round round =
        new MigrationStats.Round(
            syncCount,
            TimeUnit.NANOSECONDS.toMillis(nowNanos - startNanos),
            roundPages,
            streamBytes - roundStartBytes,
            newlyDirtyPages,
            remainingBytes,
            guestRunning,
            cpuThrottlePercentage);
    synchronized (rounds) {
      rounds.add(round);
    }
    roundPages = 0;
    roundStartBytes = streamBytes;
    return round;
  }

  /** The dirty-rate period the last {@link #endRound} closed, or null if it closed none. */
  SyncPeriod closedPeriod() {
    return closedPeriod;
  }

  /** Pages dirtied per second over the last whole period; 0 before the first. */
  long dirtyPagesRate() {
    return dirtyPagesRate;
  }

  /** The rounds so far, oldest first. */
  List<MigrationStats.Round> rounds() {
    synchronized (rounds) {
      return List.copyOf(rounds);
    }
  }
}
