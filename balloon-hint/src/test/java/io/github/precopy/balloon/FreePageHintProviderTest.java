package io.github.precopy.balloon;

import static io.github.precopy.balloon.FreePageHintDevice.QUEUE_SIZE;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.balloon.FreePageHintDevice.Status;
import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.PrecopyPhase;
import io.github.precopy.spi.RamRegion;
import io.github.precopy.spi.testing.Await;
import io.github.precopy.spi.testing.FakeOptimizationContext;
import io.github.precopy.spi.testing.RecordingFreePageSink;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
final class FreePageHintProviderTest {

  private static final long BLOCK = 4L << 20;
  private static final List<RamRegion> RAM = List.of(new RamRegion("pc.ram", 0, 64 * BLOCK));

  private final FreePageHintProvider provider = new FreePageHintProvider();
  private final FreePageHintDevice device = new FreePageHintDevice();
  private final RecordingFreePageSink sink = new RecordingFreePageSink();
  private final FakeOptimizationContext context = new FakeOptimizationContext(RAM, sink, device);
  private final AtomicInteger interrupts = new AtomicInteger();

  FreePageHintProviderTest() {
    device.addConfigChangeListener(interrupts::incrementAndGet);
  }

  @AfterEach
  void closeDevice() {
    device.close();
  }

  private MigrationOptimization negotiatedOptimization() {
    device.setDriverFeatures(1L << FreePageHintDevice.FEATURE_FREE_PAGE_HINT);
    device.start();
    return provider.create(context);
  }

  /**
   * Acts as the guest driver: acknowledges the requested id and reports {@code blocks}. Returns
   * once the device has taken them all; the last may still be in the sink until the device lock is
   * next taken (as {@code statistics()} and the phases do).
   */
  private void guestHints(int blocks) {
    assertThat(
            device.addCommandId(FreePageHintDevice.encodeCommandId(device.readConfigCommandId())))
        .isTrue();
    for (int i = 0; i < blocks; i++) {
      assertThat(device.addFreeBlock(i * BLOCK, BLOCK)).isTrue();
    }
    Await.until(
        () -> device.status() == Status.START && device.freeSlots() == QUEUE_SIZE,
        "the device started the round and took every element");
  }

  @Test
  void theServiceLoaderFindsTheProviderByItsCapabilityName() {
    assertThat(ServiceLoader.load(MigrationOptimizationProvider.class))
        .extracting(MigrationOptimizationProvider::capability)
        .contains("free-page-hint");
    assertThat(provider.capability()).isEqualTo(FreePageHintProvider.CAPABILITY);
  }

  @Test
  void withoutADeviceTheCapabilityDoesNothingAndSaysWhy() {
    MigrationOptimization optimization =
        provider.create(new FakeOptimizationContext(RAM, sink, "not a balloon"));

    for (PrecopyPhase phase : PrecopyPhase.values()) {
      optimization.onPhase(phase);
    }

    assertThat(optimization.statistics())
        .containsEntry("active", false)
        .containsEntry("reason", "the guest has no free-page-hint device")
        .containsEntry("hinted-pages", 0L);
  }

  @Test
  void whenTheDriverDidNotAcceptTheFeatureTheCapabilityDoesNothingAndSaysWhy() {
    device.start();
    device.setDriverFeatures(0);
    MigrationOptimization optimization = provider.create(context);

    for (PrecopyPhase phase : PrecopyPhase.values()) {
      optimization.onPhase(phase);
    }

    assertThat(optimization.statistics())
        .containsEntry("active", false)
        .containsEntry("reason", "the guest driver did not accept VIRTIO_BALLOON_F_FREE_PAGE_HINT");
    assertThat(device.status()).isEqualTo(Status.STOP);
    assertThat(interrupts).hasValue(0);
  }

  @Test
  void afterASyncWhileTheGuestRunsANewRoundIsRequested() {
    MigrationOptimization optimization = negotiatedOptimization();

    optimization.onPhase(PrecopyPhase.BEFORE_BITMAP_SYNC);
    optimization.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);

