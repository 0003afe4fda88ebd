package io.github.precopy.balloon;

import static io.github.precopy.balloon.FreePageHintDevice.CMD_ID_DONE;
import static io.github.precopy.balloon.FreePageHintDevice.CMD_ID_MIN;
import static io.github.precopy.balloon.FreePageHintDevice.CMD_ID_STOP;
import static io.github.precopy.balloon.FreePageHintDevice.QUEUE_SIZE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.balloon.FreePageHintDevice.HintCounters;
import io.github.precopy.balloon.FreePageHintDevice.Session;
import io.github.precopy.balloon.FreePageHintDevice.Status;
import io.github.precopy.spi.RamRegion;
import io.github.precopy.spi.testing.Await;
import io.github.precopy.spi.testing.RecordingFreePageSink;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
final class FreePageHintDeviceTest {

  private static final long MIB = 1L << 20;
  private static final long BLOCK = 4 * MIB;

  // Two adjacent RAM blocks and one after a hole, as RamStateTest lays them out.
  private static final List<RamRegion> REGIONS =
      List.of(
          new RamRegion("low", 0, 64 * MIB),
          new RamRegion("high", 64 * MIB, 32 * MIB),
          new RamRegion("far", 1L << 30, 16 * MIB));

  private final FreePageHintDevice device = new FreePageHintDevice();
  private final AtomicInteger interrupts = new AtomicInteger();
  private final AtomicLong sequence = new AtomicLong();
  private final RecordingFreePageSink sink = new RecordingFreePageSink(sequence);
  private Session session;

  private void startDevice() {
    device.setDriverFeatures(device.hostFeatures());
    device.addConfigChangeListener(interrupts::incrementAndGet);
    device.start();
    session = device.connect(sink, REGIONS).orElseThrow();
  }

  @AfterEach
  void closeDevice() {
    device.close();
  }

  /** Waits until the consumer has taken every queued element and finished processing it. */
  private HintCounters settle() {
    Await.until(() -> device.freeSlots() == QUEUE_SIZE, "the consumer drained the queue");
    return session.counters();
  }

  private void send(int commandId) {
    assertThat(device.addCommandId(FreePageHintDevice.encodeCommandId(commandId))).isTrue();
  }

  private void startHinting() {
    device.startRound();
    send(device.readConfigCommandId());
    settle();
    assertThat(device.status()).isEqualTo(Status.START);
  }

  @Test
  void aNewDeviceIsStoppedAndItsConfigReadsStop() {
    assertThat(device.status()).isEqualTo(Status.STOP);
    assertThat(device.readConfigCommandId()).isEqualTo(CMD_ID_STOP);
    assertThat(device.commandId()).isEqualTo(CMD_ID_MIN);
  }

  @Test
  void theFirstRoundRequestsCommandId0x80000001AndInterruptsTheDriver() {
    startDevice();

    device.startRound();

    assertThat(device.status()).isEqualTo(Status.REQUESTED);
    assertThat(device.readConfigCommandId()).isEqualTo(0x80000001);
    assertThat(interrupts).hasValue(1);
    assertThat(session.counters().rounds()).isEqualTo(1);
  }

  @Test
  void commandIdsWrapFrom0xFFFFFFFFTo0x80000000AndAreNeverStopOrDone() {
    FreePageHintDevice nearTheEnd = new FreePageHintDevice(0xFFFFFFFE);
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      nearTheEnd.startRound();
      ids.add(nearTheEnd.readConfigCommandId());
    }

