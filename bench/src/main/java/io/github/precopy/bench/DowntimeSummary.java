package io.github.precopy.bench;

import java.util.List;
import java.util.Locale;

/**
 * The downtime figures of one case of {@link DowntimeMatrix} over its runs: whether the downtime
 * limit was kept, and by how much it was missed.
 *
 * @param runs the runs summed up
 * @param downtimeMedianMillis median downtime
 * @param downtimeMaxMillis longest downtime
 * @param overLimit runs whose downtime exceeded the limit
 * @param overTolerance runs whose downtime exceeded the limit + {@link #TOLERANCE_MILLIS}
 * @param totalMedianMillis median total time
 * @param downtimeBytesMedian median bytes sent while the guest was paused
 * @param throttleMax the highest cpu-throttle-percentage of any round of any run
 */
record DowntimeSummary(
    int runs,
    double downtimeMedianMillis,
    long downtimeMaxMillis,
    int overLimit,
    int overTolerance,
    double totalMedianMillis,
    double downtimeBytesMedian,
    long throttleMax) {

  /** How far past the limit a downtime still counts as kept, in the final line's count. */
  static final long TOLERANCE_MILLIS = 100;

  /**
   * One migration's figures.
   *
   * @param downtimeMillis {@code downtime}
   * @param totalMillis {@code total-time}
   * @param downtimeBytes {@code downtime-bytes}
   * @param throttleMax the highest {@code cpu-throttle-percentage} of its rounds
   */
  record Run(long downtimeMillis, long totalMillis, long downtimeBytes, long throttleMax) {}

  /** Sums up {@code runs}, at least one, against a downtime limit of {@code limitMillis}. */
  static DowntimeSummary of(List<Run> runs, long limitMillis) {
    if (runs.isEmpty()) {
      throw new IllegalArgumentException("no runs");
    }
    return new DowntimeSummary(
        runs.size(),
        Median.of(runs, Run::downtimeMillis),
        runs.stream().mapToLong(Run::downtimeMillis).max().orElseThrow(),
        (int) runs.stream().filter(r -> r.downtimeMillis() > limitMillis).count(),
        (int)
            runs.stream().filter(r -> r.downtimeMillis() > limitMillis + TOLERANCE_MILLIS).count(),
        Median.of(runs, Run::totalMillis),
        Median.of(runs, Run::downtimeBytes),
        runs.stream().mapToLong(Run::throttleMax).max().orElseThrow());
  }

  /** Runs whose downtime was within the limit + {@link #TOLERANCE_MILLIS}. */
  int withinTolerance() {
    return runs - overTolerance;
  }

  /** {@code part / all} as a percentage with one decimal, e.g. {@code 83.3 %}; "-" when none. */
  static String percentage(int part, int all) {
    return all == 0 ? "-" : String.format(Locale.ROOT, "%.1f %%", 100.0 * part / all);
  }
}
