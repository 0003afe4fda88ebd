package io.github.precopy.core;

import io.github.precopy.core.memory.GuestMemory;
import java.util.concurrent.TimeUnit;

/**
 * QEMU's bandwidth limit ({@code migration_rate_limit}): time runs in windows of 100 ms, and each
 * window may carry a tenth of max-bandwidth (at least one page). Once a window's share is spent,
 * the sender sleeps out the rest of the window. Used by the migration thread only.
 */
final class RateLimiter {

  static final long WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final long budgetBytes;
  private final Ticker ticker;
  private long windowStartNanos;
  private long windowBytes;

  /**
   * A limiter of {@code bytesPerSecond}; {@link MigrationConfig#UNLIMITED} for none. The first
   * window starts now.
   */
  RateLimiter(long bytesPerSecond, Ticker ticker) {
    this.budgetBytes =
        bytesPerSecond == MigrationConfig.UNLIMITED
            ? Long.MAX_VALUE
            : Math.max(GuestMemory.PAGE_SIZE, bytesPerSecond / 10);
    this.ticker = ticker;
    this.windowStartNanos = ticker.nanoTime();
  }

  /**
   * How many pages, up to {@code max}, may be sent now without exceeding the window's share; if the
   * share is spent, first sleeps until the next window starts. At least one.
   */
  int pagesAllowed(int max) throws InterruptedException {
    if (budgetBytes == Long.MAX_VALUE) {
      return max;
    }
    long now = ticker.nanoTime();
    if (now - windowStartNanos >= WINDOW_NANOS) {
      startWindow(now);
    } else if (windowBytes >= budgetBytes) {
      ticker.sleep(windowStartNanos + WINDOW_NANOS - now);
      startWindow(Math.max(ticker.nanoTime(), windowStartNanos + WINDOW_NANOS));
    }
    long pages = (budgetBytes - windowBytes + GuestMemory.PAGE_SIZE - 1) >>> GuestMemory.PAGE_SHIFT;
    return (int) Math.max(1, Math.min(max, pages));
  }

  /** Counts {@code bytes} sent in the current window. */
  void sent(long bytes) {
    windowBytes += bytes;
  }

  private void startWindow(long now) {
    windowStartNanos = now;
    windowBytes = 0;
  }
}
