package io.github.precopy.core.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on loopback that injects faults between a source and a destination: it can cut every
 * connection once the source has sent a number of bytes, stall the source's bytes, throttle them,
 * or swallow the destination's bytes after its greeting. Each connection is pumped by two threads
 * that end when either side closes.
 */
public final class LoopbackProxy implements AutoCloseable {

  private static final int GREETING_BYTES = 8;

  private final ServerSocket server;
  private final InetSocketAddress target;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicLong forwarded = new AtomicLong();
  private final List<Milestone> milestones = new CopyOnWriteArrayList<>();
  private volatile long cutAfterBytes = Long.MAX_VALUE;
  private volatile long stallAfterBytes = Long.MAX_VALUE;
  private volatile long bytesPerSecond = Long.MAX_VALUE;
  private volatile boolean muteReplies;
  private volatile boolean closed;

  public LoopbackProxy(InetSocketAddress target) throws IOException {
    this.target = target;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::acceptLoop, "proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Resets every connection once the sources have sent {@code bytes} in all. */
  public LoopbackProxy cutAfter(long bytes) {
    cutAfterBytes = bytes;
    return this;
  }

  /** Stops forwarding the sources' bytes once they have sent {@code bytes}; keeps connections. */
  public LoopbackProxy stallAfter(long bytes) {
    stallAfterBytes = bytes;
    return this;
  }

  /** Forwards the sources' bytes at most this fast, in all. */
  public LoopbackProxy throttle(long bytesPerSecond) {
    this.bytesPerSecond = bytesPerSecond;
    return this;
  }

  /**
   * Forwards the destination's greeting but nothing after it, not even its end: its reply never
   * arrives and the connection stays open.
   */
  public LoopbackProxy muteReplies() {
    muteReplies = true;
    return this;
  }

  /** Bytes of the sources forwarded so far. */
  public long forwarded() {
    return forwarded.get();
  }

  /**
   * Completes once the sources have sent {@code bytes} in all ({@link #forwarded()}), on the thread
   * that read the byte that reached it, or at once if they already have.
   */
  public CompletableFuture<Void> whenForwarded(long bytes) {
    Milestone milestone = new Milestone(bytes, new CompletableFuture<>());
    milestones.add(milestone);
    // Added before reading the count: a pump that counts the last byte after this read sees it.
    if (forwarded.get() >= bytes) {
      milestone.reached().complete(null);
    }
    return milestone.reached();
  }

  private record Milestone(long bytes, CompletableFuture<Void> reached) {}

  private void acceptLoop() {
    try {
      while (!closed) {
        Socket client = server.accept();
        Socket upstream = new Socket();
        upstream.connect(target, 5000);
        sockets.add(client);
        sockets.add(upstream);
        pump(client, upstream, true);
        pump(upstream, client, false);
      }
    } catch (IOException e) {
      // closed
    }
  }

  private void pump(Socket from, Socket to, boolean fromSource) {
    Thread thread =
        new Thread(
            () -> {
              byte[] buffer = new byte[64 * 1024];
              long startNanos = System.nanoTime();
              long replyBytes = 0;
              try {
                // Closing either stream would close its socket; a half-close must pass as one.
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int read;
                while ((read = in.read(buffer)) >= 0) {
                  if (fromSource) {
                    long total = forwarded.addAndGet(read);
                    for (Milestone milestone : milestones) {
                      if (total >= milestone.bytes()) {
                        milestone.reached().complete(null);
                      }
                    }
                    if (total >= cutAfterBytes) {
                      resetAll();
                      return;
                    }
                    while (total >= stallAfterBytes && !closed) {
                      TimeUnit.MILLISECONDS.sleep(20);
                    }
                    pace(total, startNanos);
                    out.write(buffer, 0, read);
                  } else {
                    int keep =
                        muteReplies
                            ? (int) Math.max(0, Math.min(read, GREETING_BYTES - replyBytes))
                            : read;
                    replyBytes += read;
                    out.write(buffer, 0, keep);
                  }
                }
                if (fromSource || !muteReplies) {
                  to.shutdownOutput();
                }
              } catch (IOException | InterruptedException e) {
                // a side closed or the proxy was closed
              }
            },
            fromSource ? "proxy-up" : "proxy-down");
    thread.setDaemon(true);
    thread.start();
  }

  private void pace(long total, long startNanos) throws InterruptedException {
    long rate = bytesPerSecond;
    if (rate != Long.MAX_VALUE) {
      long due = startNanos + (long) (total * 1e9 / rate);
      long wait = due - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
    }
  }

  /** Closes every connection with a reset (linger 0), as a crashed peer or a broken link would. */
  public void resetAll() {
    for (Socket socket : sockets) {
      try {
        socket.setSoLinger(true, 0);
        socket.close();
      } catch (IOException ignored) {
        // already closed
      }
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    resetAll();
  }
}
