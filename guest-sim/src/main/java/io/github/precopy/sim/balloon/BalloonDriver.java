package io.github.precopy.sim.balloon;

import static io.github.precopy.balloon.FreePageHintDevice.CMD_ID_DONE;
import static io.github.precopy.balloon.FreePageHintDevice.CMD_ID_STOP;

import io.github.precopy.balloon.FreePageHintDevice;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.sim.BuddyAllocator;
import io.github.precopy.sim.RunStateListener;
import io.github.precopy.sim.SimulatedGuest;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The guest side of free page hinting for a {@link SimulatedGuest}: a model of Linux's
 * virtio-balloon driver ({@code drivers/virtio/virtio_balloon.c}).
 *
 * <p>On every config interrupt the driver re-reads the command id. A new id (not STOP, not DONE,
 * not the id of its last round) starts a round on the driver's own thread (the {@code balloon-wq}
 * workqueue, a daemon): it sends the id, then allocates blocks of {@link #HINT_BLOCK_ORDER} (4 MiB)
 * from the {@link BuddyAllocator} until the allocator refuses (it leaves its low watermark free, as
 * Linux's allocation without reclaim flags does), reporting each block to the device, and then
 * sends STOP. It keeps one queue slot free for the STOP; when the queue is fuller than that it
 * gives the block back and retries. A round ends early when the command id changes (STOP, DONE or a
 * newer id). The driver holds every block it reported, across rounds, until the device says DONE,
 * then frees them all.
 *
 * <p>Held blocks are allocated as discardable ({@link BuddyAllocator#allocateDiscardable}): the
 * guest never reads them while the driver holds them, so they do not count as in use at switch-over
 * and their contents need not reach the destination.
 *
 * <p>The shrinker ({@link #shrink}) gives held blocks back under memory pressure, newest first as
 * Linux does, possibly while their hints are still queued. That is safe: a hint is applied only if
 * it was queued in the current round, and any write to a reused block after a hint is applied is
 * caught by the dirty log and sent after the next sync. Nothing calls the shrinker by itself: the
 * simulated guest's allocator has no reclaim path, so a workload under memory pressure calls it.
 *
 * <p>While the guest is paused (its vCPUs stopped) the driver's thread stops at its next safe
 * point, before reading the command id or allocating the next block, and continues when the guest
 * runs again.
 *
 * <p>Thread-safety: all public methods are thread-safe. {@link #shrink} is meant to be called by
 * guest threads under memory pressure.
 */
public final class BalloonDriver implements AutoCloseable {

  /** Order of a hinted block: {@link BuddyAllocator#MAX_ORDER}, 1024 pages (4 MiB). */
  public static final int HINT_BLOCK_ORDER = BuddyAllocator.MAX_ORDER;

  /** Pages in a hinted block. */
  public static final long HINT_BLOCK_PAGES = 1L << HINT_BLOCK_ORDER;

  private static final long HINT_BLOCK_BYTES = HINT_BLOCK_PAGES * GuestMemory.PAGE_SIZE;
  private static final long CLOSE_TIMEOUT_MILLIS = 5_000;
  private static final long FULL_QUEUE_BACKOFF_NANOS = TimeUnit.MICROSECONDS.toNanos(20);
  private static final System.Logger LOG = System.getLogger(BalloonDriver.class.getName());

  private final BuddyAllocator allocator;
  private final FreePageHintDevice device;
  private final boolean acceptFreePageHint;
  private final SimulatedGuest installedIn;
  private final RunStateListener runStateListener = this::followRunState;

  /** Linux's {@code VIRTIO_BALLOON_CONFIG_READ_CMD_ID} bit: the config changed, re-read the id. */
  private final AtomicBoolean configChanged = new AtomicBoolean();

  // The workqueue: work pending, frozen while the guest is paused, closed; guarded by the lock.
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition wake = lock.newCondition();
  private boolean workQueued;
  private boolean frozen;
  private boolean started;
  private volatile boolean closed;
  private Thread worker;

  // Written by start() before the worker starts, then confined to the worker thread.
  private int receivedCommandId = CMD_ID_STOP;
  private int activeCommandId = CMD_ID_STOP;

  // Held blocks (addresses), newest last; guarded by their own monitor.
  private final ArrayDeque<Long> held = new ArrayDeque<>();
  private long reportedBlocks;

  // Written by the worker thread only.
  private volatile long fullQueueRetries;

  /**
   * A driver for {@code device} allocating from {@code allocator}; call {@link #start()} to probe.
   * The driver assumes the guest runs until told otherwise ({@link #guestRunStateChanged}); the
   * device must be started by its owner.
   *
   * @param acceptFreePageHint whether the driver acknowledges {@link
   *     FreePageHintDevice#FEATURE_FREE_PAGE_HINT} (a guest kernel without hinting does not)
   */
  public BalloonDriver(
      BuddyAllocator allocator, FreePageHintDevice device, boolean acceptFreePageHint) {
    this(allocator, device, acceptFreePageHint, null);
  }

  private BalloonDriver(
      BuddyAllocator allocator,
      FreePageHintDevice device,
      boolean acceptFreePageHint,
      SimulatedGuest installedIn) {
    this.allocator = allocator;
    this.device = device;
    this.acceptFreePageHint = acceptFreePageHint;
    this.installedIn = installedIn;
  }

  /**
   * Plugs a virtio-balloon with free page hinting into {@code guest} and probes its driver: a new
   * {@link FreePageHintDevice} is attached as the guest's device, device and driver follow the
   * guest's run state, the driver's {@link #shrink} is registered as a shrinker of the guest's
   * allocator (so a workload short of memory takes held blocks back), and both are started. Closing
   * the returned driver also closes the device. Call it before the guest starts or while it is
   * paused, not concurrently with {@code pause} or {@code resume}.
   *
   * @param acceptFreePageHint whether the guest's driver acknowledges the feature
   * @throws IllegalStateException if the guest already has a {@link FreePageHintDevice}
   */
  public static BalloonDriver install(SimulatedGuest guest, boolean acceptFreePageHint) {
    FreePageHintDevice device = new FreePageHintDevice();
    guest.attach(FreePageHintDevice.class, device);
    BalloonDriver driver = new BalloonDriver(guest.allocator(), device, acceptFreePageHint, guest);
    driver.followRunState(guest.isRunning());
    guest.addRunStateListener(driver.runStateListener);
    guest.allocator().addShrinker(driver::shrink);
    device.start();
    driver.start();
    return driver;
  }

  /**
   * Probes the device: negotiates the feature and, if accepted, registers for config interrupts,
   * starts the driver thread and reads the command id once.
   *
   * @throws IllegalStateException if already started or closed
   */
  public void start() {
    lock.lock();
    try {
      if (started || closed) {
        throw new IllegalStateException("balloon driver already started or closed");
      }
      started = true;
      device.setDriverFeatures(
          acceptFreePageHint ? 1L << FreePageHintDevice.FEATURE_FREE_PAGE_HINT : 0);
      if (!acceptFreePageHint) {
        return;
      }
    } finally {
      lock.unlock();
    }
    device.addConfigChangeListener(this::onConfigChanged);
    lock.lock();
    try {
      // The probe reads the id itself, so no queued first read can race with a round that
      // starts right after start() returns and end it by reading STOP in START.
      receivedCommandId = device.readConfigCommandId();
      workQueued |= receivedCommandId != CMD_ID_STOP;
      worker = new Thread(this::runWorkqueue, "balloon-wq");
      worker.setDaemon(true);
      worker.start();
    } finally {
      lock.unlock();
    }
  }

  /** The device this driver drives. */
  public FreePageHintDevice device() {
    return device;
  }

  /** Stops the driver's thread while the guest is paused and lets it go on when the guest runs. */
  public void guestRunStateChanged(boolean running) {
    lock.lock();
    try {
      frozen = !running;
      if (running) {
        wake.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * The shrinker: gives back {@code ceil(pagesToScan / HINT_BLOCK_PAGES)} held blocks to the
   * allocator, newest first.
   *
   * @param pagesToScan pages the guest wants back
   * @return the pages given back (a multiple of {@link #HINT_BLOCK_PAGES}; 0 if none was held)
   */
  public long shrink(long pagesToScan) {
    if (pagesToScan <= 0) {
      return 0;
    }
    long blocks = (pagesToScan - 1) / HINT_BLOCK_PAGES + 1;
    return returnBlocks(blocks) * HINT_BLOCK_PAGES;
  }

  /** Pages the driver holds now (the shrinker's count). */
  public long heldPages() {
    synchronized (held) {
      return held.size() * HINT_BLOCK_PAGES;
    }
  }

  /** Blocks reported to the device since the driver started. */
  public long reportedBlocks() {
    synchronized (held) {
      return reportedBlocks;
    }
  }

  /**
   * Times the driver found the queue too full for another block (one slot stays free for STOP),
   * gave the block back and retried. For tests: proof that it met the full queue.
   */
  long fullQueueRetries() {
    return fullQueueRetries;
  }

  /**
   * Whether the driver's thread is waiting for the guest to resume with work queued: it took a
   * config interrupt while the guest was paused and holds it. For tests: the event after which "it
   * does nothing while paused" can be checked.
   */
  boolean holdingWorkWhilePaused() {
    lock.lock();
    try {
      return frozen && workQueued && lock.hasWaiters(wake);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops the driver thread (waiting up to 5 s) and gives every held block back, as Linux does when
   * the driver is removed; closes the device if {@link #install} created it. Idempotent.
   */
  @Override
  public void close() {
    Thread thread;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      wake.signalAll();
      thread = worker;
    } finally {
      lock.unlock();
    }
    if (thread != null) {
      try {
        thread.join(CLOSE_TIMEOUT_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (thread.isAlive()) {
        LOG.log(
            Level.WARNING,
            "balloon driver thread did not end within " + CLOSE_TIMEOUT_MILLIS + " ms");
      }
    }
    returnBlocks(Long.MAX_VALUE);
    if (installedIn != null) {
      installedIn.removeRunStateListener(runStateListener);
      device.close();
    }
  }

  private void followRunState(boolean running) {
    device.guestRunStateChanged(running);
    guestRunStateChanged(running);
  }

  // ---- Config interrupt and workqueue ----

  /** {@code virtballoon_changed} → {@code virtio_balloon_queue_free_page_work}. */
  private void onConfigChanged() {
    if (!configChanged.getAndSet(true)) {
      lock.lock();
      try {
        workQueued = true;
        wake.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  private void runWorkqueue() {
    while (awaitWork()) {
      reportFreePageWork();
    }
  }

  /** Waits until work is queued and the guest runs; false once closed. */
  private boolean awaitWork() {
    lock.lock();
    try {
      while (!closed && (!workQueued || frozen)) {
        wake.awaitUninterruptibly();
      }
      workQueued = false;
      return !closed;
    } finally {
      lock.unlock();
    }
  }

  /** Waits while the guest is paused; false once closed. */
  private boolean awaitThawed() {
    lock.lock();
    try {
      while (!closed && frozen) {
        wake.awaitUninterruptibly();
      }
      return !closed;
    } finally {
      lock.unlock();
    }
  }

  /** {@code virtio_balloon_cmd_id_received}: re-reads the id only after a config interrupt. */
  private int commandIdReceived() {
    if (configChanged.getAndSet(false)) {
      receivedCommandId = device.readConfigCommandId();
    }
    return receivedCommandId;
  }

  /** {@code report_free_page_func}. */
  private void reportFreePageWork() {
    int id = commandIdReceived();
    if (id == CMD_ID_DONE) {
      returnBlocks(Long.MAX_VALUE);
    } else if (id != CMD_ID_STOP && id != activeCommandId) {
      activeCommandId = id;
      sendStartId(id);
      sendFreePages();
      // send_cmd_id_stop: the slot kept free while reporting makes room for it.
      device.addCommandId(FreePageHintDevice.encodeCommandId(CMD_ID_STOP));
    }
  }

  /**
   * {@code send_cmd_id_start}. Linux adds the id without checking for room; here the driver waits
   * for a slot while the round is still current, so the round is not lost to a full queue.
   */
  private void sendStartId(int id) {
    while (!device.addCommandId(FreePageHintDevice.encodeCommandId(id))) {
      if (closed || activeCommandId != commandIdReceived()) {
        return;
      }
      LockSupport.parkNanos(FULL_QUEUE_BACKOFF_NANOS);
    }
  }

  /** {@code send_free_pages} with {@code get_free_page_and_send}. */
  private void sendFreePages() {
    while (activeCommandId == commandIdReceived() && awaitThawed()) {
      long address = allocator.allocateDiscardable(HINT_BLOCK_ORDER);
      if (address < 0) {
        return; // Every free block of the order is reported.
      }
      // One slot stays free for the stop id.
      if (device.freeSlots() > 1 && device.addFreeBlock(address, HINT_BLOCK_BYTES)) {
        synchronized (held) {
          held.addLast(address);
          reportedBlocks++;
        }
      } else {
        allocator.free(address, HINT_BLOCK_ORDER);
        fullQueueRetries++;
        LockSupport.parkNanos(FULL_QUEUE_BACKOFF_NANOS);
      }
    }
  }

  /** {@code return_free_pages_to_mm}: frees up to {@code blocks} held blocks, newest first. */
  private long returnBlocks(long blocks) {
    long returned = 0;
    synchronized (held) {
      while (returned < blocks && !held.isEmpty()) {
        allocator.free(held.removeLast(), HINT_BLOCK_ORDER);
        returned++;
      }
    }
    return returned;
  }
}
