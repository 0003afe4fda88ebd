package io.github.precopy.sim.balloon;

import static io.github.precopy.balloon.FreePageHintDevice.QUEUE_SIZE;
import static io.github.precopy.sim.balloon.BalloonDriver.HINT_BLOCK_ORDER;
import static io.github.precopy.sim.balloon.BalloonDriver.HINT_BLOCK_PAGES;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.balloon.FreePageHintDevice;
import io.github.precopy.balloon.FreePageHintDevice.Status;
import io.github.precopy.balloon.FreePageHintProvider;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.sim.BuddyAllocator;
import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.PrecopyPhase;
import io.github.precopy.spi.RamRegion;
import io.github.precopy.spi.testing.Await;
import io.github.precopy.spi.testing.FakeOptimizationContext;
import io.github.precopy.spi.testing.RecordingFreePageSink;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
final class BalloonDriverTest {

  private static final long BLOCK_BYTES = HINT_BLOCK_PAGES * GuestMemory.PAGE_SIZE;

  private GuestMemory memory;
  private BuddyAllocator allocator;
  private final FreePageHintDevice device = new FreePageHintDevice();
  private final AtomicLong sequence = new AtomicLong();
  private final RecordingFreePageSink sink = new RecordingFreePageSink(sequence);
  private FakeOptimizationContext context;
  private MigrationOptimization host;
  private BalloonDriver driver;

  /**
   * A guest of {@code blocks} max-order blocks whose device the free-page-hint optimisation drives,
   * as in a migration, reporting to the recording sink.
   */
  private void guestOf(int blocks, boolean acceptFeature) {
    memory = GuestMemory.anonymous(blocks * BLOCK_BYTES);
    allocator = new BuddyAllocator(memory);
    device.start();
    driver = new BalloonDriver(allocator, device, acceptFeature);
    driver.start();
    context =
        new FakeOptimizationContext(
            List.of(new RamRegion("pc.ram", 0, memory.totalBytes())), sink, device);
    host = new FreePageHintProvider().create(context);
  }

  /**
   * Max-order blocks the driver can take from a guest with every block free: all but those that
   * would leave less than the allocator's low watermark free, as Linux's allocation without
   * reclaim.
   */
  private long hintable() {
    return (allocator.freePages() - allocator.lowWatermark()) / HINT_BLOCK_PAGES;
  }

  /** The host asks for a round: QEMU does so after each sync while the guest runs. */
  private void startRound() {
    host.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
  }

  /** The host stops the round: QEMU does so before each sync. */
  private void stopRound() {
    host.onPhase(PrecopyPhase.BEFORE_BITMAP_SYNC);
  }

  /** The migration is over: DONE, and the guest may have its memory back. */
  private void done() {
    host.onPhase(PrecopyPhase.CLEANUP);
  }

  private long statistic(String name) {
    return (Long) host.statistics().get(name);
  }

  @AfterEach
  void close() {
    if (host != null) {
      host.close();
    }
    if (driver != null) {
      driver.close();
    }
    device.close();
    if (memory != null) {
      memory.close();
    }
  }

  private void awaitRoundOver() {
    Await.until(() -> device.status() == Status.STOP, "the driver stopped its round");
    Await.until(() -> device.freeSlots() == QUEUE_SIZE, "the device took every element");
  }

  @Test
  void onANewCommandIdTheDriverReportsEveryFreeMaxOrderBlockAndThenStops() {
    guestOf(16, true);
    long page = allocator.allocate(0); // breaks one max-order block

    startRound();
    awaitRoundOver();

    assertThat(sink.calls()).hasSize(15);
    assertThat(sink.calls())
        .allSatisfy(
            call -> {
              assertThat(call.lengthBytes()).isEqualTo(BLOCK_BYTES);
              assertThat(call.guestAddress() % BLOCK_BYTES).isZero();
              assertThat(call.guestAddress() / BLOCK_BYTES).isNotEqualTo(page / BLOCK_BYTES);
            });
    assertThat(driver.heldPages()).isEqualTo(15 * HINT_BLOCK_PAGES);
    assertThat(allocator.freeBlocks(HINT_BLOCK_ORDER)).isZero();
    assertThat(allocator.pagesInUse(memory.blocks().get(0)).cardinality())
        .as("held blocks are not in use")
        .isEqualTo(1);
    assertThat(statistic("hinted-pages")).isEqualTo(15 * HINT_BLOCK_PAGES);
  }

  @Test
  void heldBlocksStayHeldAcrossRoundsAndAreAllFreedOnDone() {
    guestOf(16, true);
    long freeAtStart = allocator.freePages();
    long hintable = hintable();
    assertThat(hintable).as("the watermark keeps one block").isEqualTo(15);
    startRound();
    awaitRoundOver();

    stopRound();
    startRound();
    Await.until(() -> device.status() != Status.REQUESTED, "the driver answered round 2");
    awaitRoundOver();
    assertThat(sink.calls()).as("nothing new was free in round 2").hasSize((int) hintable);
    assertThat(driver.heldPages()).isEqualTo(hintable * HINT_BLOCK_PAGES);
    assertThat(allocator.freePages())
        .as("the driver left the low watermark free")
        .isBetween(allocator.lowWatermark(), allocator.lowWatermark() + HINT_BLOCK_PAGES - 1);

    done();
    Await.until(() -> driver.heldPages() == 0, "the driver freed its blocks");
    assertThat(allocator.freePages()).isEqualTo(freeAtStart);
    assertThat(allocator.freeBlocks(HINT_BLOCK_ORDER)).isEqualTo(16);
  }

