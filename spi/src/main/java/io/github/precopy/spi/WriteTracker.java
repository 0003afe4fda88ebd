package io.github.precopy.spi;

/**
 * Tracks the writes to one space of pages, opened by {@link WriteTrackingProvider#open}: a
 * dirty-log "get and clear" done by whoever watches the memory (the kernel, for the {@code kernel}
 * tracker).
 *
 * <p>Thread-safety: any number of threads write the memory while one thread at a time calls {@link
 * #collect}. A write that completes before a collect begins is reported by that collect or, if it
 * lands on a page the collect has already passed, by the next one: never lost. {@link #close} must
 * not race with {@link #collect}.
 */
public interface WriteTracker extends AutoCloseable {

  /** Receives one run of written pages. */
  @FunctionalInterface
  interface PageRuns {
    /**
     * Pages {@code [firstPage, firstPage + pageCount)} of the tracked space were written.
     *
     * @param pageCount at least 1
     */
    void written(long firstPage, long pageCount);
  }

  /**
   * Reports, in ascending page order, every page written since the tracker was opened or since the
   * previous collect, and starts watching those pages again in the same step, so that a write
   * racing with the collect is reported now or next time.
   *
   * @return the number of pages reported
   * @throws IllegalStateException once closed
   * @throws java.io.UncheckedIOException if the watcher fails (the message names the call)
   */
  long collect(PageRuns runs);

  /** Stops tracking; writes are then no longer watched. Idempotent. */
  @Override
  void close();
}
