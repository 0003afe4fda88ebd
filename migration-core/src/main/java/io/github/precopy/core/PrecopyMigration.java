package io.github.precopy.core;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.stream.MigrationStreamWriter;
import io.github.precopy.spi.ConvergencePolicy.Decision;
import io.github.precopy.spi.ConvergenceState;
import io.github.precopy.spi.PrecopyPhase;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One precopy migration in QEMU's order, run on its own thread.
 *
 * <pre>
 * SETUP:    all pages dirty → BEFORE_BITMAP_SYNC, sync, AFTER_BITMAP_SYNC → SETUP
 * ACTIVE:   send dirty pages in block and page order (ZERO record or whole page), rate-limited in
 *           100 ms windows; when remaining ≤ bandwidth × downtime-limit: BEFORE, sync, AFTER,
 *           then the convergence policy: continue, stop-and-copy or abort
 * SWITCH:   pause guest → COMPLETE → BEFORE, final sync, AFTER → send the rest unthrottled → EOS
 * always:   CLEANUP, then close the optimisations; on failure or cancel the guest is resumed
 * </pre>
 *
 * <p>Thread-safety: {@link #cancel()}, {@link #stats()} and the await methods may be called from
 * any thread.
 */
public final class PrecopyMigration {

  private static final int BATCH_PAGES = 256;
  private static final long WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final Guest guest;
  private final MigrationConfig config;
  private final RamState ram;
  private final Optimizations optimizations;
  private final Completion completion;
  private final CountDownLatch done = new CountDownLatch(1);
  private final List<MigrationStats.Round> rounds = new ArrayList<>();

  private volatile MigrationStatus status = MigrationStatus.SETUP;
  private volatile boolean cancelRequested;
  private volatile String error;
  private volatile long startNanos;
  private volatile long endNanos;
  private volatile long setupMillis;
  private volatile long pauseNanos;
  private volatile boolean pausedByMigration;
  private volatile long downtimeMillis;
  private volatile MigrationStats.Verification verification;

  // Written by the migration thread only; read by stats().
  private volatile long transferred;
  private volatile long normalPages;
  private volatile long zeroPages;
  private volatile long precopyBytes;
  private volatile long downtimeBytes;
  private volatile long syncCount;
  private volatile long dirtyPagesRate;
  private volatile double bandwidthBytesPerSecond;
  private volatile long pagesPerSecond;

  private long windowStartNanos;
  private long windowBytes;
  private long windowPages;
  private long periodStartNanos;
  private long periodDirtyPages;
  private long roundPages;
  private long roundStartBytes;
  private PageBitmap[] inUseAtSwitchover;

  /**
   * The transport and the destination behind it: opening the stream, ending it, waiting for and
   * verifying the destination.
   */
  interface Completion {
    /**
     * Connects to the destination and returns the writer of the stream; on the migration thread.
     */
    MigrationStreamWriter open() throws IOException;

    /**
     * Whether the destination is elsewhere: the stream then carries the digest of the pages in use,
     * and downtime ends, as in QEMU, once the last page is written.
     */
    boolean remote();

    /** Ends the stream once its end-of-stream record is written (closes the output side). */
    void endOfStream() throws IOException;

    /** Waits until the destination holds every page; throws if it failed. Default: no wait. */
    default void awaitDestination() throws Exception {}

    /** Compares the pages in use at switch-over, or returns null (the default) when it cannot. */
    default MigrationStats.Verification verify(PageBitmap[] inUse) {
      return null;
    }

    /** Breaks the transport after a failure or cancel; returns at once, from any thread. */
    void abort(Throwable cause);

    /**
     * Waits, bounded, until the destination no longer touches its memory, so that the caller may
     * release it once the migration has ended. Default: nothing to wait for.
     */
    default void awaitStopped() {}

    /**
     * The failure as the user should see it: a transport error caused by a destination that gave up
     * is explained by the destination's reason, where it sent one (waits for it, bounded).
     */
    default Throwable explain(Throwable failure) {
      return failure;
    }
  }

  PrecopyMigration(
      Guest guest,
      MigrationConfig config,
      Optimizations optimizations,
      RamState ram,
      Completion completion) {
    this.guest = guest;
    this.config = config;
    this.optimizations = optimizations;
    this.ram = ram;
    this.completion = completion;
  }

  void start(String threadName) {
    startNanos = System.nanoTime();
    Thread thread = new Thread(this::run, threadName);
    thread.setDaemon(true);
    thread.start();
  }

  /** The current status. */
  public MigrationStatus status() {
    return status;
  }

  /**
   * Asks the migration to stop. It ends as {@link MigrationStatus#CANCELLED}, the guest running and
   * its memory intact, unless it had already ended. Returns at once.
   */
  public void cancel() {
    cancelRequested = true;
    completion.abort(new CancellationException("migration cancelled"));
  }

  /** Waits for the migration to end and returns its final statistics. */
  public MigrationStats await() throws InterruptedException {
    done.await();
    return stats();
  }

  /**
   * Waits up to {@code timeout} for the migration to end.
   *
   * @return the final statistics, or null if it is still running
   */
  public MigrationStats await(long timeout, TimeUnit unit) throws InterruptedException {
    return done.await(timeout, unit) ? stats() : null;
  }

  /** A snapshot of the figures now; final once {@link #status()} is final. */
  public MigrationStats stats() {
    long now = endNanos != 0 ? endNanos : System.nanoTime();
    long remaining = ram.dirtyPages() << GuestMemory.PAGE_SHIFT;
    double bandwidth = bandwidthBytesPerSecond;
    List<MigrationStats.Round> roundsNow;
    synchronized (rounds) {
      roundsNow = List.copyOf(rounds);
    }
    return new MigrationStats(
        status,
        TimeUnit.NANOSECONDS.toMillis(now - startNanos),
        setupMillis,
        downtimeMillis,
        bandwidth > 0 ? (long) (remaining * 1000.0 / bandwidth) : 0,
        new MigrationStats.Ram(
            transferred,
            remaining,
            guest.memory().totalBytes(),
            zeroPages,
            normalPages,
            normalPages << GuestMemory.PAGE_SHIFT,
            syncCount,
            dirtyPagesRate,
            bandwidth * 8 / 1_000_000,
            pagesPerSecond,
            precopyBytes,
            downtimeBytes),
        optimizations.statistics(),
        verification,
        roundsNow,
        error);
  }

  private void run() {
    MigrationStreamWriter writer = null;
    try {
      writer = completion.open();
      setup(writer);
      status = MigrationStatus.ACTIVE;
      iterate(writer);
      complete(writer);
      status = MigrationStatus.COMPLETED;
    } catch (Throwable e) {
      end(e);
    } finally {
      if (writer != null) {
        writer.close();
      }
      ram.acceptHints(false);
      optimizations.notify(PrecopyPhase.CLEANUP);
      optimizations.close();
      if (endNanos == 0) {
        endNanos = System.nanoTime();
      }
      done.countDown();
    }
  }

  private void setup(MigrationStreamWriter writer) throws IOException {
    writer.writeHeader(guest.memory().blocks());
    ram.markAllDirty();
    ram.acceptHints(true);
    long now = System.nanoTime();
    windowStartNanos = now;
    periodStartNanos = now;
    syncWithNotifications(true);
    optimizations.notify(PrecopyPhase.SETUP);
    transferred = writer.bytesWritten();
    setupMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  private void iterate(MigrationStreamWriter writer) throws IOException, InterruptedException {
    int[] blocks = new int[BATCH_PAGES];
    long[] pages = new long[BATCH_PAGES];
    while (true) {
      checkCancelled();
      int taken = ram.takeDirtyPages(blocks, pages, throttle());
      send(writer, blocks, pages, taken, true);
      updateWindow();
      long threshold = thresholdBytes();
      if ((ram.dirtyPages() << GuestMemory.PAGE_SHIFT) <= threshold) {
        writer.flush();
        syncWithNotifications(true);
        Decision decision = config.convergencePolicy().decide(convergenceState());
        if (decision == Decision.STOP_AND_COPY) {
          return;
        }
        if (decision == Decision.ABORT) {
          throw new MigrationFailedException(
              "convergence policy gave up after "
                  + syncCount
                  + " syncs with "
                  + (ram.dirtyPages() << GuestMemory.PAGE_SHIFT)
                  + " bytes still dirty");
        }
      }
    }
  }

  private void complete(MigrationStreamWriter writer) throws Exception {
    checkCancelled();
    pausedByMigration = guest.isRunning();
    guest.pause();
    pauseNanos = System.nanoTime();
    inUseAtSwitchover = inUsePages();
    optimizations.notify(PrecopyPhase.COMPLETE);
    ram.acceptHints(false);
    syncWithNotifications(false);
    int[] blocks = new int[BATCH_PAGES];
    long[] pages = new long[BATCH_PAGES];
    int taken;
    while ((taken = ram.takeDirtyPages(blocks, pages, BATCH_PAGES)) > 0) {
      checkCancelled();
      send(writer, blocks, pages, taken, false);
    }
    writer.flush();
    long lastPageNanos = System.nanoTime();
    if (completion.remote() && config.verify()) {
      List<RamBlock> ramBlocks = guest.memory().blocks();
      for (int i = 0; i < ramBlocks.size(); i++) {
        writer.writeDigest(ramBlocks.get(i), inUseAtSwitchover[i]);
      }
    }
    writer.writeEndOfStream();
    completion.endOfStream();
    transferred = writer.bytesWritten();
    completion.awaitDestination();
    long stopNanos = completion.remote() ? lastPageNanos : System.nanoTime();
    downtimeMillis = TimeUnit.NANOSECONDS.toMillis(stopNanos - pauseNanos);
    endNanos = System.nanoTime();
    if (config.verify()) {
      verification = completion.verify(inUseAtSwitchover);
    }
  }

  private void send(
      MigrationStreamWriter writer, int[] blocks, long[] pages, int count, boolean guestRunning)
      throws IOException {
    List<RamBlock> ramBlocks = guest.memory().blocks();
    long before = writer.bytesWritten();
    for (int i = 0; i < count; i++) {
      RamBlock block = ramBlocks.get(blocks[i]);
      if (block.isZeroPage(pages[i])) {
        writer.writeZeroPage(block, pages[i]);
        zeroPages++;
      } else {
        writer.writePage(block, pages[i]);
        normalPages++;
      }
    }
    long bytes = writer.bytesWritten() - before;
    transferred = writer.bytesWritten();
    if (guestRunning) {
      precopyBytes += bytes;
    } else {
      downtimeBytes += bytes;
    }
    windowBytes += bytes;
    windowPages += count;
    roundPages += count;
  }

  /**
   * Sleeps out the rest of the window once its share of max-bandwidth is spent.
   *
   * @return how many pages may be sent now without exceeding the window's share
   */
  private int throttle() throws InterruptedException {
    long limit = config.maxBandwidthBytesPerSecond();
    if (limit == MigrationConfig.UNLIMITED) {
      return BATCH_PAGES;
    }
    long budget = Math.max(GuestMemory.PAGE_SIZE, limit / 10);
    if (windowBytes >= budget) {
      long sleep = windowStartNanos + WINDOW_NANOS - System.nanoTime();
      if (sleep > 0) {
        TimeUnit.NANOSECONDS.sleep(sleep);
      }
      updateWindow();
    }
    long pages = (budget - windowBytes + GuestMemory.PAGE_SIZE - 1) >>> GuestMemory.PAGE_SHIFT;
    return (int) Math.max(1, Math.min(BATCH_PAGES, pages));
  }

  /** Every 100 ms: bandwidth, pages per second (QEMU's {@code migration_update_counters}). */
  private void updateWindow() {
    long now = System.nanoTime();
    long elapsed = now - windowStartNanos;
    if (elapsed >= WINDOW_NANOS) {
      bandwidthBytesPerSecond = windowBytes * 1e9 / elapsed;
      pagesPerSecond = (long) (windowPages * 1e9 / elapsed);
      windowStartNanos = now;
      windowBytes = 0;
      windowPages = 0;
    }
  }

  private long thresholdBytes() {
    return (long) (bandwidthBytesPerSecond * config.downtimeLimit().toMillis() / 1000.0);
  }

  private ConvergenceState convergenceState() {
    return new ConvergenceState(
        syncCount,
        ram.dirtyPages() << GuestMemory.PAGE_SHIFT,
        bandwidthBytesPerSecond,
        config.downtimeLimit().toMillis(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos),
        dirtyPagesRate);
  }

  private void syncWithNotifications(boolean guestRunning) {
    optimizations.notify(PrecopyPhase.BEFORE_BITMAP_SYNC);
    SyncEvent event = new SyncEvent();
    event.begin();
    long newlyDirty = ram.sync();
    assert ram.countMatchesBitmaps() : "dirty page count differs from the bitmaps' popcount";
    long count = ++syncCount;
    long now = System.nanoTime();
    periodDirtyPages += newlyDirty;
    long period = now - periodStartNanos;
    if (period >= TimeUnit.SECONDS.toNanos(1)) {
      dirtyPagesRate = (long) (periodDirtyPages * 1e9 / period);
      periodStartNanos = now;
      periodDirtyPages = 0;
    }
    long remaining = ram.dirtyPages() << GuestMemory.PAGE_SHIFT;
    synchronized (rounds) {
      rounds.add(
          new MigrationStats.Round(
              count,
              TimeUnit.NANOSECONDS.toMillis(now - startNanos),
              roundPages,
              transferred - roundStartBytes,
              newlyDirty,
              remaining,
              guestRunning));
    }
    event.finish(count, newlyDirty, remaining, roundPages, guestRunning);
    roundPages = 0;
    roundStartBytes = transferred;
    optimizations.notify(PrecopyPhase.AFTER_BITMAP_SYNC);
  }

  private PageBitmap[] inUsePages() {
    List<RamBlock> blocks = guest.memory().blocks();
    PageBitmap[] inUse = new PageBitmap[blocks.size()];
    for (int i = 0; i < inUse.length; i++) {
      inUse[i] = guest.pagesInUse(blocks.get(i));
    }
    return inUse;
  }

  private void checkCancelled() {
    if (cancelRequested) {
      throw new CancellationException("migration cancelled");
    }
  }

  private void end(Throwable e) {
    boolean cancelled = cancelRequested || e instanceof CancellationException;
    String description = describe(cancelled ? e : completion.explain(e));
    completion.abort(e);
    try {
      completion.awaitStopped();
    } catch (RuntimeException stuck) {
      description += "; " + stuck.getMessage();
    }
    error = cancelled ? null : description;
    if (pausedByMigration) {
      try {
        guest.resume();
      } catch (RuntimeException resumeFailure) {
        error = description + "; the guest did not resume: " + describe(resumeFailure);
      }
    }
    endNanos = System.nanoTime();
    status = cancelled ? MigrationStatus.CANCELLED : MigrationStatus.FAILED;
  }

  private static String describe(Throwable e) {
    String message = e.getMessage();
    return message == null ? e.toString() : message;
  }

  /** Calls {@code listener} with a snapshot every {@code periodMillis} until the migration ends. */
  void startProgressReports(Consumer<MigrationStats> listener, long periodMillis) {
    Thread reporter =
        new Thread(
            () -> {
              try {
                while (!done.await(periodMillis, TimeUnit.MILLISECONDS)) {
                  listener.accept(stats());
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              listener.accept(stats());
            },
            "precopy-progress");
    reporter.setDaemon(true);
    reporter.start();
  }
}
