package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.PrecopyMigration;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.testing.Loopback;
import io.github.precopy.core.testing.TestCertificates;
import io.github.precopy.core.testing.TestGuest;
import io.github.precopy.core.testing.TestMemories;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Migrations over loopback TCP (one and several channels, plain and mutual TLS) into an {@link
 * IncomingMigration} in this process, and into snapshot files. The oracle is the source memory:
 * every page in use arrives byte for byte, and the destination's digest check agrees.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
final class TransportTest {

  private static final long MIB = 1 << 20;

  @TempDir static Path certificateDirectory;
  private static TestCertificates certificates;

  private final MigrationEngine engine = MigrationEngine.create();

  @BeforeAll
  static void makeCertificates() throws Exception {
    certificates = TestCertificates.create(certificateDirectory);
  }

  @ParameterizedTest(name = "{0} channel(s)")
  @ValueSource(ints = {1, 3})
  void plainTcpDeliversEveryPageInUseVerified(int channels) throws Exception {
    TransportOptions options = TransportOptions.builder().channels(channels).build();
    assertMigratesVerified(options, options);
  }

  @Test
  void mutualTlsDeliversEveryPageInUseVerified() throws Exception {
    assertMigratesVerified(
        TransportOptions.builder().channels(2).tls(certificates.source()).build(),
        TransportOptions.builder().channels(2).tls(certificates.destination()).build());
  }

