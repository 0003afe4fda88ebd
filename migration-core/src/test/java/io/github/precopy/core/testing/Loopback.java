package io.github.precopy.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.DestinationReport;
import io.github.precopy.core.transport.IncomingMigration;
import io.github.precopy.core.transport.TransportOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A destination listening on loopback in this process, for transport and fault tests. */
public final class Loopback {

  private static final AtomicInteger COUNT = new AtomicInteger();

  public final IncomingMigration incoming;
  public final CompletableFuture<DestinationReport> report = new CompletableFuture<>();
  public final List<String> notices = new java.util.concurrent.CopyOnWriteArrayList<>();

  private Loopback(IncomingMigration incoming) {
    this.incoming = incoming;
  }

  /** Listens on a free loopback port and receives into {@code memory} on a thread of its own. */
  public static Loopback receive(GuestMemory memory, TransportOptions options) throws IOException {
    Loopback loopback =
        new Loopback(
            IncomingMigration.listen(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), options));
    Thread thread =
        new Thread(
            () -> {
              try {
                loopback.report.complete(loopback.incoming.receive(memory, loopback.notices::add));
              } catch (Throwable e) {
                loopback.report.completeExceptionally(e);
              }
            },
            "test-incoming-" + COUNT.incrementAndGet());
    thread.setDaemon(true);
    thread.start();
    return loopback;
  }

  public int port() {
    return incoming.address().getPort();
  }

  public InetSocketAddress address() {
    return incoming.address();
  }

  public DestinationReport awaitReport() throws Exception {
    return report.get(60, TimeUnit.SECONDS);
  }

  /**
   * Fails unless every transport thread has ended within 10 s: joins each one still running, then
   * looks again, since a thread may end only after another it waited for.
   */
  public static void assertNoTransportThreadLeft() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<Thread> left = transportThreads();
    while (!left.isEmpty() && deadline - System.nanoTime() > 0) {
      for (Thread thread : left) {
        TimeUnit.NANOSECONDS.timedJoin(thread, Math.max(1, deadline - System.nanoTime()));
      }
      left = transportThreads();
    }
    assertThat(left).extracting(Thread::getName).as("transport threads still running").isEmpty();
  }

  private static List<Thread> transportThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .filter(
            thread ->
                thread.getName().startsWith("precopy-channel-")
                    || thread.getName().startsWith("precopy-reply-")
                    || thread.getName().startsWith("precopy-receive-")
                    || thread.getName().startsWith("precopy-accept")
                    || thread.getName().startsWith("precopy-handshake-")
                    || thread.getName().startsWith("precopy-migration-"))
        .toList();
  }
}