    assertThat(device.status()).isEqualTo(Status.REQUESTED);
    assertThat(device.readConfigCommandId()).isEqualTo(0x80000001);
    assertThat(interrupts).hasValue(1);
    assertThat(optimization.statistics())
        .containsEntry("active", true)
        .containsEntry("status", "requested")
        .containsEntry("rounds", 1L);
  }

  @Test
  void beforeASyncHintingStops() {
    MigrationOptimization optimization = negotiatedOptimization();
    optimization.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
    guestHints(1);
    assertThat(device.status()).isEqualTo(Status.START);

    optimization.onPhase(PrecopyPhase.BEFORE_BITMAP_SYNC);

    assertThat(device.status()).isEqualTo(Status.STOP);
    assertThat(interrupts).hasValue(2);
  }

  @Test
  void afterASyncWithTheGuestPausedHintingIsDone() {
    MigrationOptimization optimization = negotiatedOptimization();
    optimization.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
    context.guestRunning(false);

    optimization.onPhase(PrecopyPhase.BEFORE_BITMAP_SYNC);
    optimization.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);

    assertThat(device.status()).isEqualTo(Status.DONE);
    assertThat(device.readConfigCommandId()).isEqualTo(FreePageHintDevice.CMD_ID_DONE);
    assertThat(optimization.statistics()).containsEntry("rounds", 1L);
  }

  @Test
  void cleanupDeliversDoneEvenWhenNoFinalSyncHappened() {
    MigrationOptimization optimization = negotiatedOptimization();
    optimization.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
    guestHints(2);

    optimization.onPhase(PrecopyPhase.CLEANUP);

    assertThat(device.status()).isEqualTo(Status.DONE);
    assertThat(interrupts).hasValue(2);
  }

  @Test
  void setupAndCompleteChangeNothing() {
    MigrationOptimization optimization = negotiatedOptimization();
    optimization.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
    guestHints(0);

    optimization.onPhase(PrecopyPhase.SETUP);
    optimization.onPhase(PrecopyPhase.COMPLETE);

    assertThat(device.status()).isEqualTo(Status.START);
    assertThat(interrupts).hasValue(1);
  }

  @Test
  void aMigrationRunsItsRoundsInQemuOrderAndReportsWhatWasHinted() {
    MigrationOptimization optimization = negotiatedOptimization();

    optimization.onPhase(PrecopyPhase.BEFORE_BITMAP_SYNC);
    optimization.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
    optimization.onPhase(PrecopyPhase.SETUP);
    guestHints(3);
    device.addFreeBlock(64 * BLOCK, BLOCK); // outside RAM
    Await.until(() -> device.freeSlots() == QUEUE_SIZE, "the device took the block");
    optimization.onPhase(PrecopyPhase.BEFORE_BITMAP_SYNC);
    optimization.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
    guestHints(2);
    context.guestRunning(false);
    optimization.onPhase(PrecopyPhase.COMPLETE);
    optimization.onPhase(PrecopyPhase.BEFORE_BITMAP_SYNC);
    optimization.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
    optimization.onPhase(PrecopyPhase.CLEANUP);
    optimization.close();

    assertThat(device.status()).isEqualTo(Status.DONE);
    assertThat(device.commandId()).isEqualTo(0x80000002);
    assertThat(sink.calls()).hasSize(5);
    assertThat(optimization.statistics())
        .containsEntry("active", true)
        .containsEntry("status", "done")
        .containsEntry("hinted-pages", 5 * BLOCK / 4096)
        .containsEntry("rounds", 2L)
        .containsEntry("rejected-hints", 1L)
        .containsEntry("stale-hints", 0L)
        .containsKey("hint-apply-nanos");
  }

  @Test
  void oneDeviceServesOneMigrationAtATime() {
    MigrationOptimization first = negotiatedOptimization();

    MigrationOptimization second = provider.create(context);
    assertThat(second.statistics())
        .containsEntry("active", false)
        .containsEntry("reason", "the free-page-hint device is in use by another migration");

    first.close();
    assertThat(provider.create(context).statistics()).containsEntry("active", true);
  }

  @Test
  void afterCloseHintsNoLongerReachTheMigration() {
    MigrationOptimization optimization = negotiatedOptimization();
    optimization.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
    guestHints(1);

    optimization.close();
    device.addFreeBlock(BLOCK, BLOCK);
    Await.until(() -> device.freeSlots() == QUEUE_SIZE, "the device took the block");

    assertThat(sink.calls()).hasSize(1);
    assertThat(optimization.statistics()).containsEntry("hinted-pages", BLOCK / 4096);
  }
}
