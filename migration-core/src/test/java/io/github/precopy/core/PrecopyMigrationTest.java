package io.github.precopy.core;

import static io.github.precopy.spi.PrecopyPhase.AFTER_BITMAP_SYNC;
import static io.github.precopy.spi.PrecopyPhase.BEFORE_BITMAP_SYNC;
import static io.github.precopy.spi.PrecopyPhase.CLEANUP;
import static io.github.precopy.spi.PrecopyPhase.COMPLETE;
import static io.github.precopy.spi.PrecopyPhase.SETUP;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.testing.TestGuest;
import io.github.precopy.core.transport.DestinationReport;
import io.github.precopy.core.transport.IncomingMigration;
import io.github.precopy.spi.PrecopyPhase;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
final class PrecopyMigrationTest {

  private static final long MIB = 1 << 20;
  private static final int PAGE = GuestMemory.PAGE_SIZE;

  /** The rate limiter's window: the most a bounded policy's timeout may be overshot. */
  private static final long WINDOW_MILLIS = 100;

  /** Scheduling slack on a loaded machine, beyond the window. */
  private static final long SLACK_MILLIS = 400;

  private final MigrationEngine engine = MigrationEngine.builder().build();

  @Test
  void phasesFollowQemuOrder() throws Exception {
    RecordingProvider recorder = new RecordingProvider("recorder");
    MigrationEngine withRecorder = MigrationEngine.builder().addProvider(recorder).build();
    MigrationConfig config = MigrationConfig.builder().capability("recorder").build();
    try (TestGuest guest = TestGuest.filled(16 * MIB, seed());
        GuestMemory destination = GuestMemory.anonymous(16 * MIB)) {
      MigrationStats stats = withRecorder.startInProcess(guest, destination, config).await();

      assertCompletedAndVerified(stats);
      List<PrecopyPhase> expected = new ArrayList<>(List.of(BEFORE_BITMAP_SYNC, AFTER_BITMAP_SYNC));
      expected.add(SETUP);
      for (long sync = 2; sync < stats.ram().dirtySyncCount(); sync++) {
        expected.addAll(List.of(BEFORE_BITMAP_SYNC, AFTER_BITMAP_SYNC));
      }
      expected.addAll(List.of(COMPLETE, BEFORE_BITMAP_SYNC, AFTER_BITMAP_SYNC, CLEANUP));
      assertThat(recorder.phases).containsExactlyElementsOf(expected);
      assertThat(recorder.closed).hasValue(1);
    }
  }

  @ParameterizedTest(name = "{0} dirty tracking")
  @MethodSource("io.github.precopy.core.testing.TestMemories#dirtyTrackings")
  void hintedPagesAreNotSentButAPageWrittenAfterItsHintIs(String tracking) throws Exception {
    long[] cleared = new long[1];
    RecordingProvider hinter =
        new RecordingProvider(
            "hinter",
            (phase, context) -> {
              if (phase == SETUP) {
                cleared[0] = context.freePageSink().freePageHint(0, 100L * PAGE);
              }
            });
    try (TestGuest guest = TestGuest.filled(16 * MIB, seed());
        GuestMemory destination = GuestMemory.anonymous(16 * MIB)) {
      guest.markFree(0, 100);
      RecordingProvider writer =
          new RecordingProvider(
              "writer",
              (phase, context) -> {
                if (phase == SETUP) {
                  guest.markInUseAndWrite(5, (byte) 0x5A);
                }
              });
      MigrationEngine engineWithBoth =
          MigrationEngine.builder().addProvider(hinter).addProvider(writer).build();
      MigrationConfig config =
          MigrationConfig.builder()
              .capability("hinter")
              .capability("writer")
              .dirtyTracking(tracking)
              .build();

      MigrationStats stats = engineWithBoth.startInProcess(guest, destination, config).await();

      assertCompletedAndVerified(stats);
      assertThat(cleared[0]).isEqualTo(100);
      long totalPages = 16 * MIB / PAGE;
      assertThat(stats.ram().normal() + stats.ram().duplicate()).isEqualTo(totalPages - 99);
      RamBlock sent = destination.blocks().get(0);
      assertThat(sent.samePage(5, guest.memory().blocks().get(0))).isTrue();
      assertThat(sent.isZeroPage(6)).as("a hinted page never arrives").isTrue();
    }
  }

