package io.github.precopy.core;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.stream.DestinationReport;
import io.github.precopy.core.stream.MigrationStreamWriter;
import io.github.precopy.core.stream.OutputStreamChannel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * The source's side of a TCP migration: connects every channel (a {@link SocketChannel}, whose
 * gathering writes send frame header and page buffer in one call, or an {@link SSLSocket} over a
 * plain socket for TLS), half-closes them after the end of stream, and reads the destination's
 * reply on channel 0. Aborting closes the plain sockets, which unblocks any write at once.
 */
final class TcpConnection implements PrecopyMigration.Completion {

  /** How long a failed write waits for the destination's reason. */
  private static final long EXPLAIN_WAIT_MILLIS = 1000;

  private final String host;
  private final int port;
  private final String name;
  private final TransportOptions options;
  private final List<Socket> sockets = new ArrayList<>();

  /** Per channel, the socket the stream goes through: the plain one, or TLS over it. */
  private final List<Socket> streams = new ArrayList<>();

  private final CompletableFuture<DestinationReport> reply = new CompletableFuture<>();
  private volatile boolean aborted;
  private volatile boolean ended;

  TcpConnection(String host, int port, String name, TransportOptions options) {
    this.host = host;
    this.port = port;
    this.name = name;
    this.options = options;
  }

  @Override
  public MigrationStreamWriter open() throws IOException {
    InetSocketAddress address = new InetSocketAddress(host, port);
    if (address.isUnresolved()) {
      throw new IOException("cannot connect to " + name + ": unknown host " + host);
    }
    List<WritableByteChannel> channels = new ArrayList<>();
    for (int i = 0; i < options.channels(); i++) {
      channels.add(connect(address, i));
    }
    watchForReply(streams.get(0).getInputStream());
    return new MigrationStreamWriter(channels, options.ioTimeout());
  }

  private WritableByteChannel connect(InetSocketAddress address, int index) throws IOException {
    SocketChannel plain = options.tls() == null ? SocketChannel.open() : null;
    Socket socket = plain == null ? new Socket() : plain.socket();
    register(socket);
    connect(socket, address, index);
    socket.setTcpNoDelay(true);
    socket.setSoTimeout((int) options.ioTimeout().toMillis());
    if (plain != null) {
      streams.add(socket);
      awaitGreeting(socket.getOutputStream(), socket.getInputStream(), index);
      return plain;
    }
    SSLSocket tls =
        (SSLSocket) options.tls().getSocketFactory().createSocket(socket, host, port, true);
    streams.add(tls);
    Tls.configure(tls, false);
    try {
      tls.startHandshake();
      awaitGreeting(tls.getOutputStream(), tls.getInputStream(), index);
    } catch (IOException e) {
      IOException reason = e instanceof SSLException ? e : alertAfter(tls, e);
      throw new IOException(
          "TLS handshake with "
              + name
              + " failed: "
              + reason.getMessage()
              + " (does it trust this source's certificate?)",
          e);
    }
    return new OutputStreamChannel(tls.getOutputStream());
  }

  private IOException noGreeting(int index, IOException cause) {
    return new IOException(
        name
            + " closed "
            + (options.channels() > 1 ? "channel " + index : "the connection")
            + " without greeting"
            + (options.tls() == null
                ? " (does it expect TLS, or other --channels?)"
                : " (is it set up for TLS, with these --channels?)")
            + (cause == null ? "" : ": " + cause.getMessage()),
        cause);
  }

  /**
   * The TLS alert that explains a failed write, if the destination sent one: with TLS 1.3 a client
   * learns that its certificate was refused only when it reads.
   */
  private static IOException alertAfter(SSLSocket tls, IOException writeFailure) {
    try {
      tls.getInputStream().read();
      return writeFailure;
    } catch (IOException alert) {
      return alert;
    }
  }

