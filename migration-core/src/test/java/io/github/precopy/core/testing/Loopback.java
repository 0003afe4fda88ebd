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

  /** Fails unless every transport thread has ended within a few seconds. */
  public static void assertNoTransportThreadLeft() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<String> left;
    do {
      left =
          Thread.getAllStackTraces().keySet().stream()
              .filter(Thread::isAlive)
              .map(Thread::getName)
              .filter(
                  name ->
                      name.startsWith("precopy-channel-")
                          || name.startsWith("precopy-reply-")
                          || name.startsWith("precopy-receive-")
                          || name.startsWith("precopy-migration-"))
              .toList();
      if (left.isEmpty()) {
        return;
      }
      Thread.sleep(20);
    } while (System.nanoTime() < deadline);
    assertThat(left).as("transport threads still running").isEmpty();
  }
}
