package io.github.precopy.examples.cli;

import io.github.precopy.core.MigrationStats;
import java.util.List;
import java.util.Map;

/**
 * One migration of a simulated guest and what was seen of it.
 *
 * @param label how tables and charts name the run: "legacy" or its capabilities
 * @param capabilities the capabilities the run enabled, sorted
 * @param stats the final statistics
 * @param samples remaining bytes over time, from the progress snapshots and the syncs, by time
 * @param guestBuddyInfo the guest's free blocks as {@code /proc/buddyinfo} just before the
 *     migration started, or null if not asked for
 */
record RunResult(
    String label,
    List<String> capabilities,
    MigrationStats stats,
    List<Sample> samples,
    String guestBuddyInfo) {

  /** Copies the lists. */
  RunResult {
    capabilities = List.copyOf(capabilities);
    samples = List.copyOf(samples);
  }

  /**
   * Remaining bytes at a time since the start of the migration.
   *
   * @param timeMillis milliseconds since the migration started
   * @param remainingBytes bytes still dirty then
   */
  record Sample(long timeMillis, long remainingBytes) {}

  /** Pages the run's optimisations reported as hinted ({@code hinted-pages}), summed. */
  long hintedPages() {
    long hinted = 0;
    for (Map<String, Object> figures : stats.optimizations().values()) {
      if (figures.get("hinted-pages") instanceof Number pages) {
        hinted += pages.longValue();
      }
    }
    return hinted;
  }
}
