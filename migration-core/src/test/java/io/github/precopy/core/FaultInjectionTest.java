package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.testing.Loopback;
import io.github.precopy.core.testing.LoopbackProxy;
import io.github.precopy.core.testing.TestGuest;
import io.github.precopy.core.testing.TestMemories;
import io.github.precopy.core.transport.DestinationReport;
import io.github.precopy.core.transport.MigrationTarget;
import io.github.precopy.core.transport.TransportOptions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Faults between two ends on loopback, injected by a {@link LoopbackProxy} or by closing the
 * destination: whatever happens, the source guest runs on with its memory intact, the migration
 * ends failed or cancelled with its cause within a bounded time, the destination never reports a
 * verified migration it did not get, and no transport thread is left behind.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class FaultInjectionTest {

  private static final long MIB = 1 << 20;
  private static final long GUEST_BYTES = 16 * MIB;

  private final MigrationEngine engine = MigrationEngine.create();

  @Test
  void aDroppedConnectionFailsBothSidesAndTheGuestRunsOn() throws Exception {
    try (Fixture fixture = new Fixture(21, Duration.ofSeconds(5), Duration.ofSeconds(5))) {
      fixture.proxy.cutAfter(4 * MIB);

      MigrationStats stats = fixture.migrate(MigrationConfig.defaults());

      assertThat(stats.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(stats.errorDescription()).isNotBlank();
      fixture.assertGuestUnharmed();
      fixture.assertDestinationFailed();
    }
    Loopback.assertNoTransportThreadLeft();
  }

  @Test
  void aStalledDestinationFailsTheSourceOnceItsTimeoutPasses() throws Exception {
    try (Fixture fixture = new Fixture(22, Duration.ofMillis(500), Duration.ofSeconds(30))) {
      fixture.proxy.stallAfter(2 * MIB);

      long start = System.nanoTime();
      MigrationStats stats = fixture.migrate(MigrationConfig.defaults());
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

      assertThat(stats.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(stats.errorDescription()).contains("took no data for 500 ms");
      assertThat(millis).as("failed long before the destination's own 30 s").isLessThan(20_000);
      fixture.assertGuestUnharmed();
      fixture.proxy.close();
      fixture.assertDestinationFailed();
    }
    Loopback.assertNoTransportThreadLeft();
  }

  @Test
  void aDestinationThatCrashesMidStreamFailsTheSource() throws Exception {
    try (Fixture fixture = new Fixture(23, Duration.ofSeconds(5), Duration.ofSeconds(5))) {
      fixture.proxy.throttle(16 * MIB);
      PrecopyMigration migration = fixture.start(MigrationConfig.defaults());
      awaitForwarded(fixture.proxy, 2 * MIB);

      fixture.destination.incoming.close();
      MigrationStats stats = migration.await(30, TimeUnit.SECONDS);

      assertThat(stats).isNotNull();
      assertThat(stats.status()).isEqualTo(MigrationStatus.FAILED);
      fixture.assertGuestUnharmed();
      fixture.assertDestinationFailed();
    }
    Loopback.assertNoTransportThreadLeft();
  }

  @Test
  void aSlowDestinationSlowsTheMigrationDownAndItStillArrivesVerified() throws Exception {
    try (Fixture fixture = new Fixture(24, Duration.ofSeconds(10), Duration.ofSeconds(10))) {
      fixture.proxy.throttle(24 * MIB);

      MigrationStats stats = fixture.migrate(MigrationConfig.defaults());

      assertThat(stats.status()).as(stats.errorDescription()).isEqualTo(MigrationStatus.COMPLETED);
      assertThat(stats.verification().mismatches()).isZero();
      DestinationReport report = fixture.destination.awaitReport();
      assertThat(report.verified()).isTrue();
      assertThat(TestMemories.inUsePagesEqual(fixture.guest, fixture.destinationMemory)).isTrue();
      assertThat(stats.totalTimeMillis())
          .as("the proxy's pace bounds the migration: back-pressure reached the source")
          .isGreaterThanOrEqualTo(stats.ram().transferred() * 1000 / (24 * MIB) - 100);
    }
    Loopback.assertNoTransportThreadLeft();
  }

  @Test
  void aCancelMidStreamLeavesTheDestinationUnverified() throws Exception {
    try (Fixture fixture = new Fixture(25, Duration.ofSeconds(5), Duration.ofSeconds(5))) {
      fixture.proxy.throttle(8 * MIB);
      PrecopyMigration migration = fixture.start(MigrationConfig.defaults());
      awaitForwarded(fixture.proxy, 1 * MIB);

      migration.cancel();
      MigrationStats stats = migration.await(30, TimeUnit.SECONDS);

      assertThat(stats).isNotNull();
      assertThat(stats.status()).isEqualTo(MigrationStatus.CANCELLED);
      fixture.assertGuestUnharmed();
      fixture.assertDestinationFailed();
    }
    Loopback.assertNoTransportThreadLeft();
  }

  @Test
  void aLostReplyFailsTheMigrationAfterSwitchOverAndResumesTheGuest() throws Exception {
    try (Fixture fixture = new Fixture(26, Duration.ofSeconds(1), Duration.ofSeconds(5))) {
      fixture.proxy.muteReplies();

      MigrationStats stats = fixture.migrate(MigrationConfig.defaults());

      assertThat(stats.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(stats.errorDescription()).contains("sent no reply within 1000 ms");
      assertThat(stats.rounds()).anyMatch(round -> !round.guestRunning());
      fixture.assertGuestUnharmed();
    }
    Loopback.assertNoTransportThreadLeft();
  }

  @Test
  void aSourceThatStopsSendingIsDroppedByTheDestinationAndLearnsWhy() throws Exception {
    try (Fixture fixture = new Fixture(27, Duration.ofSeconds(30), Duration.ofMillis(500))) {
      fixture.proxy.stallAfter(2 * MIB);

      MigrationStats stats = fixture.migrate(MigrationConfig.defaults());

      assertThat(stats.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(stats.errorDescription())
          .contains("rejected the stream", "the source sent nothing for 500 ms");
      fixture.assertGuestUnharmed();
      fixture.assertDestinationFailed();
    }
    Loopback.assertNoTransportThreadLeft();
  }

  private static void awaitForwarded(LoopbackProxy proxy, long bytes) throws Exception {
    try {
      proxy.whenForwarded(bytes).get(20, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("the proxy did not forward " + bytes + " bytes within 20 s", e);
    }
  }

  /** A filled guest with a copy of its memory, a destination and a proxy in front of it. */
  private final class Fixture implements AutoCloseable {
    final TestGuest guest;
    final GuestMemory copy;
    final GuestMemory destinationMemory;
    final Loopback destination;
    final LoopbackProxy proxy;
    final Duration sourceTimeout;

    Fixture(long seed, Duration sourceTimeout, Duration destinationTimeout) throws Exception {
      this.guest = TestGuest.filled(GUEST_BYTES, seed);
      this.copy = GuestMemory.anonymous(GUEST_BYTES);
      for (long page = 0; page < GUEST_BYTES >>> GuestMemory.PAGE_SHIFT; page++) {
        byte[] bytes = new byte[GuestMemory.PAGE_SIZE];
        guest.memory().blocks().get(0).readPage(page, bytes, 0);
        copy.write(page << GuestMemory.PAGE_SHIFT, bytes, 0, bytes.length);
      }
      this.destinationMemory = GuestMemory.anonymous(GUEST_BYTES);
      this.destination =
          Loopback.receive(
              destinationMemory, TransportOptions.builder().ioTimeout(destinationTimeout).build());
      this.proxy = new LoopbackProxy(destination.address());
      this.sourceTimeout = sourceTimeout;
    }

    PrecopyMigration start(MigrationConfig config) {
      return engine.start(
          guest,
          config,
          MigrationTarget.tcp(
              "127.0.0.1",
              proxy.port(),
              TransportOptions.builder().ioTimeout(sourceTimeout).build()),
          s -> {});
    }

    MigrationStats migrate(MigrationConfig config) throws InterruptedException {
      MigrationStats stats = start(config).await(45, TimeUnit.SECONDS);
      assertThat(stats).as("the migration ended within 45 s").isNotNull();
      return stats;
    }

    void assertGuestUnharmed() {
      assertThat(guest.isRunning()).as("the source guest runs").isTrue();
      RamBlock block = guest.memory().blocks().get(0);
      for (long page = 0; page < block.pageCount(); page++) {
        assertThat(block.samePage(page, copy.blocks().get(0))).as("page %d intact", page).isTrue();
      }
    }

    void assertDestinationFailed() throws Exception {
      DestinationReport report = destination.report.handle((r, e) -> r).get(45, TimeUnit.SECONDS);
      if (report != null) {
        assertThat(report.completed()).as("destination report %s", report).isFalse();
        assertThat(report.verified()).isFalse();
        assertThat(report.failure()).isNotBlank();
      }
    }

    @Override
    public void close() throws Exception {
      proxy.close();
      destination.incoming.close();
      destination.report.handle((r, e) -> r).get(45, TimeUnit.SECONDS);
      guest.close();
      copy.close();
      destinationMemory.close();
    }
  }
}
