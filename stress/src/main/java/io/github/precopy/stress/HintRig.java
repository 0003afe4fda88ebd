package io.github.precopy.stress;

import io.github.precopy.balloon.FreePageHintDevice;
import io.github.precopy.balloon.FreePageHintProvider;
import io.github.precopy.bitmap.AtomicPageBitmap;
import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.spi.FreePageSink;
import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.PrecopyPhase;
import io.github.precopy.spi.RamRegion;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The smallest real free-page-hint setup the public API allows: a started {@link
 * FreePageHintDevice} whose driver acknowledged the feature, connected to one migration through
 * {@link FreePageHintProvider#create} exactly as the engine connects it, with a one-block guest of
 * {@link #PAGES} pages.
 *
 * <p>The engine's own sink ({@code RamState} in migration-core) is package-private, so the
 * migration side is modelled here by {@link MigrationBitmap}: a {@link PageBitmap} and a lock, with
 * the same hint path (clear the whole pages under the bitmap lock, report what was cleared) and the
 * same sync ({@link AtomicPageBitmap#drainInto} of the guest's dirty log under the bitmap lock).
 * The host drives the device only through {@link MigrationOptimization#onPhase}, as the engine
 * does: {@code BEFORE_BITMAP_SYNC} stops hinting, {@code AFTER_BITMAP_SYNC} starts a round (the
 * guest runs), {@code CLEANUP} delivers DONE.
 *
 * <p>One rig per jcstress state, each with its own migration (session, bitmaps, counters) on a
 * device nobody else uses meanwhile: {@link #close()} in the arbiter ends the migration and hands
 * the device, with its consumer thread (the device's iothread), to a later state.
 */
final class HintRig implements AutoCloseable {

  static final int PAGE_SIZE = 4096;
  static final int PAGES = 64;

  /**
   * Started devices whose migration has ended (CLEANUP delivered DONE, session disconnected, queue
   * empty), ready for the next state. Starting and joining a consumer thread per state costs far
   * more than the race under test, so each forked VM reuses its devices, as a guest's one device
   * serves one migration after another.
   */
  private static final Queue<PooledDevice> IDLE = new ConcurrentLinkedQueue<>();

  private final PooledDevice pooled;
  final FreePageHintDevice device;
  final AtomicInteger configInterrupts;
  final AtomicPageBitmap dirtyLog = new AtomicPageBitmap(PAGES);
  final MigrationBitmap bitmap = new MigrationBitmap();
  final MigrationOptimization hinting;

  /** Set by the host right after {@code BEFORE_BITMAP_SYNC} returned; read by the sink. */
  volatile boolean stopReturned;

  HintRig() {
    PooledDevice idle = IDLE.poll();
    pooled = idle != null ? idle : new PooledDevice();
    device = pooled.device;
    configInterrupts = pooled.configInterrupts;
    configInterrupts.set(0);
    hinting = new FreePageHintProvider().create(new Context());
    if (!Boolean.TRUE.equals(hinting.statistics().get("active"))) {
      throw new IllegalStateException("free-page hinting is not active: " + hinting.statistics());
    }
  }

  /** Migration setup: every page is to be sent. */
  void markAllDirty() {
    bitmap.markAllDirty();
  }

  /**
   * The host's side of one dirty-log sync, in the engine's order: stop hinting, drain the dirty log
   * into the migration bitmap, start a new round (the guest runs).
   */
  void syncRound() {
    hinting.onPhase(PrecopyPhase.BEFORE_BITMAP_SYNC);
    stopReturned = true;
    bitmap.sync(dirtyLog);
    hinting.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
  }

  /** The host starts a round and the guest acknowledges it; returns once the device is in START. */
  void startHintingRound() {
    hinting.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
    int id = device.readConfigCommandId();
    if (!sendCommandId(id)) {
      throw new IllegalStateException("the free-page queue refused command id " + id);
    }
    awaitIdle();
    if (device.status() != FreePageHintDevice.Status.START) {
      throw new IllegalStateException("round did not start: " + device.status());
    }
  }

  /** The guest driver adds a command id to the free-page queue. */
  boolean sendCommandId(int id) {
    return device.addCommandId(FreePageHintDevice.encodeCommandId(id));
  }

  /** The guest driver adds one free page to the free-page queue. */
  boolean hintPage(int page) {
    return device.addFreeBlock((long) page * PAGE_SIZE, PAGE_SIZE);
  }

  /**
   * Waits until the consumer has taken every queued element and finished processing it: the queue
   * is empty once the consumer polled the last element, and it polls and processes an element in
   * one critical section of the device lock, which {@code statistics()} takes.
   */
  Map<String, Object> awaitIdle() {
    while (device.freeSlots() != FreePageHintDevice.QUEUE_SIZE) {
      // Yield rather than spin: on two CPUs both jcstress threads may wait here at once, and the
      // consumer threads they wait for need a CPU.
      Thread.yield();
    }
    return hinting.statistics();
  }

  /** Blocks the device dropped as stale (arrived outside START), from the statistics. */
  int staleHints() {
    return ((Number) awaitIdle().get("stale-hints")).intValue();
  }

  /**
   * Ends the migration as the engine does ({@code CLEANUP}, which delivers DONE, then disconnects)
   * and returns the device, with its queue drained, for the next state.
   */
  @Override
  public void close() {
    hinting.onPhase(PrecopyPhase.CLEANUP);
    hinting.close();
    awaitIdle();
    IDLE.add(pooled);
  }

  /** A started device whose driver acknowledged the feature, with its config interrupt counter. */
  private static final class PooledDevice {
    final FreePageHintDevice device = new FreePageHintDevice();
    final AtomicInteger configInterrupts = new AtomicInteger();

    PooledDevice() {
      device.setDriverFeatures(device.hostFeatures());
      device.addConfigChangeListener(configInterrupts::incrementAndGet);
      device.start();
    }
  }

  /**
   * The migration bitmap: a set bit is a page still to send. Every access holds the bitmap lock, as
   * RamState's; the device calls {@link #freePageHint} with its own lock held (device lock, then
   * bitmap lock).
   */
  final class MigrationBitmap implements FreePageSink {

    private final ReentrantLock lock = new ReentrantLock();
    private final PageBitmap pages = new PageBitmap(PAGES);
    private int hintCalls;
    private int clearsAfterStop;

    void markAllDirty() {
      lock.lock();
      try {
        pages.setRange(0, PAGES);
      } finally {
        lock.unlock();
      }
    }

    long sync(AtomicPageBitmap log) {
      lock.lock();
      try {
        return log.drainInto(pages);
      } finally {
        lock.unlock();
      }
    }

    boolean isDirty(int page) {
      lock.lock();
      try {
        return pages.get(page);
      } finally {
        lock.unlock();
      }
    }

    /** Hints that reached the bitmap. */
    int hintCalls() {
      lock.lock();
      try {
        return hintCalls;
      } finally {
        lock.unlock();
      }
    }

    /** Hints that cleared a page after the host's stop had returned: must stay 0. */
    int clearsAfterStop() {
      lock.lock();
      try {
        return clearsAfterStop;
      } finally {
        lock.unlock();
      }
    }

    /** Clears the whole pages of the range, as RamState does; returns how many it cleared. */
    @Override
    public long freePageHint(long guestAddress, long lengthBytes) {
      long start = Math.max(0, (guestAddress + PAGE_SIZE - 1) / PAGE_SIZE);
      long end = Math.min(PAGES, (guestAddress + lengthBytes) / PAGE_SIZE);
      lock.lock();
      try {
        hintCalls++;
        long cleared = end > start ? pages.clearRange(start, end) : 0;
        if (cleared > 0 && stopReturned) {
          clearsAfterStop++;
        }
        return cleared;
      } finally {
        lock.unlock();
      }
    }
  }

  /** What the provider sees of the migration: one RAM block, a running guest, this device. */
  private final class Context implements OptimizationContext {

    private final List<RamRegion> regions =
        List.of(new RamRegion("pc.ram", 0, (long) PAGES * PAGE_SIZE));

    @Override
    public List<RamRegion> ramRegions() {
      return regions;
    }

    @Override
    public int pageSize() {
      return PAGE_SIZE;
    }

    @Override
    public boolean guestRunning() {
      return true;
    }

    @Override
    public <T> Optional<T> device(Class<T> type) {
      return type.isInstance(device) ? Optional.of(type.cast(device)) : Optional.empty();
    }

    @Override
    public FreePageSink freePageSink() {
      return bitmap;
    }

    @Override
    public Map<String, String> options() {
      return Map.of();
    }
  }
}