  @Test
  void aSourceWithoutTheRightCertificateIsRefusedAndTheDestinationWaitsForTheRightOne()
      throws Exception {
    try (TestGuest guest = TestGuest.filled(8 * MIB, 11);
        GuestMemory destination = GuestMemory.anonymous(8 * MIB)) {
      Loopback loopback =
          Loopback.receive(
              destination, TransportOptions.builder().tls(certificates.destination()).build());
      TransportOptions intruder = TransportOptions.builder().tls(certificates.intruder()).build();
      TransportOptions plain = TransportOptions.defaults();

      MigrationStats refused = migrate(guest, loopback, intruder);
      MigrationStats refusedPlain = migrate(guest, loopback, plain);
      boolean runningAfterRefusals = guest.isRunning();
      MigrationStats accepted =
          migrate(guest, loopback, TransportOptions.builder().tls(certificates.source()).build());

      assertThat(refused.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(refused.errorDescription()).contains("TLS handshake", "Received fatal alert");
      assertThat(refusedPlain.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(refusedPlain.errorDescription())
          .isEqualTo(
              "the destination 127.0.0.1:"
                  + loopback.port()
                  + " refused: it takes only mutual TLS, and this source connects without TLS");
      assertThat(runningAfterRefusals).as("the guest runs after refusals").isTrue();
      assertThat(loopback.notices)
          .hasSize(2)
          .allSatisfy(
              notice -> assertThat(notice).startsWith("refused connection from 127.0.0.1:"));
      assertThat(loopback.notices.get(1))
          .endsWith(": a precopy source without TLS; this destination takes only mutual TLS");
      assertThat(accepted.status()).isEqualTo(MigrationStatus.COMPLETED);
      assertThat(loopback.awaitReport().verified()).isTrue();
      assertThat(TestMemories.inUsePagesEqual(guest, destination)).isTrue();
    }
  }

  @Test
  void aPlainDestinationRefusesATlsSourceAndStillTakesThePlainOne() throws Exception {
    try (TestGuest guest = TestGuest.filled(4 * MIB, 12);
        GuestMemory destination = GuestMemory.anonymous(4 * MIB)) {
      Loopback loopback = Loopback.receive(destination, TransportOptions.defaults());

      MigrationStats tls =
          migrate(guest, loopback, TransportOptions.builder().tls(certificates.source()).build());
      MigrationStats plain = migrate(guest, loopback, TransportOptions.defaults());

      assertThat(tls.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(tls.errorDescription())
          .contains("TLS handshake", "is it set up for TLS?")
          .doesNotContain("trust");
      assertThat(loopback.notices)
          .singleElement()
          .asString()
          .contains("not a precopy source", "it began a TLS handshake");
      assertThat(plain.status()).isEqualTo(MigrationStatus.COMPLETED);
      assertThat(loopback.awaitReport().verified()).isTrue();
    }
  }

  @Test
  void aConnectionThatSaysNothingDoesNotDelayTheSourceAndIsRefused() throws Exception {
    try (TestGuest guest = TestGuest.filled(4 * MIB, 18);
        GuestMemory destination = GuestMemory.anonymous(4 * MIB)) {
      Loopback loopback = Loopback.receive(destination, TransportOptions.defaults());
      try (Socket silent = new Socket(InetAddress.getLoopbackAddress(), loopback.port())) {
        // The connect returning is the event to wait for: the kernel has queued the silent
        // connection before the source's. Handshakes run side by side, each with its own
        // deadline, so the silent one no longer holds the source up; it is refused once the
        // source's channels have all arrived (the notice below names its port).

        long start = System.nanoTime();
        MigrationStats stats = migrate(guest, loopback, TransportOptions.defaults());
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(stats.status())
            .as(stats.errorDescription())
            .isEqualTo(MigrationStatus.COMPLETED);
        assertThat(loopback.awaitReport().verified()).isTrue();
        assertThat(loopback.notices)
            .singleElement()
            .asString()
            .startsWith("refused connection from 127.0.0.1:" + silent.getLocalPort() + ": ");
        assertThat(millis).as("not delayed by the silent connection").isLessThan(5_000L);
      }
    }
  }

  @Test
  void aDestinationOfAnotherLayoutRejectsTheStreamAndTheSourceSaysWhy() throws Exception {
    try (TestGuest guest = TestGuest.filled(16 * MIB, 13);
        GuestMemory destination = GuestMemory.anonymous(8 * MIB)) {
      Loopback loopback = Loopback.receive(destination, TransportOptions.defaults());

      MigrationStats stats = migrate(guest, loopback, TransportOptions.defaults());

      assertThat(stats.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(stats.errorDescription())
          .contains("rejected the stream", "used length 16777216, destination's has 8388608");
      assertThat(guest.isRunning()).isTrue();
      DestinationReport report = loopback.awaitReport();
      assertThat(report.completed()).isFalse();
      assertThat(report.verified()).isFalse();
    }
  }

  @Test
  void differentChannelCountsFailOnBothSides() throws Exception {
    try (TestGuest guest = TestGuest.filled(4 * MIB, 14);
        GuestMemory destination = GuestMemory.anonymous(4 * MIB)) {
      Loopback loopback =
          Loopback.receive(
              destination,
              TransportOptions.builder().channels(2).ioTimeout(Duration.ofSeconds(3)).build());

      MigrationStats stats =
          migrate(
              guest,
              loopback,
              TransportOptions.builder().channels(3).ioTimeout(Duration.ofSeconds(3)).build());

      assertThat(stats.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(stats.errorDescription())
          .contains("the source uses 3 channels, this destination expects 2");
      assertThat(guest.isRunning()).isTrue();
      DestinationReport report = loopback.awaitReport();
      assertThat(report.completed()).isFalse();
      assertThat(report.verified()).isFalse();
    }
    Loopback.assertNoTransportThreadLeft();
  }

  /**
   * Item 1 of issue 11: with the default 60 s I/O timeout on both ends, a channel mismatch fails
   * both at once, each naming both counts.
   */
  @ParameterizedTest(name = "source {0}, destination {1}")
  @CsvSource({"1, 2", "2, 1", "4, 64"})
  void aChannelCountMismatchFailsBothEndsAtOnceNamingBothCounts(int source, int destination)
      throws Exception {
    String expected =
        "the source uses "
            + source
            + (source == 1 ? " channel" : " channels")
            + ", this destination expects "
            + destination;
    try (TestGuest guest = TestGuest.filled(4 * MIB, 19);
        GuestMemory memory = GuestMemory.anonymous(4 * MIB)) {
      Loopback loopback =
          Loopback.receive(memory, TransportOptions.builder().channels(destination).build());
      long start = System.nanoTime();

      MigrationStats stats =
          migrate(guest, loopback, TransportOptions.builder().channels(source).build());
      long sourceMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      DestinationReport report = loopback.report.get(5, TimeUnit.SECONDS);
      long destinationMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

      assertThat(stats.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(stats.errorDescription())
          .isEqualTo("the destination 127.0.0.1:" + loopback.port() + " refused: " + expected);
      assertThat(report.completed()).isFalse();
      assertThat(report.failure()).isEqualTo(expected);
      assertThat(sourceMillis).as("the source failed at once").isLessThan(5_000);
      assertThat(destinationMillis).as("the destination failed at once").isLessThan(5_000);
      assertThat(loopback.incoming.source()).isPresent();
      assertThat(guest.isRunning()).isTrue();
    }
    Loopback.assertNoTransportThreadLeft();
  }

  /** Item 10 of issue 11: no stray slash before the address. */
  @Test
  void listeningOnABusyPortSaysWhichAddress() throws Exception {
    try (java.net.ServerSocket busy =
        new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      java.net.InetSocketAddress address =
          new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), busy.getLocalPort());

      assertThatThrownBy(() -> IncomingMigration.listen(address, TransportOptions.defaults()))
          .isInstanceOf(java.io.IOException.class)
          .hasMessageStartingWith("cannot listen on 127.0.0.1:" + busy.getLocalPort() + ": ");
    }
  }

  @Test
  void aSnapshotFileRestoresVerifiedAndIsNeverLeftHalfWritten(@TempDir Path directory)
      throws Exception {
    Path snapshot = directory.resolve("guest.snapshot");
    try (TestGuest guest = TestGuest.filled(16 * MIB, 15);
        GuestMemory destination = GuestMemory.anonymous(16 * MIB)) {
      guest.markFree(100, 200);

      MigrationStats stats =
          engine
              .start(guest, MigrationConfig.defaults(), MigrationTarget.file(snapshot), s -> {})
              .await();
      DestinationReport report = IncomingMigration.restore(snapshot, destination);

      assertThat(stats.status()).isEqualTo(MigrationStatus.COMPLETED);
      assertThat(stats.ram().transferred()).isEqualTo(Files.size(snapshot));
      assertThat(directory.resolve("guest.snapshot.partial")).doesNotExist();
      assertThat(report.verified()).isTrue();
      assertThat(report.pagesVerified()).isEqualTo(16 * MIB / 4096 - 100);
      assertThat(report.bytesRead()).isEqualTo(Files.size(snapshot));
      assertThat(TestMemories.inUsePagesEqual(guest, destination)).isTrue();
    }
  }

  @Test
  void aCancelledSnapshotLeavesNoFileBehind(@TempDir Path directory) throws Exception {
    Path snapshot = directory.resolve("guest.snapshot");
    try (TestGuest guest = TestGuest.filled(32 * MIB, 16)) {
      CompletableFuture<MigrationStats> underway = new CompletableFuture<>();
      PrecopyMigration migration =
          engine.start(
              guest,
              MigrationConfig.builder().maxBandwidth(8 * MIB).build(),
              MigrationTarget.file(snapshot),
              progress -> {
                if (progress.ram().transferred() >= MIB) {
                  underway.complete(progress);
                }
              });
      MigrationStats midway = underway.get(30, TimeUnit.SECONDS);
      assertThat(midway.status()).as("still sending").isEqualTo(MigrationStatus.ACTIVE);
      assertThat(directory.resolve("guest.snapshot.partial")).exists();

      migration.cancel();
      MigrationStats stats = migration.await(30, TimeUnit.SECONDS);

      assertThat(stats).isNotNull();
      assertThat(stats.status()).isEqualTo(MigrationStatus.CANCELLED);
      assertThat(guest.isRunning()).isTrue();
      assertThat(directory).isEmptyDirectory();
    }
    Loopback.assertNoTransportThreadLeft();
  }

  private void assertMigratesVerified(TransportOptions source, TransportOptions destination)
      throws Exception {
    try (TestGuest guest = TestGuest.filled(32 * MIB, 17);
        GuestMemory memory = GuestMemory.anonymous(32 * MIB)) {
      guest.markFree(1000, 3000);
      Loopback loopback = Loopback.receive(memory, destination);

      MigrationStats stats = migrate(guest, loopback, source);
      DestinationReport report = loopback.awaitReport();

      assertThat(stats.status()).as(stats.errorDescription()).isEqualTo(MigrationStatus.COMPLETED);
      long inUse = 32 * MIB / 4096 - 2000;
      assertThat(stats.verification()).isEqualTo(new MigrationStats.Verification(inUse, 0));
      assertThat(report.verified()).isTrue();
      assertThat(report.pagesVerified()).isEqualTo(inUse);
      assertThat(report.bytesRead()).isEqualTo(stats.ram().transferred());
      assertThat(report.normalPages()).isEqualTo(stats.ram().normal());
      assertThat(report.zeroPages()).isEqualTo(stats.ram().duplicate());
      assertThat(TestMemories.inUsePagesEqual(guest, memory)).isTrue();
    }
    Loopback.assertNoTransportThreadLeft();
  }

  private MigrationStats migrate(TestGuest guest, Loopback loopback, TransportOptions options)
      throws InterruptedException {
    return engine
        .start(
            guest,
            MigrationConfig.defaults(),
            MigrationTarget.tcp("127.0.0.1", loopback.port(), options),
            s -> {})
        .await();
  }
}
