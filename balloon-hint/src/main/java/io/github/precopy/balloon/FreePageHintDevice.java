package io.github.precopy.balloon;

import io.github.precopy.spi.FreePageSink;
import io.github.precopy.spi.RamRegion;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The free-page-hint part of a virtio-balloon device ({@code VIRTIO_BALLOON_F_FREE_PAGE_HINT}), as
 * QEMU implements it in {@code hw/virtio/virtio-balloon.c} with the 2020 fixes: the guest driver
 * reports free blocks of its memory, and while a hinting round is started the device clears them
 * from the migration bitmap so they are not sent.
 *
 * <h2>Design notes</h2>
 *
 * <p>Status transitions; every status write happens under the device lock:
 *
 * <pre>
 * from               event                                      to         side effect
 * any                startRound() (after a sync, guest running) REQUESTED  id := next id; config interrupt
 * REQUESTED          command id == current id                   START      hints are applied from now on
 * START              any command id (STOP, stale or other)      STOP       -
 * STOP/DONE/REQ.     any other command id                       unchanged  ignored (a replayed id cannot
 *                                                                          restart a stopped round)
 * not STOP           stop() (before every sync, close)          STOP       config interrupt
 * not DONE           done() (after the final sync, cleanup)     DONE       config interrupt
 * </pre>
 *
 * <p>Command ids run from {@link #CMD_ID_MIN} upwards; the first round uses {@code 0x80000001}, and
 * after {@code 0xFFFFFFFF} comes {@code 0x80000000} again, so a round id is never {@link
 * #CMD_ID_STOP} or {@link #CMD_ID_DONE}. The config space's command-id field reads the current id
 * in REQUESTED, {@link #CMD_ID_DONE} in DONE and {@link #CMD_ID_STOP} in STOP <em>and</em> START,
 * as QEMU: a config interrupt during START therefore ends the guest's round, which only happens
 * here on a status change anyway.
 *
 * <p>The free-page queue holds up to {@link #QUEUE_SIZE} elements: a command id (an out-buffer, the
 * 4-byte little-endian wire form) or a free block (an in-buffer: guest address and length). One
 * consumer thread, QEMU's iothread, takes them in order. It checks the status and clears the block
 * from the bitmap in one critical section of the device lock, so once {@code stop()} (before every
 * sync) has taken the lock no hint of the round it stopped can reach the bitmap. Blocks are applied
 * only in START; in any other status they are dropped and counted as stale. While the guest is
 * paused the consumer parks before taking the next element (QEMU's {@code block_iothread}), so the
 * queue does not move. Unlike QEMU, which busy-polls the queue during START, the consumer blocks
 * until the driver adds an element; the order and effect of the elements are the same.
 *
 * <p>Nothing the guest sends can throw into the engine or clear memory it does not name: a command
 * id that is not exactly 4 bytes, a block with a non-positive length, and a block that is not
 * entirely inside one RAM region of the migration are counted as rejected and dropped whole. No
 * part of a rejected block is passed on, even a part inside RAM: a correct driver only reports
 * whole buddy blocks, which never cross a RAM block, so such a block comes from a confused guest,
 * and dropping a hint only costs the pages it would have saved. A block inside one region but not
 * page-aligned is passed on; the sink clears only the pages it covers entirely.
 *
 * <p>Lock order: device lock → bitmap lock (the consumer calls the {@link FreePageSink}, which
 * takes the bitmap lock, with the device lock held); the bitmap lock is never held while taking the
 * device lock. Config-change listeners run without the device lock.
 *
 * <p>Thread-safety: all methods are thread-safe. The driver-side methods ({@link #addCommandId},
 * {@link #addFreeBlock}, {@link #freeSlots()}) are meant for one driver thread, as a virtqueue has
 * one driver: the slot reserved for the stop id is only guaranteed with a single producer.
 */
public final class FreePageHintDevice implements AutoCloseable {

  /** Feature bit {@code VIRTIO_BALLOON_F_FREE_PAGE_HINT}. */
  public static final int FEATURE_FREE_PAGE_HINT = 3;

  /** Command id {@code VIRTIO_BALLOON_CMD_ID_STOP}: no round is requested, or "I stopped". */
  public static final int CMD_ID_STOP = 0;

  /** Command id {@code VIRTIO_BALLOON_CMD_ID_DONE}: migration is over, give the blocks back. */
  public static final int CMD_ID_DONE = 1;

  /** The lowest round command id, {@code 0x80000000} (ids are unsigned 32-bit). */
  public static final int CMD_ID_MIN = 0x80000000;

  /** Capacity of the free-page queue, in elements ({@code VIRTQUEUE_MAX_SIZE}). */
  public static final int QUEUE_SIZE = 1024;

  /** Size of a command id on the wire, in bytes. */
  public static final int COMMAND_ID_BYTES = 4;

  private static final System.Logger LOG = System.getLogger(FreePageHintDevice.class.getName());
  private static final long CLOSE_TIMEOUT_MILLIS = 5_000;

  /** The device's free-page-hint status ({@code virtio_balloon_free_page_hint_status}). */
  public enum Status {
    /** No round runs; hints are dropped. */
    STOP,
    /** A round was requested with a new command id; the guest has not acknowledged it yet. */
    REQUESTED,
    /** The guest acknowledged the current id; hints clear pages from the migration bitmap. */
    START,
    /** Migration is over; the guest may reuse the blocks it hinted. */
    DONE
  }

  /** One element of the free-page queue. */
  private sealed interface Element permits CommandId, FreeBlock {}

  /** A driver → device out-buffer holding a command id, as the raw bytes sent. */
  private record CommandId(byte[] bytes) implements Element {}

  /** A device-writable in-buffer: one free block of guest memory. */
  private record FreeBlock(long guestAddress, long lengthBytes) implements Element {}

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition resumed = lock.newCondition();
  private final ArrayBlockingQueue<Element> queue = new ArrayBlockingQueue<>(QUEUE_SIZE);
  private final Semaphore queued = new Semaphore(0);
  private final List<Runnable> configListeners = new CopyOnWriteArrayList<>();

  // Written under the lock; volatile so config reads and accessors need not take it.
  private volatile Status status = Status.STOP;
  private volatile int commandId;
  private volatile boolean negotiated;
  private volatile boolean closed;

  // Guarded by the lock.
  private boolean guestPaused;
  private Session session;
  private Thread consumer;

  /** A device that has never run a round: status STOP, next round id {@code 0x80000001}. */
  public FreePageHintDevice() {
    this(CMD_ID_MIN);
  }

  /**
   * A device resuming from a previous command id, as a migrated device continues numbering.
   *
   * @param lastCommandId the last round id used, in {@code [0x80000000, 0xFFFFFFFF]}
   */
  FreePageHintDevice(int lastCommandId) {
    if (Integer.compareUnsigned(lastCommandId, CMD_ID_MIN) < 0) {
      throw new IllegalArgumentException(
          "command id 0x" + Integer.toHexString(lastCommandId) + " is below 0x80000000");
    }
    this.commandId = lastCommandId;
  }

  /**
   * Starts the consumer thread (a daemon named {@code free-page-hint-iothread}).
   *
   * @throws IllegalStateException if already started or closed
   */
  public void start() {
    lock.lock();
    try {
      if (consumer != null || closed) {
        throw new IllegalStateException("free-page-hint device already started or closed");
      }
      consumer = new Thread(this::consume, "free-page-hint-iothread");
      consumer.setDaemon(true);
      consumer.start();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops hinting (as QEMU's unrealize), stops the consumer thread and waits up to 5 s for it to
   * end. Elements still queued are discarded. Idempotent.
   */
  @Override
  public void close() {
    stop();
    Thread thread;
    lock.lock();
    try {
      closed = true;
      resumed.signalAll();
      thread = consumer;
    } finally {
      lock.unlock();
    }
    if (thread == null || thread == Thread.currentThread()) {
      return;
    }
    thread.interrupt();
    try {
      thread.join(CLOSE_TIMEOUT_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      LOG.log(
          Level.WARNING,
          "free-page-hint consumer did not end within " + CLOSE_TIMEOUT_MILLIS + " ms");
    }
  }

  // ---- Driver (guest) side: features, config space, config interrupt, free-page queue ----

  /** The features the device offers: {@link #FEATURE_FREE_PAGE_HINT}, as a bit mask. */
  public long hostFeatures() {
    return 1L << FEATURE_FREE_PAGE_HINT;
  }

  /**
   * The driver acknowledges features (virtio feature negotiation); bits the device does not offer
   * are ignored. Hinting runs only if the driver acknowledged {@link #FEATURE_FREE_PAGE_HINT}.
   *
   * @param features the bit mask of the features the driver accepts
   */
  public void setDriverFeatures(long features) {
    lock.lock();
    try {
      negotiated = (features & hostFeatures()) != 0;
    } finally {
      lock.unlock();
    }
  }

  /** Whether the driver acknowledged {@link #FEATURE_FREE_PAGE_HINT}. */
  public boolean freePageHintNegotiated() {
    return negotiated;
  }

  /**
   * Registers the guest's config interrupt handler. Listeners run on the thread that changed the
   * status, without the device lock; they must be quick and must not block (the driver only notes
   * that the config changed and wakes its own thread). A listener that throws is logged and
   * ignored.
   */
  public void addConfigChangeListener(Runnable listener) {
    configListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Reads the config field {@code free_page_hint_cmd_id}: the current round id in REQUESTED, {@link
   * #CMD_ID_DONE} in DONE, {@link #CMD_ID_STOP} in STOP and START.
   */
  public int readConfigCommandId() {
    return switch (status) {
      case REQUESTED -> commandId;
      case DONE -> CMD_ID_DONE;
      case STOP, START -> CMD_ID_STOP;
    };
  }

  /**
   * Adds an out-buffer holding a command id to the free-page queue and kicks the device. The
   * buffer's remaining bytes are the wire form: 4 bytes, little-endian. Any other size is rejected
   * by the device when it takes the element. The buffer's position is not changed.
   *
   * @return false if the queue is full, the device is closed or the feature was not negotiated
   */
  public boolean addCommandId(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return add(new CommandId(bytes));
  }

  /**
   * Adds an in-buffer naming one free block of guest memory to the free-page queue and kicks the
   * device.
   *
   * @param guestAddress guest-physical address of the block, in bytes
   * @param lengthBytes the block's length in bytes
   * @return false if the queue is full, the device is closed or the feature was not negotiated
   */
  public boolean addFreeBlock(long guestAddress, long lengthBytes) {
    return add(new FreeBlock(guestAddress, lengthBytes));
  }

  /** Free slots of the free-page queue ({@code vq->num_free}). */
  public int freeSlots() {
    return queue.remainingCapacity();
  }

  /** Encodes a command id in its 4-byte little-endian wire form. */
  public static ByteBuffer encodeCommandId(int id) {
    return ByteBuffer.allocate(COMMAND_ID_BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(0, id);
  }

  private boolean add(Element element) {
    if (closed || !negotiated || !queue.offer(element)) {
      return false;
    }
    queued.release();
    return true;
  }

  // ---- Machine side: run state and status ----

  /**
   * Tells the device whether the guest runs (QEMU's {@code set_status}): while it is paused the
   * consumer parks before taking the next element. A new device assumes a running guest.
   */
  public void guestRunStateChanged(boolean running) {
    lock.lock();
    try {
      guestPaused = !running;
      if (running) {
        resumed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether the consumer has taken the kick of a queued element and waits for the guest to resume
   * before taking the element ({@code block_iothread}). For tests: the event after which "the queue
   * does not move while the guest is paused" can be checked.
   */
  boolean consumerWaitsForResume() {
    lock.lock();
    try {
      return lock.hasWaiters(resumed);
    } finally {
      lock.unlock();
    }
  }

  /** The current status. */
  public Status status() {
    return status;
  }

  /** The current (latest) round command id, unsigned. */
  public int commandId() {
    return commandId;
  }

  // ---- Host (migration) side, used by the free-page-hint optimisation ----

  /**
   * Connects a migration: its sink and RAM layout receive the hints applied from now on.
   *
   * @return the connection, or empty if another migration is connected
   */
  Optional<Session> connect(FreePageSink sink, List<RamRegion> regions) {
    Session created = new Session(sink, regions);
    lock.lock();
    try {
      if (session != null) {
        return Optional.empty();
      }
      session = created;
      return Optional.of(created);
    } finally {
      lock.unlock();
    }
  }

  /** Disconnects {@code connected}; hints are no longer applied to it. */
  void disconnect(Session connected) {
    lock.lock();
    try {
      if (session == connected) {
        session = null;
      }
    } finally {
      lock.unlock();
    }
  }

  /** QEMU's {@code free_page_start}: a new round id, REQUESTED, config interrupt. */
  void startRound() {
    lock.lock();
    try {
      commandId = commandId == -1 ? CMD_ID_MIN : commandId + 1;
      status = Status.REQUESTED;
      if (session != null) {
        session.rounds++;
      }
    } finally {
      lock.unlock();
    }
    notifyConfigChanged();
  }

  /**
   * QEMU's {@code free_page_stop}: STOP, and a config interrupt if it was not already STOP. Returns
   * only once no hint of the stopped round can still reach the bitmap: it takes the device lock,
   * which the consumer holds from its status check until the hint is applied.
   */
  void stop() {
    if (transition(Status.STOP)) {
      notifyConfigChanged();
    }
  }

  /** QEMU's {@code free_page_done}: DONE, and a config interrupt if it was not already DONE. */
  void done() {
    if (transition(Status.DONE)) {
      notifyConfigChanged();
    }
  }

  private boolean transition(Status to) {
    lock.lock();
    try {
      if (status == to) {
        return false;
      }
      status = to;
      return true;
    } finally {
      lock.unlock();
    }
  }

  private void notifyConfigChanged() {
    for (Runnable listener : configListeners) {
      try {
        listener.run();
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "free-page-hint config listener failed", e);
      }
    }
  }

  // ---- Consumer (iothread) ----

  private void consume() {
    try {
      while (true) {
        queued.acquire();
        lock.lockInterruptibly();
        try {
          while (guestPaused && !closed) {
            resumed.await();
          }
          if (closed) {
            return;
          }
          Element element = queue.poll();
          if (element instanceof CommandId id) {
            onCommandId(id.bytes());
          } else if (element instanceof FreeBlock block) {
            onFreeBlock(block.guestAddress(), block.lengthBytes());
          }
        } finally {
          lock.unlock();
        }
      }
    } catch (InterruptedException e) {
      // close() interrupts the consumer to end it.
    }
  }

  private void onCommandId(byte[] bytes) {
    if (bytes.length != COMMAND_ID_BYTES) {
      if (session != null) {
        session.rejected++;
      }
      return;
    }
    int id = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt();
    if (status == Status.REQUESTED && id == commandId) {
      status = Status.START;
    } else if (status == Status.START) {
      status = Status.STOP;
    }
  }

  private void onFreeBlock(long guestAddress, long lengthBytes) {
    if (session == null) {
      return;
    }
    if (status != Status.START) {
      session.stale++;
      return;
    }
    if (!session.insideOneRegion(guestAddress, lengthBytes)) {
      session.rejected++;
      return;
    }
    long started = System.nanoTime();
    try {
      session.hintedPages += session.sink.freePageHint(guestAddress, lengthBytes);
    } catch (RuntimeException e) {
      session.rejected++;
      LOG.log(Level.WARNING, "free-page sink failed on a hint; dropping it", e);
    } finally {
      session.applyNanos += System.nanoTime() - started;
    }
  }

  /**
   * One migration connected to the device: its sink, its RAM layout and its counters. The counters
   * are guarded by the device lock.
   */
  final class Session {
    private final FreePageSink sink;
    private final List<RamRegion> regions;
    private long hintedPages;
    private long rounds;
    private long rejected;
    private long stale;
    private long applyNanos;

    private Session(FreePageSink sink, List<RamRegion> regions) {
      this.sink = Objects.requireNonNull(sink, "sink");
      this.regions = List.copyOf(regions);
    }

    /** A consistent snapshot of the counters. */
    HintCounters counters() {
      lock.lock();
      try {
        return new HintCounters(hintedPages, rounds, rejected, stale, applyNanos);
      } finally {
        lock.unlock();
      }
    }

    private boolean insideOneRegion(long guestAddress, long lengthBytes) {
      if (lengthBytes <= 0) {
        return false;
      }
      for (RamRegion region : regions) {
        long offset = guestAddress - region.guestAddress();
        if (guestAddress >= region.guestAddress()
            && offset < region.lengthBytes()
            && lengthBytes <= region.lengthBytes() - offset) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * The counters of one migration.
   *
   * @param hintedPages pages the sink reported truly cleared
   * @param rounds hinting rounds requested (new command ids)
   * @param rejected malformed command ids and blocks not inside one RAM region, dropped
   * @param stale blocks that arrived outside START (late or early for their round), dropped
   * @param applyNanos time spent in the sink applying hints, in nanoseconds
   */
  record HintCounters(long hintedPages, long rounds, long rejected, long stale, long applyNanos) {}
}
