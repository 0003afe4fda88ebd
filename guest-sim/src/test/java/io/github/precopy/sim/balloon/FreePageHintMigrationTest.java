package io.github.precopy.sim.balloon;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.balloon.FreePageHintDevice;
import io.github.precopy.balloon.FreePageHintDevice.Status;
import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.PrecopyMigration;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.sim.SimulatedGuest;
import io.github.precopy.sim.WorkloadOptions;
import io.github.precopy.spi.ConvergencePolicy.Decision;
import io.github.precopy.spi.testing.Await;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * End to end: a simulated idle guest with a balloon driver, migrated in process by the engine found
 * through the production path ({@link MigrationEngine#create()}).
 */
@Timeout(120)
final class FreePageHintMigrationTest {

  private static final long MIB = 1L << 20;
  private static final long PAGE = GuestMemory.PAGE_SIZE;
  private static final MigrationConfig HINTED =
      MigrationConfig.builder().capability("free-page-hint").build();

  /**
   * An idle guest of {@code bytes}; {@code oldData} fills its RAM first, as a long-running guest.
   */
  private static SimulatedGuest idleGuest(long bytes, long seed, boolean oldData) {
    return idleGuest(bytes, seed, oldData, WorkloadOptions.defaults());
  }

  private static SimulatedGuest idleGuest(
      long bytes, long seed, boolean oldData, WorkloadOptions options) {
    GuestMemory memory = oldData ? OldData.anonymousMemory(bytes) : GuestMemory.anonymous(bytes);
    return SimulatedGuest.builder()
        .memory(memory)
        .vcpus(2)
        .seed(seed)
        .workload("idle", options)
        .build();
  }

  /** The outcome of one migration and what the balloon looked like at its end. */
  private record Run(MigrationStats stats, long nanos, Status deviceStatus, long reportedBlocks) {
    Map<String, Object> hint() {
      return stats.optimizations().get("free-page-hint");
    }

    long pagesSent() {
      return stats.ram().normal() + stats.ram().duplicate();
    }

    @Override
    public String toString() {
      return String.format(
          "%d bytes, %d normal + %d zero pages, %d ms (wall %d ms), %s, hint %s",
          stats.ram().transferred(),
          stats.ram().normal(),
          stats.ram().duplicate(),
          stats.totalTimeMillis(),
          TimeUnit.NANOSECONDS.toMillis(nanos),
          stats.verification(),
          hint());
    }
  }

  private static Run migrate(SimulatedGuest guest, boolean acceptFeature, MigrationConfig config)
      throws InterruptedException {
    try (guest;
        BalloonDriver driver = BalloonDriver.install(guest, acceptFeature);
        GuestMemory destination = GuestMemory.anonymous(guest.memory().totalBytes())) {
      guest.start();
      long start = System.nanoTime();
      MigrationStats stats =
          MigrationEngine.create()
              .startInProcess(guest, destination, config)
              .await(60, TimeUnit.SECONDS);
      long nanos = System.nanoTime() - start;
      assertThat(stats).as("the migration ended within 60 s").isNotNull();
      assertThat(guest.failure()).isEmpty();
      return new Run(stats, nanos, driver.device().status(), driver.reportedBlocks());
    }
  }

  private static void assertCompletedIntact(Run run) {
    assertThat(run.stats().status()).isEqualTo(MigrationStatus.COMPLETED);
    assertThat(run.stats().verification().pagesChecked()).isPositive();
    assertThat(run.stats().verification().mismatches()).isZero();
  }

  @Test
  void theEngineOffersTheCapabilityOfThePluginOnTheClassPath() {
    assertThat(MigrationEngine.create().capabilities()).contains("free-page-hint");
  }

  @ParameterizedTest(name = "{0} dirty tracking")
  @MethodSource("io.github.precopy.core.testing.TestMemories#dirtyTrackings")
  void bytesSentFallByAtLeastTheShareOfHintedMemoryWhenFreeMemoryHoldsOldData(String tracking)
      throws InterruptedException {
    long seed = System.nanoTime();
    System.out.println("bytesSentFallByAtLeastTheShareOfHintedMemory seed=" + seed);
    long bytes = 256 * MIB;

    Run plain =
        migrate(
            idleGuest(bytes, seed, true),
            true,
            MigrationConfig.builder().dirtyTracking(tracking).build());
    Run hinted =
        migrate(
            idleGuest(bytes, seed, true),
            true,
            MigrationConfig.builder().capability("free-page-hint").dirtyTracking(tracking).build());
    System.out.println("old data, plain:  " + plain);
    System.out.println("old data, hinted: " + hinted);

    assertCompletedIntact(plain);
    assertThat(plain.stats().optimizations()).doesNotContainKey("free-page-hint");
    assertThat(plain.reportedBlocks()).as("without the capability nothing is hinted").isZero();
    assertThat(plain.deviceStatus()).isEqualTo(Status.STOP);
    assertCompletedIntact(hinted);
    assertThat(hinted.hint())
        .containsEntry("active", true)
        .containsEntry("status", "done")
        .containsEntry("rejected-hints", 0L);
    long hintedPages = (Long) hinted.hint().get("hinted-pages");
    double hintedShare = (double) hintedPages * PAGE / bytes;
    double fall =
        1 - (double) hinted.stats().ram().transferred() / plain.stats().ram().transferred();
    System.out.printf("hinted share %.3f, bytes fell by %.3f%n", hintedShare, fall);
    assertThat(hintedShare).as("a large share of RAM was hinted").isGreaterThan(0.4);
    assertThat(fall).isGreaterThanOrEqualTo(hintedShare - 0.01);
  }

  @Test
  void aFreshIdleGuestNeverScansItsHintedPages() throws InterruptedException {
    long seed = System.nanoTime();
    System.out.println("aFreshIdleGuestNeverScansItsHintedPages seed=" + seed);
    long bytes = 256 * MIB;

    Run plain = migrate(idleGuest(bytes, seed, false), true, MigrationConfig.defaults());
    Run hinted = migrate(idleGuest(bytes, seed, false), true, HINTED);
    System.out.println("fresh, plain:  " + plain);
    System.out.println("fresh, hinted: " + hinted);

    assertCompletedIntact(plain);
    assertCompletedIntact(hinted);
    long hintedPages = (Long) hinted.hint().get("hinted-pages");
    double hintedShare = (double) hintedPages * PAGE / bytes;
    double fall = 1 - (double) hinted.pagesSent() / plain.pagesSent();
    assertThat(hintedShare).as("a large share of RAM was hinted").isGreaterThan(0.4);
    assertThat(fall).isGreaterThanOrEqualTo(hintedShare - 0.01);
  }

  /**
   * The reference's {@code init_on_alloc=1} runs: the guest zeroes each block it allocates to hint
   * before reporting it, so the zeroing is in the dirty log the next sync reads, and every hinted
   * page is sent again, as a zero page; without it, hinted pages are not sent at all.
   */
  @Test
  void withInitOnAllocTheGuestZeroesItsHintedBlocksAndTheyAreSentAgainAsZeroPages()
      throws InterruptedException {
    long seed = System.nanoTime();
    System.out.println("withInitOnAllocTheHintedBlocksAreSentAgain seed=" + seed);
    long bytes = 256 * MIB;

    // Zeroing each block first slows the hints; a bulk round of at least half a second (32 MiB of
    // kernel data at 64 MiB/s) gives them time to cover free memory however loaded the machine.
    MigrationConfig slowBulk =
        MigrationConfig.builder().capability("free-page-hint").maxBandwidth(64 * MIB).build();
    Run zeroing =
        migrate(
            idleGuest(bytes, seed, false, WorkloadOptions.parse("init-on-alloc=on")),
            true,
            slowBulk);
    Run plain = migrate(idleGuest(bytes, seed, false), true, slowBulk);
    System.out.println("init_on_alloc=1: " + zeroing);
    System.out.println("init_on_alloc=0: " + plain);

    assertCompletedIntact(zeroing);
    assertCompletedIntact(plain);
    long zeroingHinted = (Long) zeroing.hint().get("hinted-pages");
    long plainHinted = (Long) plain.hint().get("hinted-pages");
    assertThat(zeroingHinted).as("a large share of RAM was hinted").isGreaterThan(bytes / PAGE / 2);
    assertThat(plainHinted).as("a large share of RAM was hinted").isGreaterThan(bytes / PAGE / 2);
    assertThat(zeroing.stats().ram().duplicate()).isGreaterThanOrEqualTo(zeroingHinted * 9 / 10);
    assertThat(plain.stats().ram().duplicate()).isLessThan(plainHinted / 2);
  }

  @Test
  void aGuestWhoseDriverRefusesTheFeatureMigratesAsPlainPrecopy() throws InterruptedException {
    long seed = System.nanoTime();
    System.out.println("aGuestWhoseDriverRefusesTheFeature seed=" + seed);

    Run run = migrate(idleGuest(64 * MIB, seed, true), false, HINTED);

    assertCompletedIntact(run);
    assertThat(run.hint())
        .containsEntry("active", false)
        .containsEntry("hinted-pages", 0L)
        .containsEntry("reason", "the guest driver did not accept VIRTIO_BALLOON_F_FREE_PAGE_HINT");
    assertThat(run.stats().ram().normal()).isGreaterThanOrEqualTo(64 * MIB / PAGE);
    assertThat(run.deviceStatus()).isEqualTo(Status.STOP);
  }

  @Test
  void doneIsDeliveredAfterASuccessfulMigrationAndTheGuestGetsItsMemoryBack()
      throws InterruptedException {
    long seed = System.nanoTime();
    System.out.println("doneIsDeliveredAfterASuccessfulMigration seed=" + seed);
    try (SimulatedGuest guest = idleGuest(64 * MIB, seed, false);
        BalloonDriver driver = BalloonDriver.install(guest, true);
        GuestMemory destination = GuestMemory.anonymous(64 * MIB)) {
      guest.start();
      long free = guest.allocator().freePages();

      MigrationStats stats =
          MigrationEngine.create()
              .startInProcess(guest, destination, HINTED)
              .await(60, TimeUnit.SECONDS);

      assertThat(stats.status()).isEqualTo(MigrationStatus.COMPLETED);
      assertThat(driver.device().status()).isEqualTo(Status.DONE);
      assertThat(driver.reportedBlocks()).isPositive();
      // The source stays paused after switch-over; once it runs it reads DONE.
      guest.resume();
      Await.until(() -> driver.heldPages() == 0, "the driver gave its blocks back");
      assertThat(guest.allocator().freePages()).isEqualTo(free);
    }
  }

  @Test
  void doneIsDeliveredWhenTheMigrationFails() throws InterruptedException {
    long seed = System.nanoTime();
    System.out.println("doneIsDeliveredWhenTheMigrationFails seed=" + seed);
    try (SimulatedGuest guest = idleGuest(64 * MIB, seed, true);
        BalloonDriver driver = BalloonDriver.install(guest, true);
        GuestMemory destination = GuestMemory.anonymous(64 * MIB)) {
      guest.start();
      MigrationConfig config =
          MigrationConfig.builder()
              .capability("free-page-hint")
              .maxBandwidth(128 * MIB)
              .convergencePolicy(state -> Decision.ABORT)
              .build();

      MigrationStats stats =
          MigrationEngine.create()
              .startInProcess(guest, destination, config)
              .await(60, TimeUnit.SECONDS);

      assertThat(stats.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(driver.device().status()).isEqualTo(Status.DONE);
      assertThat(driver.reportedBlocks()).isPositive();
      assertThat(guest.isRunning()).isTrue();
      Await.until(() -> driver.heldPages() == 0, "the driver gave its blocks back");
    }
  }

  @Test
  void doneIsDeliveredWhenTheMigrationIsCancelled() throws InterruptedException {
    long seed = System.nanoTime();
    System.out.println("doneIsDeliveredWhenTheMigrationIsCancelled seed=" + seed);
    try (SimulatedGuest guest = idleGuest(64 * MIB, seed, true);
        BalloonDriver driver = BalloonDriver.install(guest, true);
        GuestMemory destination = GuestMemory.anonymous(64 * MIB)) {
      guest.start();
      MigrationConfig config =
          MigrationConfig.builder().capability("free-page-hint").maxBandwidth(8 * MIB).build();
      PrecopyMigration migration =
          MigrationEngine.create().startInProcess(guest, destination, config);
      Await.until(() -> driver.heldPages() > 0, "the driver hinted");

      migration.cancel();
      MigrationStats stats = migration.await(60, TimeUnit.SECONDS);

      assertThat(stats.status()).isEqualTo(MigrationStatus.CANCELLED);
      assertThat(driver.device().status()).isEqualTo(Status.DONE);
      assertThat(guest.isRunning()).isTrue();
      Await.until(() -> driver.heldPages() == 0, "the driver gave its blocks back");
    }
  }

  @Test
  void hintsOfAConfusedGuestClearOnlyWholePagesInsideOneRamBlock() throws InterruptedException {
    long seed = System.nanoTime();
    System.out.println("hintsOfAConfusedGuestClearOnlyWholePagesInsideOneRamBlock seed=" + seed);
    long far = 1L << 30;
    GuestMemory memory = twoAdjacentBlocksAndOneFar();
    OldData.write(memory, 0, 16 * MIB); // real pages, so the rate limit slows the scan of "low"
    try (SimulatedGuest guest =
            SimulatedGuest.builder().memory(memory).vcpus(1).seed(seed).build();
        FreePageHintDevice device = new FreePageHintDevice();
        GuestMemory destination = twoAdjacentBlocksAndOneFar()) {
      guest.attach(FreePageHintDevice.class, device);
      device.setDriverFeatures(device.hostFeatures());
      device.start();
      guest.start();
      MigrationConfig config =
          MigrationConfig.builder().capability("free-page-hint").maxBandwidth(MIB).build();
      PrecopyMigration migration =
          MigrationEngine.create().startInProcess(guest, destination, config);
      Await.until(() -> device.status() == Status.REQUESTED, "a round was requested");

      // The test is the guest driver: it acknowledges the round and sends odd blocks.
      device.addCommandId(FreePageHintDevice.encodeCommandId(device.readConfigCommandId()));
      device.addFreeBlock(16 * MIB + 2 * PAGE + 100, 3 * PAGE); // misaligned in "high": 2 pages
      device.addFreeBlock(14 * MIB, 4 * MIB); // from "low" into the adjacent "high": rejected
      device.addFreeBlock(far + 4 * MIB, 4 * MIB); // the last 4 MiB of "far": 1024 pages
      device.addFreeBlock(far + 6 * MIB, 4 * MIB); // runs past the end of "far": rejected
      device.addFreeBlock(64 * MIB, 4 * MIB); // in the hole: rejected
      device.addFreeBlock(16 * MIB, 0); // empty: rejected
      device.addCommandId(FreePageHintDevice.encodeCommandId(FreePageHintDevice.CMD_ID_STOP));
      Await.until(
          () ->
              device.status() == Status.STOP && device.freeSlots() == FreePageHintDevice.QUEUE_SIZE,
          "the device applied the round");
      Map<String, Object> hint = migration.stats().optimizations().get("free-page-hint");
      migration.cancel();
      assertThat(migration.await(60, TimeUnit.SECONDS).status())
          .isEqualTo(MigrationStatus.CANCELLED);

      assertThat(hint).containsEntry("hinted-pages", 1026L).containsEntry("rejected-hints", 4L);
      assertThat(device.status()).isEqualTo(Status.DONE);
    }
  }

  private static GuestMemory twoAdjacentBlocksAndOneFar() {
    return GuestMemory.builder()
        .anonymousBlock("low", 0, 16 * MIB)
        .anonymousBlock("high", 16 * MIB, 16 * MIB)
        .anonymousBlock("far", 1L << 30, 8 * MIB)
        .build();
  }
}