    assertThat(ids).containsExactly(0xFFFFFFFF, 0x80000000, 0x80000001, 0x80000002);
    assertThat(ids).doesNotContain(CMD_ID_STOP, CMD_ID_DONE);
    assertThatThrownBy(() -> new FreePageHintDevice(CMD_ID_DONE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("below 0x80000000");
  }

  @Test
  void theCurrentIdStartsARequestedRoundAndTheConfigThenReadsStop() {
    startDevice();
    device.startRound();

    send(0x80000001);
    settle();

    assertThat(device.status()).isEqualTo(Status.START);
    assertThat(device.readConfigCommandId()).isEqualTo(CMD_ID_STOP);
  }

  @Test
  void aStaleIdDoesNotStartARequestedRound() {
    startDevice();
    device.startRound();
    device.startRound();

    send(0x80000001);
    send(CMD_ID_STOP);
    send(CMD_ID_DONE);
    settle();

    assertThat(device.status()).isEqualTo(Status.REQUESTED);
    assertThat(device.readConfigCommandId()).isEqualTo(0x80000002);
  }

  @Test
  void aBigEndianIdDoesNotMatchTheLittleEndianWireForm() {
    startDevice();
    device.startRound();

    ByteBuffer bigEndian = ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(0, 0x80000001);
    assertThat(device.addCommandId(bigEndian)).isTrue();
    settle();

    assertThat(device.status()).isEqualTo(Status.REQUESTED);
  }

  @Test
  void theStopIdStopsAStartedRound() {
    startDevice();
    startHinting();

    send(CMD_ID_STOP);
    settle();

    assertThat(device.status()).isEqualTo(Status.STOP);
  }

  @Test
  void anyOtherIdAlsoStopsAStartedRound() {
    startDevice();
    startHinting();

    send(0x12345678);
    settle();

    assertThat(device.status()).isEqualTo(Status.STOP);
  }

  @Test
  void replayingTheIdOfAStoppedRoundDoesNotRestartIt() {
    startDevice();
    startHinting();
    int id = device.commandId();
    device.stop();

    send(id);
    assertThat(device.addFreeBlock(0, BLOCK)).isTrue();
    HintCounters counters = settle();

    assertThat(device.status()).isEqualTo(Status.STOP);
    assertThat(sink.calls()).isEmpty();
    assertThat(counters.stale()).isEqualTo(1);
  }

  @Test
  void replayingTheIdAfterDoneDoesNotRestartHinting() {
    startDevice();
    startHinting();
    int id = device.commandId();
    device.done();

    send(id);
    assertThat(device.addFreeBlock(0, BLOCK)).isTrue();
    settle();

    assertThat(device.status()).isEqualTo(Status.DONE);
    assertThat(device.readConfigCommandId()).isEqualTo(CMD_ID_DONE);
    assertThat(sink.calls()).isEmpty();
  }

  @Test
  void theLateStopOfThePreviousRoundDoesNotEndTheNextRound() {
    startDevice();
    startHinting();
    device.stop();
    device.startRound();

    // The guest's stop for the first round arrives after the second round was requested.
    send(CMD_ID_STOP);
    send(device.readConfigCommandId());
    settle();
    assertThat(device.status()).isEqualTo(Status.START);

    assertThat(device.addFreeBlock(0, BLOCK)).isTrue();
    settle();
    assertThat(sink.calls()).hasSize(1);
  }

  @Test
  void stopAndDoneInterruptTheDriverOnlyWhenTheStatusChanges() {
    startDevice();

    device.stop();
    assertThat(interrupts).hasValue(0);
    device.startRound();
    device.stop();
    device.stop();
    assertThat(interrupts).hasValue(2);
    device.done();
    device.done();
    assertThat(interrupts).hasValue(3);
    assertThat(device.readConfigCommandId()).isEqualTo(CMD_ID_DONE);
  }

  @Test
  void aCommandIdOfTheWrongSizeIsRejectedAndChangesNothing() {
    startDevice();
    device.startRound();
    byte[] current = new byte[4];
    FreePageHintDevice.encodeCommandId(device.commandId()).get(current);

    for (int size : new int[] {0, 3, 5, 8}) {
      ByteBuffer wrong = ByteBuffer.allocate(size);
      wrong.put(current, 0, Math.min(size, 4)).rewind();
      assertThat(device.addCommandId(wrong)).isTrue();
    }
    HintCounters counters = settle();

    assertThat(counters.rejected()).isEqualTo(4);
    assertThat(device.status()).isEqualTo(Status.REQUESTED);
  }

  @Test
  void blocksAreAppliedOnlyInStart() {
    startDevice();
    device.addFreeBlock(0, BLOCK); // STOP
    device.startRound();
    device.addFreeBlock(BLOCK, BLOCK); // REQUESTED
    settle();
    startHinting();
    device.addFreeBlock(2 * BLOCK, BLOCK); // START
    settle();
    device.done();
    device.addFreeBlock(3 * BLOCK, BLOCK); // DONE
    HintCounters counters = settle();

    assertThat(sink.calls())
        .extracting(RecordingFreePageSink.Call::guestAddress)
        .containsExactly(2 * BLOCK);
    assertThat(counters.hintedPages()).isEqualTo(BLOCK / 4096);
    assertThat(counters.stale()).isEqualTo(3);
    assertThat(counters.rejected()).isZero();
    assertThat(counters.applyNanos()).isPositive();
  }

  @Test
  void blocksOutsideGuestRamAreRejected() {
    startDevice();
    startHinting();

    device.addFreeBlock(96 * MIB, BLOCK); // in the hole after "high"
    device.addFreeBlock(-BLOCK, BLOCK); // below guest RAM
    device.addFreeBlock((1L << 30) + 16 * MIB, BLOCK); // right after "far"
    device.addFreeBlock(Long.MAX_VALUE - 4095, BLOCK); // would overflow
    device.addFreeBlock(1L << 30, Long.MAX_VALUE); // starts inside, runs far past the end
    device.addFreeBlock(60 * MIB, 1L << 40); // starts inside "low", ends past "high"
    HintCounters counters = settle();

    assertThat(sink.calls()).isEmpty();
    assertThat(counters.rejected()).isEqualTo(6);
  }

  @Test
  void blocksOfNonPositiveLengthAreRejected() {
    startDevice();
    startHinting();

    device.addFreeBlock(0, 0);
    device.addFreeBlock(0, -BLOCK);
    device.addFreeBlock(BLOCK, Long.MIN_VALUE);
    HintCounters counters = settle();

    assertThat(sink.calls()).isEmpty();
    assertThat(counters.rejected()).isEqualTo(3);
  }

  @Test
  void aBlockCrossingFromOneRamBlockIntoTheNextIsRejectedWhole() {
    startDevice();
    startHinting();

    device.addFreeBlock(62 * MIB, BLOCK); // 2 MiB in "low", 2 MiB in the adjacent "high"
    device.addFreeBlock(60 * MIB, BLOCK); // the last 4 MiB of "low": fine
    HintCounters counters = settle();

    assertThat(counters.rejected()).isEqualTo(1);
    assertThat(sink.calls())
        .extracting(RecordingFreePageSink.Call::guestAddress)
        .containsExactly(60 * MIB);
  }

  @Test
  void aMisalignedBlockInsideOneRamBlockIsPassedOnForTheSinkToTrim() {
    startDevice();
    startHinting();

    device.addFreeBlock(64 * MIB + 100, 3 * 4096);
    HintCounters counters = settle();

    assertThat(counters.rejected()).isZero();
    assertThat(sink.calls())
        .singleElement()
        .satisfies(
            call -> {
              assertThat(call.guestAddress()).isEqualTo(64 * MIB + 100);
              assertThat(call.lengthBytes()).isEqualTo(3 * 4096);
            });
  }

  @Test
  void aFailingSinkIsCountedAsRejectedAndTheConsumerCarriesOn() {
    startDevice();
    startHinting();

    sink.failing(true);
    device.addFreeBlock(0, BLOCK);
    settle();
    sink.failing(false);
    device.addFreeBlock(BLOCK, BLOCK);
    HintCounters counters = settle();

    assertThat(counters.rejected()).isEqualTo(1);
    assertThat(sink.calls()).hasSize(1);
  }

  @Test
  void noSinkCallHappensAfterStopReturns() throws InterruptedException {
    long seed = Long.getLong("precopy.seed", System.nanoTime());
    System.out.println(
        "noSinkCallHappensAfterStopReturns seed="
            + seed
            + " (rerun with -Dprecopy.seed="
            + seed
            + ")");
    SplittableRandom random = new SplittableRandom(seed);
    startDevice();
    for (int run = 0; run < 30; run++) {
      AtomicLong sequence = new AtomicLong();
      RecordingFreePageSink slowSink = new RecordingFreePageSink(sequence);
      slowSink.spendPerCall(random.nextLong(20_000, 200_000));
      device.disconnect(session);
      session = device.connect(slowSink, REGIONS).orElseThrow();
      startHinting();
      AtomicBoolean producing = new AtomicBoolean(true);
      Thread driver =
          new Thread(
              () -> {
                long address = 0;
                while (producing.get()) {
                  if (device.freeSlots() > 1 && device.addFreeBlock(address, BLOCK)) {
                    address = (address + BLOCK) % (64 * MIB);
                  } else {
                    Thread.onSpinWait();
                  }
                }
              },
              "test-driver");
      driver.start();
      Await.until(() -> !slowSink.calls().isEmpty(), "hints are being applied");
      // Not a wait for anything: a seeded random delay that lands stop() anywhere in a sink call.
      LockSupport.parkNanos(random.nextLong(0, 2_000_000));

      device.stop();
      long stopReturned = sequence.incrementAndGet();

      Await.until(() -> session.counters().stale() > 0, "hints arrive after the stop");
      producing.set(false);
      driver.join();
      settle();
      assertThat(slowSink.calls())
          .as("seed %d run %d: sink calls must all end before stop() returns", seed, run)
          .isNotEmpty()
          .allSatisfy(call -> assertThat(call.exitSequence()).isLessThan(stopReturned));
    }
  }

  @Test
  void theConsumerParksWhileTheGuestIsPausedAndStopDoesNotWaitForIt() {
    startDevice();
    device.startRound();
    device.guestRunStateChanged(false);

    send(device.readConfigCommandId());
    device.addFreeBlock(0, BLOCK);
    Await.until(device::consumerWaitsForResume, "the consumer was kicked and parked");

    assertThat(device.freeSlots()).as("nothing was taken off the queue").isEqualTo(QUEUE_SIZE - 2);
    assertThat(device.status()).isEqualTo(Status.REQUESTED);

    long resumed = sequence.incrementAndGet();
    device.guestRunStateChanged(true);
    settle();
    assertThat(device.status()).isEqualTo(Status.START);
    assertThat(sink.calls()).hasSize(1);
    assertThat(sink.calls().get(0).entrySequence())
        .as("the hint was applied after the guest resumed")
        .isGreaterThan(resumed);

    device.guestRunStateChanged(false);
    device.addFreeBlock(BLOCK, BLOCK);
    long before = System.nanoTime();
    device.stop();
    assertThat(System.nanoTime() - before).isLessThan(TimeUnit.SECONDS.toNanos(1));
    device.guestRunStateChanged(true);
    assertThat(settle().stale()).isEqualTo(1);
    assertThat(sink.calls()).hasSize(1);
  }

  @Test
  void theQueueHolds1024ElementsAndRefusesMore() {
    startDevice();
    device.guestRunStateChanged(false);

    for (int i = 0; i < QUEUE_SIZE; i++) {
      assertThat(device.addFreeBlock(0, BLOCK)).isTrue();
    }

    assertThat(device.freeSlots()).isZero();
    assertThat(device.addFreeBlock(0, BLOCK)).isFalse();
    assertThat(device.addCommandId(FreePageHintDevice.encodeCommandId(CMD_ID_STOP))).isFalse();
    device.guestRunStateChanged(true);
    assertThat(settle().stale()).isEqualTo(QUEUE_SIZE);
  }

  @Test
  void aDriverThatDidNotAcceptTheFeatureCannotQueue() {
    device.start();
    device.setDriverFeatures(0);

    assertThat(device.freePageHintNegotiated()).isFalse();
    assertThat(device.addFreeBlock(0, BLOCK)).isFalse();
    assertThat(device.addCommandId(FreePageHintDevice.encodeCommandId(CMD_ID_STOP))).isFalse();

    device.setDriverFeatures(-1L);
    assertThat(device.freePageHintNegotiated()).isTrue();
  }

  @Test
  void onlyOneMigrationConnectsAtATime() {
    startDevice();

    assertThat(device.connect(new RecordingFreePageSink(), REGIONS)).isEmpty();
    device.disconnect(session);
    assertThat(device.connect(new RecordingFreePageSink(), REGIONS)).isPresent();
  }

  @Test
  void aThrowingConfigListenerDoesNotReachTheHost() {
    startDevice();
    device.addConfigChangeListener(
        () -> {
          throw new IllegalStateException("driver bug for the test");
        });

    device.startRound();

    assertThat(device.status()).isEqualTo(Status.REQUESTED);
    assertThat(interrupts).hasValue(1);
  }

  @Test
  void closeStopsHintingAndEndsTheDaemonConsumerThread() {
    Set<Thread> before = consumerThreads();
    startDevice();
    startHinting();
    Set<Thread> ours = consumerThreads();
    ours.removeAll(before);
    assertThat(ours).singleElement().satisfies(thread -> assertThat(thread.isDaemon()).isTrue());

    device.close();

    assertThat(device.status()).isEqualTo(Status.STOP);
    assertThat(device.addFreeBlock(0, BLOCK)).isFalse();
    assertThat(ours).allSatisfy(thread -> assertThat(thread.isAlive()).isFalse());
    assertThatThrownBy(device::start).isInstanceOf(IllegalStateException.class);
  }

  private static Set<Thread> consumerThreads() {
    Set<Thread> threads = new HashSet<>(Thread.getAllStackTraces().keySet());
    threads.removeIf(thread -> !thread.getName().equals("free-page-hint-iothread"));
    return threads;
  }
}