  @ParameterizedTest(name = "{0} dirty tracking")
  @MethodSource("io.github.precopy.core.testing.TestMemories#dirtyTrackings")
  void aGuestWritingThroughoutArrivesByteForByte(String tracking) throws Exception {
    MigrationConfig config =
        MigrationConfig.builder()
            .maxBandwidth(64 * MIB)
            .downtimeLimit(Duration.ofMillis(50))
            .dirtyTracking(tracking)
            .build();
    try (TestGuest guest = TestGuest.filled(32 * MIB, seed());
        GuestMemory destination = GuestMemory.anonymous(32 * MIB)) {
      guest.writing(64);

      MigrationStats stats = engine.startInProcess(guest, destination, config).await();

      assertCompletedAndVerified(stats);
      assertThat(stats.ram().dirtySyncCount()).as("the writer dirtied pages").isGreaterThan(1);
      assertThat(guest.writes()).isPositive();
    }
  }

  @Test
  void transferredEqualsTheBytesOfTheRecords() throws Exception {
    try (TestGuest guest = TestGuest.filled(8 * MIB, seed());
        GuestMemory destination = GuestMemory.anonymous(8 * MIB)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      MigrationStats stats = engine.start(guest, MigrationConfig.defaults(), out, s -> {}).await();

      assertThat(stats.status()).isEqualTo(MigrationStatus.COMPLETED);
      assertThat(stats.ram().transferred()).isEqualTo(out.size());
      assertThat(stats.ram().remaining()).isZero();
      assertThat(stats.ram().precopyBytes() + stats.ram().downtimeBytes())
          .isLessThan(stats.ram().transferred());
      DestinationReport report =
          IncomingMigration.restore(new ByteArrayInputStream(out.toByteArray()), destination);
      assertThat(report.completed()).isTrue();
      assertThat(report.bytesRead()).isEqualTo(stats.ram().transferred());
      assertThat(report.normalPages()).isEqualTo(stats.ram().normal());
      assertThat(report.zeroPages()).isEqualTo(stats.ram().duplicate());
      assertThat(stats.ram().normal() + stats.ram().duplicate()).isEqualTo(8 * MIB / PAGE);
    }
  }

  /**
   * A guest of zero pages is sent within the first 100 ms window, which then measures no data page:
   * the migration must still switch over (it spun with nothing left to send before).
   */
  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void aGuestOfZeroPagesSentWithinOneWindowCompletes() throws Exception {
    for (boolean written : new boolean[] {false, true}) {
      try (TestGuest guest = new TestGuest(GuestMemory.anonymous(64 * MIB));
          GuestMemory destination = GuestMemory.anonymous(64 * MIB)) {
        if (written) {
          guest.memory().fill(0, 64 * MIB, (byte) 0);
        }

        MigrationStats stats =
            engine.startInProcess(guest, destination, MigrationConfig.defaults()).await();

        assertThat(stats.status())
            .as("written %s: %s", written, stats)
            .isEqualTo(MigrationStatus.COMPLETED);
        assertThat(stats.ram().normal()).isZero();
      }
    }
  }

