package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.testing.Loopback;
import io.github.precopy.core.testing.StreamBytes;
import io.github.precopy.core.testing.TestGuest;
import io.github.precopy.core.testing.TestMemories;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Scripted hostile peers on loopback, written byte by byte from the documented exchange (hello
 * {@code "PRECOPYH"}, channel index and count; greeting {@code "PRECOPYA"}) rather than with the
 * production classes: sources that dribble, stay silent, reconnect or send garbage after a valid
 * hello, and destinations that forge their reply. Whatever they do, the other end fails or goes on
 * within its bounds, and says why.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class HostilePeerTest {

  private static final long MIB = 1 << 20;
  private static final long HELLO = 0x505245434F505948L;
  private static final long GREETING = 0x505245434F505941L;

  private final MigrationEngine engine = MigrationEngine.create();

  /** Item 2 of issue 11: a frame announced as 1 MiB, then one byte every 250 ms. */
  @Test
  void aSourceThatDribblesAFrameIsDroppedWithinTheTimeoutAndToldWhy() throws Exception {
    try (GuestMemory memory = GuestMemory.anonymous(4 * MIB)) {
      Loopback destination =
          Loopback.receive(
              memory, TransportOptions.builder().ioTimeout(Duration.ofSeconds(2)).build());
      try (Socket socket = connect(destination)) {
        OutputStream out = socket.getOutputStream();
        out.write(hello(0, 1));
        assertThat(new DataInputStream(socket.getInputStream()).readLong()).isEqualTo(GREETING);
        out.write(StreamBytes.header(memory).toByteArray());
        out.flush();

        long start = System.nanoTime();
        out.write(ByteBuffer.allocate(8).putInt(1 << 20).putInt(0).array());
        out.flush();
        CompletableFuture<DestinationReport> report = destination.report;
        for (int i = 0; i < 60 && !report.isDone(); i++) {
          try {
            out.write(0x5A);
            out.flush();
          } catch (IOException dropped) {
            break;
          }
          try {
            report.get(250, TimeUnit.MILLISECONDS);
          } catch (TimeoutException stillReceiving) {
            // the pace of the dribble: one byte per 250 ms while the destination still waits
          }
        }
        DestinationReport received = destination.awaitReport();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(received.completed()).isFalse();
        assertThat(received.failure())
            .matches("the source sent only \\d+ bytes of a frame in 2000 ms");
        assertThat(millis).as("dropped within the 2 s timeout").isBetween(1900L, 2600L);
        DestinationReport reply = DestinationReport.readFrom(socket.getInputStream());
        assertThat(reply.failure()).isEqualTo(received.failure());
      }
    }
    Loopback.assertNoTransportThreadLeft();
  }

  /** Item 3 of issue 11. */
  @Test
  void aSourceGetsThroughWhileFourSilentClientsKeepReconnecting() throws Exception {
    try (TestGuest guest = TestGuest.filled(4 * MIB, 31);
        GuestMemory memory = GuestMemory.anonymous(4 * MIB)) {
      Loopback destination = Loopback.receive(memory, TransportOptions.defaults());
      try (SilentClients silent = new SilentClients(destination.address(), 4, 200)) {
        silent.awaitReconnected();

        long start = System.nanoTime();
        MigrationStats stats = migrate(guest, destination, TransportOptions.defaults());
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(stats.status())
            .as(stats.errorDescription())
            .isEqualTo(MigrationStatus.COMPLETED);
        assertThat(millis).as("not held up by the silent clients").isLessThan(5_000);
        assertThat(destination.awaitReport().verified()).isTrue();
        assertThat(TestMemories.inUsePagesEqual(guest, memory)).isTrue();
        assertThat(destination.notices)
            .isNotEmpty()
            .allSatisfy(notice -> assertThat(notice).startsWith("refused connection from "));
      }
    }
    Loopback.assertNoTransportThreadLeft();
  }

  /** Item 3 of issue 11: more silent clients than handshakes may wait at once. */
  @Test
  void moreSilentClientsThanMayWaitAtOnceDoNotLockTheSourceOut() throws Exception {
    try (TestGuest guest = TestGuest.filled(4 * MIB, 32);
        GuestMemory memory = GuestMemory.anonymous(4 * MIB)) {
      Loopback destination = Loopback.receive(memory, TransportOptions.defaults());
      try (SilentClients silent = new SilentClients(destination.address(), 40, 0)) {
        silent.awaitConnected();

        long start = System.nanoTime();
        MigrationStats stats = migrate(guest, destination, TransportOptions.defaults());
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(stats.status())
            .as(stats.errorDescription())
            .isEqualTo(MigrationStatus.COMPLETED);
        assertThat(millis).as("not held up by the silent clients").isLessThan(5_000);
        assertThat(destination.awaitReport().verified()).isTrue();
        assertThat(destination.notices).anyMatch(notice -> notice.contains("to make room"));
      }
    }
    Loopback.assertNoTransportThreadLeft();
  }

  /** Item 3 of issue 11: garbage after a valid hello is a refused connection, not the end. */
  @Test
  void aPeerThatSendsGarbageAfterAValidHelloIsRefusedAndTheSourceBehindItMigrates()
      throws Exception {
    try (TestGuest guest = TestGuest.filled(4 * MIB, 33);
        GuestMemory memory = GuestMemory.anonymous(4 * MIB)) {
      Loopback destination = Loopback.receive(memory, TransportOptions.defaults());
      int hostilePort;
      try (Socket hostile = connect(destination)) {
        hostilePort = hostile.getLocalPort();
        OutputStream out = hostile.getOutputStream();
        out.write(hello(0, 1));
        byte[] garbage = new byte[64];
        java.util.Arrays.fill(garbage, (byte) 0x41);
        out.write(garbage);
        out.flush();
        InputStream in = hostile.getInputStream();
        assertThat(new DataInputStream(in).readLong()).isEqualTo(GREETING);
        // The event to wait for: the destination has judged the connection and closed it.
        assertThat(drain(in)).as("the destination closed the connection").isTrue();
      }

      MigrationStats stats = migrate(guest, destination, TransportOptions.defaults());

      assertThat(stats.status()).as(stats.errorDescription()).isEqualTo(MigrationStatus.COMPLETED);
      assertThat(destination.awaitReport().verified()).isTrue();
      assertThat(destination.notices)
          .singleElement()
          .asString()
          .startsWith("refused connection from 127.0.0.1:" + hostilePort + ": ")
          .contains("bad magic 0x4141414141414141");
    }
    Loopback.assertNoTransportThreadLeft();
  }

  /** Item 6 of issue 11. */
  @Test
  void aReplyWhoseCountsDifferFromWhatTheSourceSentFailsTheMigration() throws Exception {
    try (TestGuest guest = TestGuest.filled(4 * MIB, 34);
        ForgingDestination forger =
            new ForgingDestination(new DestinationReport(true, 0, 0, 0, 0, 1, 0, null), false)) {
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
            new ForgingDestination(new DestinationReport(true, 0, 0, 0, 0, 1, 0, null), true)) {
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

  private MigrationStats migrate(TestGuest guest, Loopback destination, TransportOptions options)
      throws InterruptedException {
    return migrate(guest, destination.port(), options);
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

  private static Socket connect(Loopback destination) throws IOException {
    return new Socket(InetAddress.getLoopbackAddress(), destination.port());
  }

  /** A hello as the documented exchange has it: magic, be16 channel index, be16 channel count. */
  private static byte[] hello(int channel, int channels) {
    return ByteBuffer.allocate(12)
        .putLong(HELLO)
        .putShort((short) channel)
        .putShort((short) channels)
        .array();
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
   * Clients that connect and say nothing; each connects again once the destination closes it or, if
   * {@code holdMillis} is positive, once it has held the connection that long; until closed.
   */
  private static final class SilentClients implements AutoCloseable {
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final CountDownLatch connected;
    private final CountDownLatch reconnected;
    private final CountDownLatch closing = new CountDownLatch(1);

    SilentClients(InetSocketAddress address, int count, int holdMillis) {
      connected = new CountDownLatch(count);
      reconnected = new CountDownLatch(count);
      for (int i = 0; i < count; i++) {
        Thread thread =
            new Thread(
                () -> {
                  int connects = 0;
                  while (closing.getCount() > 0) {
                    try (Socket socket = new Socket()) {
                      sockets.add(socket);
                      socket.connect(address, 5000);
                      if (++connects == 1) {
                        connected.countDown();
                      } else if (connects == 2) {
                        reconnected.countDown();
                      }
                      socket.setSoTimeout(holdMillis);
                      drain(socket.getInputStream());
                    } catch (IOException e) {
                      // held long enough, refused or closed: connect again unless closing, but
                      // not in a busy loop once the destination no longer listens
                      try {
                        closing.await(holdMillis > 0 ? 10 : 50, TimeUnit.MILLISECONDS);
                      } catch (InterruptedException interrupted) {
                        return;
                      }
                    }
                  }
                },
                "silent-client-" + i);
        thread.setDaemon(true);
        thread.start();
        threads.add(thread);
      }
    }

    void awaitConnected() throws InterruptedException {
      assertThat(connected.await(20, TimeUnit.SECONDS)).as("silent clients connected").isTrue();
    }

    void awaitReconnected() throws InterruptedException {
      assertThat(reconnected.await(20, TimeUnit.SECONDS)).as("silent clients reconnected").isTrue();
    }

    @Override
    public void close() throws Exception {
      closing.countDown();
      for (Socket socket : sockets) {
        socket.close();
      }
      for (Thread thread : threads) {
        thread.join(10_000);
      }
    }
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
