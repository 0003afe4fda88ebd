package io.github.precopy.core;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.engine.Connection;
import io.github.precopy.core.engine.MigrationContext;
import io.github.precopy.core.engine.OptimizationRegistry;
import io.github.precopy.core.engine.Optimizations;
import io.github.precopy.core.engine.RamState;
import io.github.precopy.core.memory.DirtyTracker;
import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.stream.MigrationStreamWriter;
import io.github.precopy.spi.ConvergencePolicy;
import io.github.precopy.spi.ConvergencePolicy.Decision;
import io.github.precopy.spi.ConvergenceState;
import io.github.precopy.spi.FrameCodec;
import io.github.precopy.spi.PrecopyPhase;
import io.github.precopy.spi.SyncPeriod;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One precopy migration in QEMU's order, run on its own thread.
 *
 * <pre>
 * SETUP:    all pages dirty → BEFORE_BITMAP_SYNC, sync, AFTER_BITMAP_SYNC → SETUP
 * ACTIVE:   send dirty pages in block and page order (ZERO record, whole page, or after the bulk
 *           round the page codec's encoding), rate-limited in
 *           100 ms windows; when remaining ≤ bandwidth × downtime-limit, or once the policy's
 *           deadline has passed (checked every batch): BEFORE, sync, AFTER, then the convergence
 *           policy: continue, stop-and-copy or abort
 * SWITCH:   pause guest → COMPLETE → BEFORE, final sync, AFTER → send the rest unthrottled → EOS
 * always:   CLEANUP, then close the optimisations; on failure or cancel the guest is resumed
 * </pre>
 *
 * <p>Thread-safety: {@link #cancel()}, {@link #stats()} and the await methods may be called from
 * any thread.
 */
public final class PrecopyMigration {

  private static final int BATCH_PAGES = 256;

  /**
   * Switch over once the final copy is expected to take at most this share of the downtime limit:
   * the expectation is from the slowest recent window, and the final copy may still run slower (the
   * destination touching fresh memory, other work on the machine), so half the limit is kept in
   * hand to keep the limit a promise.
   */
  static final double SWITCH_OVER_SHARE = 0.5;

  private final Guest guest;
  private final MigrationConfig config;
  private final ConvergencePolicy policy;
  private final RamState ram;
  private final DirtyTracker dirtyTracker;
  private final Optimizations optimizations;
  private final MigrationContext context;
  private final Connection connection;
  private final Ticker ticker;
  private final long startNanos;
  private final TransferCounters counters;
  private final RoundLog rounds;
  private final RateLimiter rateLimiter;
  private final CountDownLatch done = new CountDownLatch(1);

  private volatile MigrationStatus status = MigrationStatus.SETUP;
  private volatile boolean cancelRequested;
  private volatile String error;
  private volatile long endNanos;
  private volatile long setupMillis;
  private volatile long downtimeMillis;
  private volatile long syncCount;
  private volatile int throttleAtLastSync;
  private volatile long expectedDowntimeMillis;

  /**
   * Of the pages still to send, how many the guest ever wrote: counted exactly at each window and
   * sync, less the written pages sent since.
   */
  private long writtenDirty;

  private volatile MigrationStats.Verification verification;
  private boolean pausedByMigration;

  /** The frame codec that compresses the stream, or null. */
  private final FrameCodec frameCodec;

  private final byte[] pageCopy = new byte[GuestMemory.PAGE_SIZE];
  private final boolean[] zeroPages = new boolean[BATCH_PAGES];
  private final ZeroPageScan zeroScan;
  private ByteBuffer encodedPage;

  /**
   * With a frame codec: the stream's bytes before and after compression, published by the migration
   * thread with the transfer counters (the writer itself is the migration thread's).
   */
  private volatile Compression compression;

  private record Compression(long uncompressedBytes, long compressedBytes) {}

  PrecopyMigration(
      Guest guest,
      MigrationConfig config,
      ConvergencePolicy policy,
      RamState ram,
      DirtyTracker dirtyTracker,
      Optimizations optimizations,
      MigrationContext context,
      Connection connection,
      FrameCodec frameCodec,
      Ticker ticker) {
    this.guest = guest;
    this.frameCodec = frameCodec;
    this.config = config;
    this.policy = policy;
    this.ram = ram;
    this.dirtyTracker = dirtyTracker;
    this.optimizations = optimizations;
    this.context = context;
    this.connection = connection;
    this.ticker = ticker;
    this.zeroScan = new ZeroPageScan(guest.memory().blocks());
    this.startNanos = ticker.nanoTime();
    this.counters = new TransferCounters(startNanos);
    this.rounds = new RoundLog(startNanos);
    this.rateLimiter = new RateLimiter(config.maxBandwidthBytesPerSecond(), ticker);
  }

  /**
   * Runs the migration on a new thread named {@code threadName}; with a {@code progress} listener
   * (may be null), a second thread calls it with a snapshot every {@code periodMillis} and once at
   * the end.
   */
  void start(String threadName, Consumer<MigrationStats> progress, long periodMillis) {
    Thread thread = new Thread(this::run, threadName);
    thread.setDaemon(true);
    thread.start();
    if (progress != null) {
      Thread reporter = new Thread(() -> report(progress, periodMillis), threadName + "-progress");
      reporter.setDaemon(true);
      reporter.start();
    }
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
    connection.abort(new CancellationException("migration cancelled"));
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
    long now = endNanos != 0 ? endNanos : ticker.nanoTime();
    long remaining = ram.dirtyPages() << GuestMemory.PAGE_SHIFT;
    TransferCounters.Snapshot sent = counters.snapshot();
    double bandwidth = sent.bandwidthBytesPerSecond();
    return new MigrationStats(
        status,
        TimeUnit.NANOSECONDS.toMillis(now - startNanos),
        setupMillis,
        downtimeMillis,
        status == MigrationStatus.ACTIVE ? expectedDowntimeMillis : 0,
        downtimeMillis > downtimeLimitMillis(),
        status.isFinal() ? throttleAtLastSync : context.guestThrottle(),
        new MigrationStats.Ram(
            sent.transferred(),
            remaining,
            guest.memory().totalBytes(),
            sent.zeroPages(),
            sent.normalPages(),
            sent.normalPages() << GuestMemory.PAGE_SHIFT,
            syncCount,
            rounds.dirtyPagesRate(),
            bandwidth * 8 / 1_000_000,
            sent.pagesPerSecond(),
            sent.precopyBytes(),
            sent.downtimeBytes()),
        statistics(),
        verification,
        rounds.rounds(),
        error);
  }

  /** The optimisations' figures, and the frame codec's under {@code multifd-compression}. */
  private Map<String, Map<String, Object>> statistics() {
    Map<String, Map<String, Object>> figures = optimizations.statistics();
    Compression bytes = compression;
    if (frameCodec == null || bytes == null) {
      return figures;
    }
    long before = bytes.uncompressedBytes();
    long after = bytes.compressedBytes();
    Map<String, Object> codec = new LinkedHashMap<>();
    codec.put("codec", frameCodec.name());
    codec.put("uncompressed-bytes", before);
    codec.put("compressed-bytes", after);
    codec.put("compression-rate", after == 0 ? 0.0 : (double) before / after);
    Map<String, Map<String, Object>> all = new TreeMap<>(figures);
    all.put(OptimizationRegistry.MULTIFD_COMPRESSION, codec);
    return all;
  }

  /**
   * With a frame codec, publishes the stream's bytes before compression and after ({@code
   * streamBytes}).
   */
  private void published(MigrationStreamWriter writer, long streamBytes) {
    if (frameCodec != null) {
      compression = new Compression(writer.uncompressedBytes(), streamBytes);
    }
  }

  private void run() {
    MigrationStreamWriter writer = null;
    try {
      writer = connection.open();
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
      context.liftThrottle();
      zeroScan.close();
      dirtyTracker.close();
      if (endNanos == 0) {
        endNanos = ticker.nanoTime();
      }
      done.countDown();
    }
  }

  private void setup(MigrationStreamWriter writer) throws Exception {
    Optimizations.PageEncoding encoding = optimizations.pageEncoding();
    if (encoding != null) {
      encodedPage = ByteBuffer.allocate(encoding.maxEncodedBytes());
    }
    writer.writeHeader(
        guest.memory().blocks(),
        encoding == null ? List.of() : List.of(encoding.capability()),
        frameCodec,
        config.options());
    ram.markAllDirty();
    ram.acceptHints(true);
    sync(true);
    optimizations.notify(PrecopyPhase.SETUP);
    counters.streamBytes(writer.bytesWritten());
    published(writer, writer.bytesWritten());
    setupMillis = TimeUnit.NANOSECONDS.toMillis(ticker.nanoTime() - startNanos);
  }

  private void iterate(MigrationStreamWriter writer) throws Exception {
    int[] blocks = new int[BATCH_PAGES];
    long[] pages = new long[BATCH_PAGES];
    long deadlineNanos = deadlineNanos(policy.deadlineMillis());
    while (true) {
      checkCancelled();
      int taken = ram.takeDirtyPages(blocks, pages, rateLimiter.pagesAllowed(BATCH_PAGES));
      rateLimiter.sent(send(writer, blocks, pages, taken, true));
      boolean fits =
          expectedDowntimeNanos()
              <= TimeUnit.MILLISECONDS.toNanos(downtimeLimitMillis()) * SWITCH_OVER_SHARE;
      // The policy's deadline ends the round early: checked once per batch, and a batch waits at
      // most one rate-limit window, so the decision comes within a window of the deadline.
      boolean deadlinePassed = ticker.nanoTime() - startNanos >= deadlineNanos;
      if (deadlinePassed) {
        deadlineNanos = Long.MAX_VALUE;
      }
      if (fits || deadlinePassed) {
        writer.flush();
        sync(true);
        Decision decision = policy.decide(convergenceState());
        if (decision == Decision.STOP_AND_COPY) {
          return;
        }
        if (decision == Decision.ABORT) {
          throw new MigrationFailedException(
              String.format(
                  Locale.ROOT,
                  "convergence policy gave up after %d syncs with %d bytes still dirty"
                      + " (the guest dirties %.1f MB/s, the migration sends %.1f MB/s)",
                  syncCount,
                  remainingBytes(),
                  rounds.dirtyPagesRate() * (double) GuestMemory.PAGE_SIZE / 1e6,
                  counters.bandwidthBytesPerSecond() / 1e6));
        }
      }
    }
  }

  private void complete(MigrationStreamWriter writer) throws Exception {
    checkCancelled();
    pausedByMigration = guest.isRunning();
    // As QEMU's downtime, ours starts when the guest is asked to stop: stopping it is part of it.
    long pauseNanos = ticker.nanoTime();
    guest.pause();
    PageBitmap[] inUse = inUsePages();
    optimizations.notify(PrecopyPhase.COMPLETE);
    ram.acceptHints(false);
    sync(false);
    int[] blocks = new int[BATCH_PAGES];
    long[] pages = new long[BATCH_PAGES];
    int taken;
    while ((taken = ram.takeDirtyPages(blocks, pages, BATCH_PAGES)) > 0) {
      checkCancelled();
      send(writer, blocks, pages, taken, false);
    }
    writer.flush();
    long lastPageNanos = ticker.nanoTime();
    if (connection.remote() && config.verify()) {
      List<RamBlock> ramBlocks = guest.memory().blocks();
      for (int i = 0; i < ramBlocks.size(); i++) {
        writer.writeDigest(ramBlocks.get(i), inUse[i]);
      }
    }
    writer.writeEndOfStream();
    counters.streamBytes(writer.bytesWritten());
    published(writer, writer.bytesWritten());
    connection.finish();
    long stopNanos = connection.remote() ? lastPageNanos : ticker.nanoTime();
    downtimeMillis = TimeUnit.NANOSECONDS.toMillis(stopNanos - pauseNanos);
    endNanos = ticker.nanoTime();
    if (config.verify()) {
      Connection.Verified verified = connection.verify(inUse);
      if (verified != null) {
        verification =
            new MigrationStats.Verification(verified.pagesChecked(), verified.mismatches());
      }
    }
  }

  /**
   * Sends one batch of pages, each as a ZERO record, whole, or (after the bulk round, as QEMU's
   * XBZRLE) as the page encoder's encoding or not at all when it finds the page unchanged; returns
   * the bytes it took.
   */
  private long send(
      MigrationStreamWriter writer, int[] blocks, long[] pages, int count, boolean guestRunning)
      throws Exception {
    List<RamBlock> ramBlocks = guest.memory().blocks();
    Optimizations.PageEncoding encoding = syncCount > 1 ? optimizations.pageEncoding() : null;
    long before = writer.bytesWritten();
    int zero = 0;
    int normal = 0;
    zeroScan.scan(blocks, pages, count, zeroPages);
    for (int i = 0; i < count; i++) {
      RamBlock block = ramBlocks.get(blocks[i]);
      if (block.isWritten(pages[i])) {
        writtenDirty--;
      }
      if (zeroPages[i]) {
        writer.writeZeroPage(block, pages[i]);
        zero++;
        if (encoding != null) {
          encoding = zeroSent(encoding, blocks[i], pages[i]);
        }
      } else if (encoding == null) {
        writer.writePage(block, pages[i]);
        normal++;
      } else {
        if (sendEncoded(writer, encoding, block, blocks[i], pages[i])) {
          normal++;
        }
        encoding = optimizations.pageEncoding();
      }
    }
    long after = writer.bytesWritten();
    published(writer, after);
    if (counters.batch(
            after,
            after - before,
            normal,
            count - zero - normal,
            zero,
            guestRunning,
            ticker.nanoTime())
        && guestRunning) {
      refreshEstimate();
    }
    rounds.pagesSent(count);
    return after - before;
  }

  /** Tells the encoder of a ZERO record; returns the encoding still in use (null if it failed). */
  private Optimizations.PageEncoding zeroSent(
      Optimizations.PageEncoding encoding, int block, long page) {
    try {
      encoding.encoder().zeroSent(block, page);
      return encoding;
    } catch (RuntimeException e) {
      optimizations.encoderFailed(e);
      return null;
    }
  }

  /**
   * Sends a data page through the page encoder: its encoding, nothing if unchanged, or the copy it
   * saw whole when it declines or fails. Returns whether the page went whole.
   */
  private boolean sendEncoded(
      MigrationStreamWriter writer,
      Optimizations.PageEncoding encoding,
      RamBlock block,
      int blockIndex,
      long page)
      throws IOException {
    block.readPage(page, pageCopy, 0);
    ByteBuffer out = encodedPage.clear();
    int length;
    try {
      length = encoding.encoder().encode(blockIndex, page, pageCopy, 0, out);
      if (length < -1
          || length > encoding.maxEncodedBytes()
          || (length >= 0 && out.position() != length)) {
        throw new IllegalStateException(
            "encoder returned "
                + length
                + " for a page, having written "
                + out.position()
                + " of at most "
                + encoding.maxEncodedBytes()
                + " bytes");
      }
    } catch (RuntimeException e) {
      optimizations.encoderFailed(e);
      length = -1;
    }
    if (length > 0) {
      writer.writeEncodedPage(block, page, 0, out.array(), 0, length);
      return false;
    }
    if (length < 0) {
      writer.writePage(block, page, pageCopy, 0);
      return true;
    }
    return false;
  }

  private void sync(boolean guestRunning) {
    optimizations.notify(PrecopyPhase.BEFORE_BITMAP_SYNC);
    SyncEvent event = new SyncEvent();
    event.begin();
    int throttle = context.guestThrottle();
    long newlyDirty = ram.sync();
    if (guestRunning) {
      refreshEstimate();
    }
    assert ram.countMatchesBitmaps() : "dirty page count differs from the bitmaps' popcount";
    long count = ++syncCount;
    MigrationStats.Round round =
        rounds.endRound(
            count,
            ticker.nanoTime(),
            counters.transferred(),
            newlyDirty,
            remainingBytes(),
            guestRunning,
            throttle);
    throttleAtLastSync = throttle;
    event.finish(count, newlyDirty, round.remainingBytes(), round.pagesSent(), guestRunning);
    optimizations.notify(PrecopyPhase.AFTER_BITMAP_SYNC);
    SyncPeriod period = rounds.closedPeriod();
    if (guestRunning && period != null) {
      optimizations.onSyncPeriod(period);
    }
  }

  /** A policy's deadline in nanoseconds since the start; {@link Long#MAX_VALUE} for never. */
  private static long deadlineNanos(long deadlineMillis) {
    if (deadlineMillis >= TimeUnit.NANOSECONDS.toMillis(Long.MAX_VALUE)) {
      return Long.MAX_VALUE;
    }
    return TimeUnit.MILLISECONDS.toNanos(Math.max(0, deadlineMillis));
  }

  /**
   * How long the final copy of what is dirty now would take: the pages the guest ever wrote at the
   * slowest recent cost of a data page, the others at the cost of a zero page ({@link PageCosts}).
   * {@link Long#MAX_VALUE} until a window has measured them.
   */
  private long expectedDowntimeNanos() {
    long pages = ram.dirtyPages();
    long written = Math.max(0, Math.min(pages, writtenDirty));
    return counters.costs().estimateNanos(written, pages - written);
  }

  /**
   * The rate at which the rest is expected to reach the destination, bytes per second, derated by
   * {@link #SWITCH_OVER_SHARE}, as the convergence policy's bandwidth: so QEMU's rule, remaining ≤
   * bandwidth × limit, holds exactly when the expected downtime fits the share of the limit.
   */
  private double absorbedBytesPerSecond() {
    long remaining = remainingBytes();
    long expected = expectedDowntimeNanos();
    if (remaining == 0 || expected == Long.MAX_VALUE) {
      return counters.bandwidthBytesPerSecond() * SWITCH_OVER_SHARE;
    }
    return expected == 0 ? Double.MAX_VALUE : remaining * 1e9 / expected * SWITCH_OVER_SHARE;
  }

  /** At each window and sync: the written dirty pages counted again, the expected downtime. */
  private void refreshEstimate() {
    writtenDirty = ram.dirtyPagesWritten();
    long expected = expectedDowntimeNanos();
    expectedDowntimeMillis =
        expected == Long.MAX_VALUE ? 0 : TimeUnit.NANOSECONDS.toMillis(expected);
  }

  private long remainingBytes() {
    return ram.dirtyPages() << GuestMemory.PAGE_SHIFT;
  }

  private long downtimeLimitMillis() {
    return config.downtimeLimit().toMillis();
  }

  private ConvergenceState convergenceState() {
    return new ConvergenceState(
        syncCount,
        remainingBytes(),
        absorbedBytesPerSecond(),
        downtimeLimitMillis(),
        TimeUnit.NANOSECONDS.toMillis(ticker.nanoTime() - startNanos),
        rounds.dirtyPagesRate());
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
    String description;
    try {
      description = describe(connection.stop(cancelled ? new CancellationException() : e));
    } catch (RuntimeException stuck) {
      description = describe(e) + "; " + stuck.getMessage();
    }
    error = cancelled ? null : description;
    if (pausedByMigration) {
      try {
        guest.resume();
      } catch (RuntimeException resumeFailure) {
        error = description + "; the guest did not resume: " + describe(resumeFailure);
      }
    }
    endNanos = ticker.nanoTime();
    status = cancelled ? MigrationStatus.CANCELLED : MigrationStatus.FAILED;
  }

  private static String describe(Throwable e) {
    String message = e.getMessage();
    return message == null ? e.toString() : message;
  }

  private void report(Consumer<MigrationStats> listener, long periodMillis) {
    try {
      while (!done.await(periodMillis, TimeUnit.MILLISECONDS)) {
        listener.accept(stats());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    listener.accept(stats());
  }
}