  @Test
  void cancelLeavesTheGuestRunningWithItsMemoryIntact() throws Exception {
    RecordingProvider recorder = new RecordingProvider("recorder");
    MigrationEngine withRecorder = MigrationEngine.builder().addProvider(recorder).build();
    MigrationConfig config =
        MigrationConfig.builder().capability("recorder").maxBandwidth(32 * MIB).build();
    long writtenPages = 16;
    try (TestGuest guest = TestGuest.filled(64 * MIB, seed());
        GuestMemory destination = GuestMemory.anonymous(64 * MIB);
        GuestMemory copy = GuestMemory.anonymous(64 * MIB)) {
      copyPages(guest.memory(), copy);
      guest.writing(writtenPages);
      CompletableFuture<Void> sending = new CompletableFuture<>();
      PrecopyMigration migration =
          withRecorder.startInProcess(
              guest,
              destination,
              config,
              stats -> {
                if (stats.ram().normal() > 0) {
                  sending.complete(null);
                }
              });
      sending.get(30, TimeUnit.SECONDS);

      migration.cancel();
      MigrationStats stats = migration.await(30, TimeUnit.SECONDS);

      assertThat(stats).isNotNull();
      assertThat(stats.status()).isEqualTo(MigrationStatus.CANCELLED);
      assertThat(guest.isRunning()).isTrue();
      long writes = guest.writes();
      guest.awaitWritesBeyond(writes, Duration.ofSeconds(10));
      assertThat(recorder.phases).endsWith(CLEANUP);
      for (long page = writtenPages; page < 64 * MIB / PAGE; page++) {
        assertThat(guest.memory().blocks().get(0).samePage(page, copy.blocks().get(0)))
            .as("page %d", page)
            .isTrue();
      }
    }
  }

  @Test
  void progressListenerIsCalledAtLeastEveryHundredMilliseconds() throws Exception {
    List<MigrationStats> snapshots = new CopyOnWriteArrayList<>();
    CompletableFuture<MigrationStats> last = new CompletableFuture<>();
    MigrationConfig config =
        MigrationConfig.builder()
            .maxBandwidth(64 * MIB)
            .downtimeLimit(Duration.ofMillis(10))
            .build();
    try (TestGuest guest = TestGuest.filled(64 * MIB, seed());
        GuestMemory destination = GuestMemory.anonymous(64 * MIB)) {
      MigrationStats stats =
          engine
              .startInProcess(
                  guest,
                  destination,
                  config,
                  snapshot -> {
                    snapshots.add(snapshot);
                    if (snapshot.status().isFinal()) {
                      last.complete(snapshot);
                    }
                  })
              .await();
      assertThat(last.get(10, TimeUnit.SECONDS).status()).isEqualTo(MigrationStatus.COMPLETED);

      assertCompletedAndVerified(stats);
      assertThat(stats.totalTimeMillis()).isGreaterThanOrEqualTo(700);
      // One call per 100 ms window; allow a few late ones on a loaded machine.
      assertThat(snapshots).hasSizeGreaterThanOrEqualTo((int) (stats.totalTimeMillis() / 100) - 3);
      assertThat(snapshots.get(snapshots.size() - 1).status()).isEqualTo(MigrationStatus.COMPLETED);
      assertThat(snapshots).extracting(s -> s.ram().transferred()).isSorted();
    }
  }

  @Test
  void bandwidthLimitIsHonoured() throws Exception {
    // A short downtime limit, so that the final, unthrottled copy is small.
    MigrationConfig config =
        MigrationConfig.builder()
            .maxBandwidth(64 * MIB)
            .downtimeLimit(Duration.ofMillis(10))
            .build();
    try (TestGuest guest = TestGuest.filled(32 * MIB, seed());
        GuestMemory destination = GuestMemory.anonymous(32 * MIB)) {
      MigrationStats stats = engine.startInProcess(guest, destination, config).await();

      assertCompletedAndVerified(stats);
      // 28 MiB of data pages at 64 MiB/s take at least 0.4 s (budget granted per 100 ms window),
      // and a limit that is honoured, not overshot downwards, keeps it well under 2 s.
      assertThat(stats.totalTimeMillis()).isBetween(350L, 2_000L);
    }
  }