  @Test
  void whenTheQueueIsFullTheDriverKeepsOneSlotForStopAndRetriesUntilTheHostStops() {
    guestOf(1100, true);
    device.guestRunStateChanged(false); // the device takes nothing off the queue

    startRound();
    Await.until(() -> device.freeSlots() == 1, "the driver filled all but one slot");
    // Two more retries: at least one began after the queue was seen full, and kept the slot.
    long retries = driver.fullQueueRetries();
    Await.until(
        () -> driver.fullQueueRetries() >= retries + 2, "the driver retried at the full queue");
    assertThat(device.freeSlots()).as("the reserved slot stays free").isEqualTo(1);

    stopRound();
    Await.until(() -> device.freeSlots() == 0, "the driver sent STOP into the reserved slot");
    long held = QUEUE_SIZE - 2; // the queue holds the id, the blocks and STOP
    assertThat(driver.heldPages()).isEqualTo(held * HINT_BLOCK_PAGES);
    assertThat(allocator.freeBlocks(HINT_BLOCK_ORDER))
        .as("the block that did not fit went back")
        .isEqualTo(1100 - held);

    device.guestRunStateChanged(true);
    Await.until(() -> device.freeSlots() == QUEUE_SIZE, "the device drained the queue");
    assertThat(sink.calls()).as("the round was stopped before the device saw its id").isEmpty();
    assertThat(statistic("stale-hints")).isEqualTo(held);
  }

  @Test
  void aNewerIdEndsTheRoundAndOnlyBlocksSentAfterItsIdAreApplied() {
    guestOf(1100, true);
    long hintable = hintable();
    device.guestRunStateChanged(false);
    startRound();
    Await.until(() -> device.freeSlots() == 1, "the driver filled the queue");

    stopRound();
    startRound();
    device.guestRunStateChanged(true);
    Await.until(
        () -> device.status() == Status.STOP && device.freeSlots() == QUEUE_SIZE,
        "the driver ran round 2");

    long round1 = QUEUE_SIZE - 2;
    assertThat(statistic("stale-hints")).isEqualTo(round1);
    assertThat(sink.calls()).hasSize((int) (hintable - round1));
    assertThat(driver.heldPages()).isEqualTo(hintable * HINT_BLOCK_PAGES);
  }

  @Test
  void theDriverIsFrozenWhileTheGuestIsPaused() {
    guestOf(16, true);
    long hintable = hintable();
    driver.guestRunStateChanged(false);

    startRound();
    Await.until(driver::holdingWorkWhilePaused, "the paused driver took the request and holds it");
    assertThat(device.freeSlots()).isEqualTo(QUEUE_SIZE);
    assertThat(device.status()).isEqualTo(Status.REQUESTED);

    long resumed = sequence.incrementAndGet();
    driver.guestRunStateChanged(true);
    awaitRoundOver();
    assertThat(sink.calls()).hasSize((int) hintable);
    assertThat(sink.calls())
        .as("every hint was applied after the guest resumed")
        .allSatisfy(call -> assertThat(call.entrySequence()).isGreaterThan(resumed));
  }

  @Test
  void theShrinkerGivesBackTheNewestHeldBlocksFirst() {
    guestOf(16, true);
    long hintable = hintable();
    startRound();
    awaitRoundOver();
    List<RecordingFreePageSink.Call> calls = sink.calls();
    long newest = calls.get(calls.size() - 1).guestAddress();
    long secondNewest = calls.get(calls.size() - 2).guestAddress();

    assertThat(driver.shrink(1)).isEqualTo(HINT_BLOCK_PAGES);
    assertThat(allocator.isAllocated(newest)).isFalse();
    assertThat(allocator.isAllocated(secondNewest)).isTrue();
    assertThat(driver.shrink(2 * HINT_BLOCK_PAGES + 1)).isEqualTo(3 * HINT_BLOCK_PAGES);
    assertThat(driver.heldPages()).isEqualTo((hintable - 4) * HINT_BLOCK_PAGES);
    assertThat(driver.shrink(Long.MAX_VALUE)).isEqualTo((hintable - 4) * HINT_BLOCK_PAGES);
    assertThat(driver.shrink(1)).isZero();
  }

  @Test
  void aDriverThatDoesNotAcceptTheFeatureNeverHints() {
    guestOf(16, false);
    AtomicInteger interrupts = new AtomicInteger();
    device.addConfigChangeListener(interrupts::incrementAndGet);

    startRound();

    // Config interrupts are delivered on the thread that changes the config. None by the time
    // startRound() returns means no driver thread was told anything to act on, now or later.
    assertThat(interrupts).as("no round reached the device").hasValue(0);
    assertThat(device.freePageHintNegotiated()).isFalse();
    assertThat(host.statistics()).containsEntry("active", false);
    assertThat(device.status()).isEqualTo(Status.STOP);
    assertThat(driver.heldPages()).isZero();
    assertThat(allocator.freeBlocks(HINT_BLOCK_ORDER)).isEqualTo(16);
  }

  @Test
  void closingTheDriverGivesBackEveryHeldBlock() {
    guestOf(16, true);
    long hintable = hintable();
    startRound();
    awaitRoundOver();

    driver.close();

    assertThat(driver.heldPages()).isZero();
    assertThat(allocator.freeBlocks(HINT_BLOCK_ORDER)).isEqualTo(16);
    assertThat(driver.reportedBlocks()).isEqualTo(hintable);
  }
}
