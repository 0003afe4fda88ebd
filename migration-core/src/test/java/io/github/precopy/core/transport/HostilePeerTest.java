package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.testing.Loopback;
import io.github.precopy.core.testing.TestGuest;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Scripted hostile peers on loopback, written byte by byte from the documented exchange rather than
 * with the production classes: destinations that forge their reply. Whatever they do, the other end
 * fails within its bounds, and says why.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class HostilePeerTest {

  private static final long MIB = 1 << 20;
  private static final long GREETING = 0x505245434F505941L;

  private final MigrationEngine engine = MigrationEngine.create();

  /** Item 6 of issue 11. */
  @Test
  void aReplyWhoseCountsDifferFromWhatTheSourceSentFailsTheMigration() throws Exception {
    try (TestGuest guest = TestGuest.filled(4 * MIB, 34);
        ForgingDestination forger =
            new ForgingDestination(new DestinationReport(true, 0, 0, 0, 1, 0, null), false)) {
      MigrationStats stats = migrate(guest, forger.port(), TransportOptions.defaults());

      assertThat(stats.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(stats.errorDescription())
          .contains("127.0.0.1:" + forger.port())
          .contains("verified 1 page", "digested 1024")
          .contains("applied 0 PAGE records, the source sent " + stats.ram().normal())
          .contains("read 0 bytes, the source wrote " + stats.ram().transferred());
      assertThat(stats.verification()).isNull();
      assertThat(guest.isRunning()).isTrue();
    }
    Loopback.assertNoTransportThreadLeft();
  }

  /** Item 10 of issue 11: a reply before the end of the stream, forged to say completed. */
  @Test
  void anEarlyForgedReplyFailsTheMigrationSayingSo() throws Exception {
    try (TestGuest guest = TestGuest.filled(16 * MIB, 35);
        ForgingDestination forger =
            new ForgingDestination(new DestinationReport(true, 0, 0, 0, 1, 0, null), true)) {
      MigrationStats stats = migrate(guest, forger.port(), TransportOptions.defaults());

      assertThat(stats.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(stats.errorDescription())
          .isEqualTo(
              "the destination 127.0.0.1:"
                  + forger.port()
                  + " replied before the end of the stream that the migration completed");
      assertThat(guest.isRunning()).isTrue();
    }
    Loopback.assertNoTransportThreadLeft();
  }

  private MigrationStats migrate(TestGuest guest, int port, TransportOptions options)
      throws InterruptedException {
    MigrationStats stats =
        engine
            .start(
                guest,
                MigrationConfig.defaults(),
                MigrationTarget.tcp("127.0.0.1", port, options),
                s -> {})
            .await(40, TimeUnit.SECONDS);
    assertThat(stats).as("the migration ended within 40 s").isNotNull();
    return stats;
  }

  /** Reads to the end of input, or until a read fails or times out; then returns true. */
  private static boolean drain(InputStream in) {
    byte[] buffer = new byte[64 * 1024];
    try {
      while (in.read(buffer) >= 0) {
        // discard
      }
    } catch (IOException resetOrTimedOut) {
      // reset by the peer, or held long enough: it ended all the same
    }
    return true;
  }

  /**
   * A destination that greets one source, then replies with a forged report: at once, or once it
   * has drained the whole stream.
   */
  private static final class ForgingDestination implements AutoCloseable {
    private final ServerSocket server;
    private final Thread thread;

    ForgingDestination(DestinationReport forged, boolean early) throws IOException {
      server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
      thread =
          new Thread(
              () -> {
                try (Socket socket = server.accept()) {
                  DataInputStream in = new DataInputStream(socket.getInputStream());
                  OutputStream out = socket.getOutputStream();
                  in.readLong();
                  out.write(ByteBuffer.allocate(8).putLong(GREETING).array());
                  if (early) {
                    forged.writeTo(out);
                  }
                  drain(in);
                  if (!early) {
                    forged.writeTo(out);
                  }
                } catch (IOException e) {
                  // the source went away
                }
              },
              "forging-destination");
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() throws Exception {
      server.close();
      thread.join(10_000);
    }
  }
}
