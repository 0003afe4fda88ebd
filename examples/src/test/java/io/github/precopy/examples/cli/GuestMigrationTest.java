package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.transport.MigrationTarget;
import io.github.precopy.core.transport.TransportOptions;
import io.github.precopy.sim.WorkloadOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs of a simulated guest, below the command line. */
@Timeout(60)
final class GuestMigrationTest {

  private static final GuestSpec GUEST =
      new GuestSpec(64L << 20, 2, "idle", WorkloadOptions.defaults(), 3);

  @Test
  void aDestinationThatNeverAnswersFailsTheRunWithinTheIoTimeout() throws Exception {
    GuestMigration migration = new GuestMigration(MigrationEngine.create(), GUEST);
    ProgressBar silent = new ProgressBar(new PrintWriter(new StringWriter()), false);
    // The kernel completes the connection in the backlog; nobody ever accepts or reads it.
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      MigrationTarget target =
          MigrationTarget.tcp(
              "127.0.0.1",
              server.getLocalPort(),
              TransportOptions.builder().ioTimeout(Duration.ofMillis(500)).build());

      RunResult run = migration.toTarget("legacy", MigrationConfig.defaults(), target, silent);

      assertThat(run.stats().status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(run.stats().errorDescription()).endsWith("did not greet within 500 ms");
    }
  }

  @Test
  void everyRunRecordsRemainingBytesInTimeOrderEndingAtZero() throws Exception {
    GuestMigration migration = new GuestMigration(MigrationEngine.create(), GUEST);
    ProgressBar silent = new ProgressBar(new PrintWriter(new StringWriter()), false);

    RunResult run = migration.inProcess("legacy", MigrationConfig.defaults(), silent);

    assertThat(run.samples()).isNotEmpty();
    assertThat(run.samples())
        .isSortedAccordingTo((a, b) -> Long.compare(a.timeMillis(), b.timeMillis()));
    assertThat(run.samples().get(run.samples().size() - 1).remainingBytes()).isZero();
    assertThat(run.capabilities()).isEmpty();
    assertThat(run.hintedPages()).isZero();
  }
}