  /**
   * Says hello and reads the destination's greeting, which proves it took the connection (with TLS:
   * that it accepted this source's certificate, which TLS 1.3 tells a client only on its first
   * read).
   */
  private void awaitGreeting(OutputStream out, InputStream in, int index) throws IOException {
    byte[] greeting = new byte[Long.BYTES];
    int done = 0;
    try {
      out.write(ByteBuffer.allocate(Long.BYTES).putLong(IncomingMigration.HELLO).array());
      out.flush();
      while (done < greeting.length) {
        int read = in.read(greeting, done, greeting.length - done);
        if (read < 0) {
          throw noGreeting(index, null);
        }
        done += read;
      }
    } catch (SocketTimeoutException e) {
      throw new IOException(
          name + " did not greet within " + options.ioTimeout().toMillis() + " ms", e);
    } catch (SSLException e) {
      throw e;
    } catch (IOException e) {
      throw noGreeting(index, e);
    }
    if (ByteBuffer.wrap(greeting).getLong() != IncomingMigration.GREETING) {
      throw new IOException(name + " is not a precopy destination (it sent no precopy greeting)");
    }
  }

  private synchronized void register(Socket socket) throws IOException {
    if (aborted) {
      socket.close();
      throw new IOException("connection to " + name + " aborted");
    }
    sockets.add(socket);
  }

  private void connect(Socket socket, InetSocketAddress address, int index) throws IOException {
    try {
      socket.connect(address, (int) options.connectTimeout().toMillis());
    } catch (IOException e) {
      throw new IOException(
          "cannot connect "
              + (options.channels() > 1 ? "channel " + index + " " : "")
              + "to "
              + name
              + ": "
              + e.getMessage()
              + (index == 0
                  ? " (is 'precopy incoming' listening there?)"
                  : " (does it expect fewer --channels?)"),
          e);
    }
  }

  /**
   * Reads the destination's reply on a thread of its own, from the start: a reply before the end of
   * stream means the destination gave up, and the connections are closed at once so that the
   * migration fails with its reason rather than sending on into the void.
   */
  private void watchForReply(InputStream in) throws IOException {
    sockets.get(0).setSoTimeout(0);
    Thread watcher =
        new Thread(
            () -> {
              try {
                reply.complete(DestinationReport.readFrom(in));
                if (!ended) {
                  closeAll();
                }
              } catch (IOException | RuntimeException e) {
                reply.completeExceptionally(e);
              }
            },
            "precopy-reply-" + name);
    watcher.setDaemon(true);
    watcher.start();
  }

  @Override
  public boolean remote() {
    return true;
  }

  @Override
  public void endOfStream() throws IOException {
    ended = true;
    for (Socket stream : streams) {
      stream.shutdownOutput();
    }
  }

  @Override
  public void awaitDestination() throws Exception {
    DestinationReport report;
    try {
      report = reply.get(options.ioTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new MigrationFailedException(
          "the destination "
              + name
              + " sent no reply within "
              + options.ioTimeout().toMillis()
              + " ms",
          e);
    } catch (ExecutionException e) {
      throw new MigrationFailedException(
          "the destination " + name + " sent no reply: " + e.getCause().getMessage(), e.getCause());
    } finally {
      closeAll();
    }
    if (!report.completed()) {
      throw new MigrationFailedException(
          "the destination " + name + " rejected the stream: " + report.failure());
    }
  }

  @Override
  public MigrationStats.Verification verify(PageBitmap[] inUse) {
    DestinationReport report = reply.getNow(null);
    return report == null || report.pagesVerified() == 0
        ? null
        : new MigrationStats.Verification(report.pagesVerified(), report.mismatches());
  }

  @Override
  public Throwable explain(Throwable failure) {
    if (!(failure instanceof IOException) || reply.isCompletedExceptionally()) {
      return failure;
    }
    try {
      DestinationReport report = reply.get(EXPLAIN_WAIT_MILLIS, TimeUnit.MILLISECONDS);
      return report.completed()
          ? failure
          : new MigrationFailedException(
              "the destination " + name + " rejected the stream: " + report.failure(), failure);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return failure;
    } catch (ExecutionException | TimeoutException e) {
      return failure;
    }
  }

  @Override
  public void abort(Throwable cause) {
    aborted = true;
    closeAll();
  }

  private synchronized void closeAll() {
    for (Socket socket : sockets) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // Closing is all that is left to do with this connection.
      }
    }
  }
}
