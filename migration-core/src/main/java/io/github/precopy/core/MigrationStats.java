package io.github.precopy.core;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of a migration's figures, named as QEMU's {@code query-migrate} (see the
 * JSON names in each component's Javadoc). Times are in milliseconds, sizes in bytes.
 *
 * @param status {@code status}
 * @param totalTimeMillis {@code total-time}: since the start, or the whole migration once final
 * @param setupTimeMillis {@code setup-time}
 * @param downtimeMillis {@code downtime}: guest paused until the destination had every page; 0
 *     before switch-over
 * @param downtimeLimitExceeded {@code downtime-limit-exceeded}: whether the measured downtime is
 *     longer than the configured limit (a broken promise, which a caller should not have to work
 *     out by comparing two figures)
 * @param cpuThrottlePercentage {@code cpu-throttle-percentage}: the guest's throttle while the
 *     migration runs; once it has ended, the throttle in effect at its last sync (the engine lifts
 *     the throttle at the end); 0 when never throttled
 * @param expectedDowntimeMillis {@code expected-downtime}: while {@link MigrationStatus#ACTIVE}
 *     (the only status in which QEMU reports it), how long the final copy of what is dirty now
 *     would take, by what each kind of page has cost lately; 0 otherwise and until measured
 * @param ram {@code ram}
 * @param optimizations per enabled capability in name order, the figures its optimisation reports
 *     in the order it reports them (e.g. {@code free-page-hint} → {@code hinted-pages}); a
 *     capability whose optimisation failed reports {@code error}
 * @param verification {@code verification}, or null when not verified (yet)
 * @param rounds per-round figures, one per dirty-log sync
 * @param errorDescription {@code error-desc}: why the migration failed, or null
 */
public record MigrationStats(
    MigrationStatus status,
    long totalTimeMillis,
    long setupTimeMillis,
    long downtimeMillis,
    long expectedDowntimeMillis,
    boolean downtimeLimitExceeded,
    long cpuThrottlePercentage,
    Ram ram,
    Map<String, Map<String, Object>> optimizations,
    Verification verification,
    List<Round> rounds,
    String errorDescription) {

  /** Copies the collections, keeping the order of their keys. */
  public MigrationStats {
    Map<String, Map<String, Object>> copy = new LinkedHashMap<>();
    optimizations.forEach(
        (name, figures) ->
            copy.put(name, Collections.unmodifiableMap(new LinkedHashMap<>(figures))));
    optimizations = Collections.unmodifiableMap(copy);
    rounds = List.copyOf(rounds);
  }

  /**
   * RAM figures.
   *
   * @param transferred {@code transferred}: stream bytes sent, headers and records included
   * @param remaining {@code remaining}: bytes still dirty
   * @param total {@code total}: guest RAM in bytes
   * @param duplicate {@code duplicate}: zero pages sent as ZERO records
   * @param normal {@code normal}: pages sent whole
   * @param normalBytes {@code normal-bytes}
   * @param dirtySyncCount {@code dirty-sync-count}
   * @param dirtyPagesRate {@code dirty-pages-rate}: pages dirtied per second over the last sync
   *     period
   * @param mbps {@code mbps}: megabits per second over the last 100 ms window
   * @param pagesPerSecond {@code pages-per-second} over the last window
   * @param precopyBytes {@code precopy-bytes}: sent while the guest ran
   * @param downtimeBytes {@code downtime-bytes}: sent while the guest was paused
   */
  public record Ram(
      long transferred,
      long remaining,
      long total,
      long duplicate,
      long normal,
      long normalBytes,
      long dirtySyncCount,
      long dirtyPagesRate,
      double mbps,
      long pagesPerSecond,
      long precopyBytes,
      long downtimeBytes) {}

  /**
   * The comparison of source and destination after completion.
   *
   * @param pagesChecked {@code pages-checked}: pages the guest had in use at switch-over
   * @param mismatches {@code mismatches}: of those, pages whose bytes differ at the destination
   */
  public record Verification(long pagesChecked, long mismatches) {}

  /**
   * One round: the pages sent since the previous sync, and this sync.
   *
   * @param syncCount the sync that ended the round (1 is the setup sync)
   * @param endMillis time of the sync since the start of the migration
   * @param pagesSent pages sent in the round (normal and zero)
   * @param bytesSent stream bytes sent in the round
   * @param newlyDirtyPages pages the sync found newly dirty
   * @param remainingBytes bytes dirty right after the sync
   * @param guestRunning whether the guest ran during the sync (false only for the final one)
   * @param cpuThrottlePercentage {@code cpu-throttle-percentage}: the guest's throttle in the round
   */
  public record Round(
      long syncCount,
      long endMillis,
      long pagesSent,
      long bytesSent,
      long newlyDirtyPages,
      long remainingBytes,
      boolean guestRunning,
      long cpuThrottlePercentage) {}
}
