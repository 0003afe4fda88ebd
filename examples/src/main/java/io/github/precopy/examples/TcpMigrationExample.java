package io.github.precopy.examples;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.DestinationReport;
import io.github.precopy.core.transport.IncomingMigration;
import io.github.precopy.core.transport.MigrationTarget;
import io.github.precopy.core.transport.TransportOptions;
import io.github.precopy.sim.SimulatedGuest;
import io.github.precopy.sim.WorkloadOptions;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A migration over TCP, both ends in this process for the example's sake (in real use they are two
 * processes on two hosts): an {@link IncomingMigration} listens on a loopback port and receives
 * into its own memory, and a simulated 128 MiB guest running the compile workload is sent to it
 * over two channels. The destination checks the digest of the pages in use and replies, so both
 * ends report the same verification. For mutual TLS, add {@code .tls(Tls.pkcs12(...))} to the
 * options of both ends.
 */
public final class TcpMigrationExample {

  private static final long MEMORY_BYTES = 128L << 20;

  private TcpMigrationExample() {}

  /**
   * Runs the example.
   *
   * @throws IllegalStateException if the migration is not complete and verified at both ends
   */
  public static void main(String[] args) throws Exception {
    TransportOptions options = TransportOptions.builder().channels(2).build();
    try (GuestMemory destinationMemory = GuestMemory.anonymous(MEMORY_BYTES);
        IncomingMigration incoming =
            IncomingMigration.listen(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), options);
        SimulatedGuest guest =
            SimulatedGuest.builder()
                .memorySize(MEMORY_BYTES)
                .vcpus(2)
                .seed(7)
                .workload("compile", WorkloadOptions.defaults())
                .build()) {
      CompletableFuture<DestinationReport> received =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return incoming.receive(destinationMemory);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      guest.start();

      MigrationTarget target =
          MigrationTarget.tcp("127.0.0.1", incoming.address().getPort(), options);
      MigrationStats stats =
          MigrationEngine.create()
              .start(guest, MigrationConfig.defaults(), target, s -> {})
              .await();
      DestinationReport report = received.get(60, TimeUnit.SECONDS);

      System.out.printf(
          "source: %s in %d ms, %d bytes, verification %s%n",
          stats.status().qemuName(),
          stats.totalTimeMillis(),
          stats.ram().transferred(),
          stats.verification());
      System.out.printf(
          "destination: %s, %d bytes, %d pages checked, %d mismatches%n",
          report.verified() ? "verified" : "NOT verified: " + report.failure(),
          report.bytesRead(),
          report.pagesVerified(),
          report.mismatches());
      if (stats.status() != MigrationStatus.COMPLETED || !report.verified()) {
        throw new IllegalStateException("the migration did not arrive intact: " + stats);
      }
    }
  }
}