  /**
   * A round of 64 MiB at 8 MiB/s lasts 8 s, and the guest's writer never lets it converge; a 500 ms
   * timeout must still end precopy within one 100 ms window of it, not at the end of the round.
   */
  @Test
  void aTimeoutThatFailsEndsTheMigrationWithinAWindowEvenInTheMiddleOfARound() throws Exception {
    long timeoutMillis = 500;
    MigrationConfig config =
        MigrationConfig.builder()
            .maxBandwidth(8 * MIB)
            .convergencePolicy(
                ConvergencePolicies.bounded(
                    Long.MAX_VALUE,
                    Duration.ofMillis(timeoutMillis),
                    ConvergencePolicies.GiveUp.FAIL))
            .build();
    try (TestGuest guest = TestGuest.filled(64 * MIB, seed()).writing(1024);
        GuestMemory destination = GuestMemory.anonymous(64 * MIB)) {
      MigrationStats stats = engine.startInProcess(guest, destination, config).await();

      assertThat(stats.status()).as("%s", stats).isEqualTo(MigrationStatus.FAILED);
      assertThat(stats.errorDescription()).startsWith("convergence policy gave up after 2 syncs");
      assertThat(stats.ram().remaining()).as("still in the bulk round").isPositive();
      MigrationStats.Round decided = stats.rounds().get(stats.rounds().size() - 1);
      assertThat(decided.endMillis())
          .as("the sync for the decision, after the timeout and within a window and a slack")
          .isBetween(timeoutMillis, timeoutMillis + WINDOW_MILLIS + SLACK_MILLIS);
      assertThat(stats.totalTimeMillis()).isLessThanOrEqualTo(timeoutMillis + 2 * SLACK_MILLIS);
      assertThat(guest.isRunning()).isTrue();
    }
  }

  @Test
  void aTimeoutThatSwitchesOverDecidesWithinAWindowEvenInTheMiddleOfARound() throws Exception {
    long timeoutMillis = 500;
    MigrationConfig config =
        MigrationConfig.builder()
            .maxBandwidth(8 * MIB)
            .convergencePolicy(
                ConvergencePolicies.bounded(
                    Long.MAX_VALUE,
                    Duration.ofMillis(timeoutMillis),
                    ConvergencePolicies.GiveUp.SWITCH_OVER))
            .build();
    try (TestGuest guest = TestGuest.filled(64 * MIB, seed()).writing(1024);
        GuestMemory destination = GuestMemory.anonymous(64 * MIB)) {
      MigrationStats stats = engine.startInProcess(guest, destination, config).await();

      assertCompletedAndVerified(stats);
      List<MigrationStats.Round> rounds = stats.rounds();
      MigrationStats.Round decided = rounds.get(rounds.size() - 2);
      assertThat(decided.guestRunning()).isTrue();
      assertThat(decided.endMillis())
          .as("the last sync while the guest ran, after which the policy switched over")
          .isBetween(timeoutMillis, timeoutMillis + WINDOW_MILLIS + SLACK_MILLIS);
      assertThat(rounds.get(rounds.size() - 1).guestRunning()).isFalse();
      // The final copy of what is left (most of the guest) runs unthrottled, after the decision.
      assertThat(stats.ram().downtimeBytes()).isPositive();
    }
  }

  private static void assertCompletedAndVerified(MigrationStats stats) {
    assertThat(stats.status()).as("%s", stats).isEqualTo(MigrationStatus.COMPLETED);
    assertThat(stats.errorDescription()).isNull();
    assertThat(stats.verification()).isNotNull();
    assertThat(stats.verification().pagesChecked()).isPositive();
    assertThat(stats.verification().mismatches()).as("%s", stats).isZero();
    assertThat(stats.ram().remaining()).isZero();
  }

  private static void copyPages(GuestMemory from, GuestMemory to) {
    byte[] page = new byte[PAGE];
    for (long p = 0; p < from.totalPages(); p++) {
      from.blocks().get(0).readPage(p, page, 0);
      to.write(p * PAGE, page, 0, PAGE);
    }
  }

  private static long seed() {
    long seed = Long.getLong("precopy.seed", System.nanoTime());
    System.out.println("PrecopyMigrationTest seed=" + seed);
    return seed;
  }
}
