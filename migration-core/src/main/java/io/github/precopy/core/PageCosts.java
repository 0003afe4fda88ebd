package io.github.precopy.core;

/**
 * What sending a page costs, by kind, measured over the recent windows of a migration: the basis of
 * the estimate of the final copy's time (the downtime), and so of the decision to switch over.
 *
 * <p>A window of at least 100 ms reports its length and how many pages it sent whole (data) and as
 * ZERO records. The time a window took is what the destination absorbed: once the transport's
 * buffers are full, writing blocks at the destination's pace. A zero page is cheap but not free:
 * its cost is measured from windows of zero pages only; a data page's cost is the rest of a
 * window's time over its data pages. The estimate takes the slowest data-page cost of the last
 * {@value #WINDOWS} windows that sent data, so a brief fast spell does not promise a downtime that
 * a slower one breaks. Used by the migration thread only.
 */
final class PageCosts {

  static final int WINDOWS = 5;

  /** A window tells the cost of a data page only if data pages took at least this share of it. */
  static final double MIN_DATA_SHARE = 0.5;

  /** Nanoseconds per data page of the recent windows that sent data. */
  private final double[] dataNanos = new double[WINDOWS];

  private int windows;
  private int next;
  private double zeroNanos;
  private boolean zeroMeasured;

  /** Takes the figures of one window. */
  void window(long elapsedNanos, long dataPages, long zeroPages) {
    if (elapsedNanos <= 0) {
      return;
    }
    if (dataPages == 0) {
      if (zeroPages > 0) {
        double cost = (double) elapsedNanos / zeroPages;
        zeroNanos = zeroMeasured ? Math.max(cost, (zeroNanos + cost) / 2) : cost;
        zeroMeasured = true;
      }
      return;
    }
    double dataTime = elapsedNanos - zeroPages * zeroNanos;
    if (dataTime < elapsedNanos * MIN_DATA_SHARE) {
      return; // Mostly zero pages: too little data-page time to tell its cost.
    }
    dataNanos[next] = dataTime / dataPages;
    next = (next + 1) % WINDOWS;
    windows = Math.min(windows + 1, WINDOWS);
  }

  /** Whether a data page's cost has been measured yet. */
  boolean measured() {
    return windows > 0;
  }

  /** The slowest measured cost of a data page, in nanoseconds; NaN before any. */
  double dataPageNanos() {
    if (windows == 0) {
      return Double.NaN;
    }
    double slowest = 0;
    for (int i = 0; i < windows; i++) {
      slowest = Math.max(slowest, dataNanos[i]);
    }
    return slowest;
  }

  /** The measured cost of a zero page, in nanoseconds; 0 before any window of zero pages. */
  double zeroPageNanos() {
    return zeroNanos;
  }

  /**
   * How long sending these pages would take, in nanoseconds: 0 for no page; {@link Long#MAX_VALUE}
   * while a kind of page among them has not been measured yet.
   */
  long estimateNanos(long dataPages, long zeroPages) {
    if (dataPages == 0 && (zeroPages == 0 || zeroMeasured)) {
      return (long) Math.min(Long.MAX_VALUE, zeroPages * zeroNanos);
    }
    if (windows == 0) {
      return Long.MAX_VALUE;
    }
    return (long) Math.min(Long.MAX_VALUE, dataPages * dataPageNanos() + zeroPages * zeroNanos);
  }
}
