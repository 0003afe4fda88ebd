package io.github.precopy.core;

import java.util.concurrent.TimeUnit;

/**
 * What one migration has sent, and the rate it sends at (QEMU's {@code migration_update_counters}:
 * bandwidth and pages per second over windows of at least 100 ms). The migration thread counts
 * batch by batch in plain fields and publishes an immutable {@link Snapshot} once per batch, so
 * readers on any thread see consistent figures and the per-page path has no volatile write.
 */
final class TransferCounters {

  private static final long WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private long transferred;
  private long normalPages;
  private long zeroPages;
  private long precopyBytes;
  private long downtimeBytes;
  private double bandwidthBytesPerSecond;
  private long pagesPerSecond;

  private long windowStartNanos;
  private long windowBytes;
  private long windowData;
  private long windowZero;
  private final PageCosts costs = new PageCosts();

  private volatile Snapshot published = new Snapshot(0, 0, 0, 0, 0, 0, 0);

  /** The figures at one moment. */
  record Snapshot(
      long transferred,
      long normalPages,
      long zeroPages,
      long precopyBytes,
      long downtimeBytes,
      double bandwidthBytesPerSecond,
      long pagesPerSecond) {}

  /** Starts the first bandwidth window at {@code nowNanos}. */
  TransferCounters(long nowNanos) {
    this.windowStartNanos = nowNanos;
  }

  /**
   * Counts a batch of pages sent and publishes the figures.
   *
   * @param streamBytes the stream's length after the batch, headers and records included
   * @param bytes bytes the batch added to the stream
   * @param normal pages sent whole
   * @param encoded data pages not sent whole: encoded by a page codec, or found unchanged
   * @param zero pages sent as ZERO records
   * @param guestRunning whether the guest ran (precopy) or was paused (downtime)
   * @return whether the batch closed a window (the bandwidth and page costs were updated)
   */
  boolean batch(
      long streamBytes,
      long bytes,
      int normal,
      int encoded,
      int zero,
      boolean guestRunning,
      long nowNanos) {
    transferred = streamBytes;
    normalPages += normal;
    zeroPages += zero;
    if (guestRunning) {
      precopyBytes += bytes;
    } else {
      downtimeBytes += bytes;
    }
    windowBytes += bytes;
    windowData += normal + encoded;
    windowZero += zero;
    long elapsed = nowNanos - windowStartNanos;
    boolean closed = elapsed >= WINDOW_NANOS;
    if (closed) {
      bandwidthBytesPerSecond = windowBytes * 1e9 / elapsed;
      pagesPerSecond = (long) ((windowData + windowZero) * 1e9 / elapsed);
      costs.window(elapsed, windowData, windowZero);
      windowStartNanos = nowNanos;
      windowBytes = 0;
      windowData = 0;
      windowZero = 0;
    }
    publish();
    return closed;
  }

  /** What a page costs to send, by kind, from the windows so far; migration thread only. */
  PageCosts costs() {
    return costs;
  }

  /** Sets the stream's length (its header, digest and end records count too) and publishes. */
  void streamBytes(long streamBytes) {
    transferred = streamBytes;
    publish();
  }

  /** Bytes in the stream so far; migration thread only. */
  long transferred() {
    return transferred;
  }

  /** The bandwidth measured over the last whole window; migration thread only. */
  double bandwidthBytesPerSecond() {
    return bandwidthBytesPerSecond;
  }

  /** The figures last published; any thread. */
  Snapshot snapshot() {
    return published;
  }

  private void publish() {
    published =
        new Snapshot(
            transferred,
            normalPages,
            zeroPages,
            precopyBytes,
            downtimeBytes,
            bandwidthBytesPerSecond,
            pagesPerSecond);
  }
}
