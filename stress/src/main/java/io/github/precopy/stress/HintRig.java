package io.github.precopy.stress;

import io.github.precopy.balloon.FreePageHintDevice;
import io.github.precopy.balloon.FreePageHintProvider;
import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.engine.RamState;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.PrecopyPhase;
import io.github.precopy.spi.RamRegion;
import io.github.precopy.spi.testing.FakeOptimizationContext;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One migration with free page hinting, built from the real classes: the source side of a {@link
 * RamRig} (real {@code GuestMemory}, {@code DirtyTracker} and {@link RamState}) and a started real
 * {@link FreePageHintDevice} whose driver acknowledged the feature, connected through {@code new
 * FreePageHintProvider().create(context)} exactly as the engine connects it. The context is a
 * {@link FakeOptimizationContext} (spi-testing) of the memory's one RAM block, a running guest and
 * the device, whose free-page sink is the rig's {@link RamState}: the hints the device applies
 * clear the real migration bitmap under the real bitmap lock.
 *
 * <p>The host drives the device only through {@link MigrationOptimization#onPhase}, in the order of
 * {@code PrecopyMigration}: {@code BEFORE_BITMAP_SYNC} (the device stops hinting), {@link
 * RamState#sync()}, {@code AFTER_BITMAP_SYNC} (a new round while the guest runs); at the end {@link
 * RamState#acceptHints acceptHints(false)}, then {@code CLEANUP} (DONE), then {@link
 * MigrationOptimization#close()}. No package-private device method is called. The guest acts as its
 * driver: {@code addCommandId}, {@code addFreeBlock}, {@code readConfigCommandId}.
 *
 * <p>The device applies the queue on its own consumer thread (QEMU's iothread), which jcstress does
 * not schedule. The arbiter therefore waits with {@link #awaitIdle()} until the queue is empty and
 * then reads the statistics, which take the device lock: the consumer polls and applies an element
 * in one critical section of that lock, so the last element has been applied by then.
 *
 * <p>Starting a consumer thread per state costs far more than the races, so each forked VM keeps a
 * pool of started devices, as a guest's one device serves one migration after another: {@link
 * #close()} ends the migration as the engine does, waits until the queue is empty and returns the
 * device (never closed, so {@link FreePageHintDevice#close()} is not exercised here).
 */
final class HintRig implements AutoCloseable {

  static final int PAGES = RamRig.PAGES;
  static final int PAGE_SIZE = GuestMemory.PAGE_SIZE;

  /** Started devices whose migration has ended, with their queue empty. */
  private static final Queue<PooledDevice> IDLE = new ConcurrentLinkedQueue<>();

  private final RamRig source;
  private final PooledDevice pooled;
  final RamState ram;
  final FreePageHintDevice device;
  final AtomicInteger configInterrupts;
  final MigrationOptimization hinting;

  HintRig() {
    source = new RamRig();
    ram = source.ram;
    PooledDevice idle = IDLE.poll();
    pooled = idle != null ? idle : new PooledDevice();
    device = pooled.device;
    configInterrupts = pooled.configInterrupts;
    List<RamRegion> regions =
        source.memory.blocks().stream()
            .map(b -> new RamRegion(b.name(), b.guestAddress(), b.usedLength()))
            .toList();
    hinting = new FreePageHintProvider().create(new FakeOptimizationContext(regions, ram, device));
    if (!Boolean.TRUE.equals(hinting.statistics().get("active"))) {
      throw new IllegalStateException("free-page hinting is not active: " + hinting.statistics());
    }
  }

  /**
   * The engine's setup ({@code PrecopyMigration.setup}): every page to send, hints accepted, the
   * setup sync, which requests round N (REQUESTED, not yet acknowledged), then {@code SETUP}.
   */
  void setUp() {
    ram.markAllDirty();
    ram.acceptHints(true);
    sync();
    hinting.onPhase(PrecopyPhase.SETUP);
    configInterrupts.set(0);
  }

  /** {@link #setUp()}, then the guest acknowledges round N; returns once the device is in START. */
  void setUpAndStartRound() {
    setUp();
    int id = device.readConfigCommandId();
    if (!sendCommandId(id)) {
      throw new IllegalStateException("the free-page queue refused command id " + id);
    }
    awaitIdle();
    if (device.status() != FreePageHintDevice.Status.START) {
      throw new IllegalStateException("round did not start: " + device.status());
    }
    configInterrupts.set(0);
  }

  /** One dirty-log sync as {@code PrecopyMigration.sync}: stop hinting, drain, start a round. */
  void sync() {
    hinting.onPhase(PrecopyPhase.BEFORE_BITMAP_SYNC);
    ram.sync();
    hinting.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
  }

  /** The end of every migration ({@code PrecopyMigration.run}'s finally): no hints, then DONE. */
  void cleanUp() {
    ram.acceptHints(false);
    hinting.onPhase(PrecopyPhase.CLEANUP);
  }

  /** The guest writes into {@code page}: the write's mark waits in the dirty log. */
  void write(int page) {
    source.write(page);
  }

  /** The guest driver adds a command id to the free-page queue. */
  boolean sendCommandId(int id) {
    return device.addCommandId(FreePageHintDevice.encodeCommandId(id));
  }

  /** The guest driver reports one free page. */
  boolean hintPage(int page) {
    return device.addFreeBlock((long) page * PAGE_SIZE, PAGE_SIZE);
  }

  /**
   * Waits until the consumer has taken and applied every queued element, then returns the
   * optimisation's statistics (read under the device lock).
   */
  Map<String, Object> awaitIdle() {
    while (device.freeSlots() != FreePageHintDevice.QUEUE_SIZE) {
      // Yield rather than spin: on two CPUs both jcstress threads may wait here at once, and the
      // consumer threads they wait for need a CPU.
      Thread.yield();
    }
    return hinting.statistics();
  }

  /** A counter of {@link #awaitIdle()}'s statistics ({@code hinted-pages}, {@code stale-hints}). */
  int counter(String name) {
    return ((Number) awaitIdle().get(name)).intValue();
  }

  /** Takes every page still to send: see {@link RamRig#takeDirtyPages()}. */
  PageBitmap takeDirtyPages() {
    return source.takeDirtyPages();
  }

  /** See {@link RamRig#countsConsistentAndEmpty()}. */
  boolean countsConsistentAndEmpty() {
    return source.countsConsistentAndEmpty();
  }

  /**
   * Ends the migration as the engine does ({@code acceptHints(false)}, {@code CLEANUP}, close),
   * waits until the queue is empty and returns the device and the memory for later states.
   */
  @Override
  public void close() {
    cleanUp();
    hinting.close();
    awaitIdle();
    IDLE.add(pooled);
    source.close();
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
}
