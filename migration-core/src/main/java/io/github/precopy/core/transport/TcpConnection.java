package io.github.precopy.core.transport;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.engine.Connection;
import io.github.precopy.core.stream.MigrationStreamWriter;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.SocketChannel;
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
final class TcpConnection implements Connection {

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

  /** Whether a thread reads the reply: not until every channel is connected. */
  private volatile boolean watching;

  /** Whether the reply came before the end of the stream: the destination gave up, or lies. */
  private volatile boolean repliedEarly;

  /** The stream's writer, whose counts the reply must match. */
  private MigrationStreamWriter writer;

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
    for (int i = 0; i < options.channels(); i++) {
      connect(address, i);
    }
    watchForReply(streams.get(0).getInputStream());
    if (options.tls() == null) {
      writer =
          new MigrationStreamWriter(
              streams.stream().map(Socket::getChannel).toList(), options.ioTimeout());
      return writer;
    }
    List<OutputStream> outputs = new ArrayList<>();
    for (Socket stream : streams) {
      outputs.add(stream.getOutputStream());
    }
    writer = MigrationStreamWriter.overStreams(outputs, options.ioTimeout());
    return writer;
  }

  /**
   * Connects channel {@code index}: a {@link SocketChannel}, whose gathering writes send frame
   * header and page buffer in one call, or TLS over a plain socket; then says hello.
   */
  private void connect(InetSocketAddress address, int index) throws IOException {
    Socket socket = options.tls() == null ? SocketChannel.open().socket() : new Socket();
    register(socket);
    connect(socket, address, index);
    socket.setTcpNoDelay(true);
    socket.setSoTimeout((int) options.ioTimeout().toMillis());
    if (options.tls() == null) {
      streams.add(socket);
      sayHello(socket, index);
      return;
    }
    SSLSocket tls =
        (SSLSocket) options.tls().getSocketFactory().createSocket(socket, host, port, true);
    streams.add(tls);
    Tls.configure(tls, false);
    try {
      tls.startHandshake();
    } catch (IOException e) {
      throw new IOException(
          "TLS handshake with " + name + " failed: " + e.getMessage() + handshakeHint(e), e);
    }
    try {
      sayHello(tls, index);
    } catch (IOException e) {
      // TLS 1.3: the destination judges this source's certificate after the client's side of the
      // handshake is done, so its refusal arrives as an alert when the source first reads.
      IOException reason = e instanceof SSLException ? e : alertAfter(tls, e);
      if (!(reason instanceof SSLException)) {
        throw e;
      }
      throw new IOException(
          "TLS handshake with "
              + name
              + " failed: "
              + reason.getMessage()
              + " (does it trust this source's certificate?)",
          e);
    }
  }

  /**
   * The TLS alert that explains a failed write or a missing greeting, if the destination sent one.
   */
  private static IOException alertAfter(SSLSocket tls, IOException failure) {
    try {
      tls.getInputStream().read();
      return failure;
    } catch (IOException alert) {
      return alert;
    }
  }

  /**
   * What a failed client handshake suggests: a destination that sent no TLS at all is plain; one
   * whose certificate this source cannot check is not in its trust store.
   */
  private static String handshakeHint(IOException e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof java.security.cert.CertificateException) {
        return " (is the destination's certificate, or its CA, in this source's trust store?)";
      }
      String message = cause.getMessage();
      if (message != null && message.startsWith("Received fatal alert")) {
        return "";
      }
    }
    return " (it ended the handshake without a word of TLS: is it set up for TLS?)";
  }

  /**
   * Says hello and reads the destination's answer, which proves it took the connection (with TLS:
   * that it accepted this source's certificate, which TLS 1.3 tells a client only on its first
   * read).
   */
  private void sayHello(Socket stream, int index) throws IOException {
    Handshake.Answer answer;
    try {
      answer =
          Handshake.sayHello(
              stream.getOutputStream(), stream.getInputStream(), index, options.channels());
    } catch (SocketTimeoutException e) {
      throw new IOException(
          name + " did not greet within " + options.ioTimeout().toMillis() + " ms", e);
    } catch (SSLException e) {
      throw e;
    } catch (EOFException e) {
      throw noGreeting(index, null);
    } catch (IOException e) {
      throw noGreeting(index, e);
    }
    if (answer.refusal() != null) {
      throw new IOException("the destination " + name + " refused: " + answer.refusal());
    }
    if (!answer.greeted()) {
      throw new IOException(name + " is not a precopy destination (it sent no precopy greeting)");
    }
  }

  private IOException noGreeting(int index, IOException cause) {
    return new IOException(
        name
            + " closed "
            + (options.channels() > 1 ? "channel " + index : "the connection")
            + " without greeting (is it a precopy destination? it may have refused this"
            + " connection: its log says why)"
            + (cause == null ? "" : ": " + cause.getMessage()),
        cause);
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
              + (index == 0 ? " (is a precopy destination listening there?)" : ""),
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
    watching = true;
    Thread watcher =
        new Thread(
            () -> {
              try {
                DestinationReport report = DestinationReport.readFrom(in);
                // A reply is due only after the end of stream, which is after ended is set.
                repliedEarly = !ended;
                reply.complete(report);
                if (repliedEarly) {
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

  /** Half-closes every channel, then waits for the destination's reply, bounded. */
  @Override
  public void finish() throws IOException {
    ended = true;
    DestinationReport report;
    try {
      for (Socket stream : streams) {
        stream.shutdownOutput();
      }
      report = reply.get(options.ioTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IOException(
          "the destination "
              + name
              + " sent no reply within "
              + options.ioTimeout().toMillis()
              + " ms",
          e);
    } catch (ExecutionException e) {
      throw new IOException(
          "the destination " + name + " sent no reply: " + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for the reply of " + name);
    } finally {
      closeAll();
    }
    if (repliedEarly && report.completed()) {
      throw repliedCompletedEarly(null);
    }
    if (!report.completed()) {
      throw rejected(report, null);
    }
    checkCounts(report);
  }

  /**
   * A reply that says completed must count what this source sent: a destination that drained the
   * stream without applying it, or lost part of it, must not pass for one that took it all.
   */
  private void checkCounts(DestinationReport report) throws IOException {
    List<String> differences = new ArrayList<>();
    if (report.pagesVerified() != writer.digestPagesWritten()) {
      differences.add(
          "it verified "
              + report.pagesVerified()
              + (report.pagesVerified() == 1 ? " page" : " pages")
              + ", the source digested "
              + writer.digestPagesWritten());
    }
    if (report.normalPages() != writer.normalPagesWritten()) {
      differences.add(
          "it applied "
              + report.normalPages()
              + " PAGE records, the source sent "
              + writer.normalPagesWritten());
    }
    if (report.encodedPages() != writer.encodedPagesWritten()) {
      differences.add(
          "it applied "
              + report.encodedPages()
              + " ENCODED records, the source sent "
              + writer.encodedPagesWritten());
    }
    if (report.zeroPages() != writer.zeroPagesWritten()) {
      differences.add(
          "it applied "
              + report.zeroPages()
              + " ZERO records, the source sent "
              + writer.zeroPagesWritten());
    }
    if (report.bytesRead() != writer.bytesWritten()) {
      differences.add(
          "it read " + report.bytesRead() + " bytes, the source wrote " + writer.bytesWritten());
    }
    if (!differences.isEmpty()) {
      throw new IOException(
          "the destination "
              + name
              + " replied that the migration completed, but its counts are not the stream's: "
              + String.join("; ", differences));
    }
  }

  private IOException repliedCompletedEarly(Throwable cause) {
    return new IOException(
        "the destination "
            + name
            + " replied before the end of the stream that the migration completed",
        cause);
  }

  @Override
  public Verified verify(PageBitmap[] inUse) {
    DestinationReport report = reply.getNow(null);
    return report == null || report.pagesVerified() == 0
        ? null
        : new Verified(report.pagesVerified(), report.mismatches());
  }

  /**
   * A transport error is explained by the destination's reason, if it gave up and said why (waits
   * for it, bounded); then the connections are closed.
   */
  @Override
  public Throwable stop(Throwable failure) {
    Throwable explained = explain(failure);
    abort(failure);
    return explained;
  }

  private Throwable explain(Throwable failure) {
    if (!(failure instanceof IOException) || !watching || reply.isCompletedExceptionally()) {
      return failure;
    }
    try {
      DestinationReport report = reply.get(EXPLAIN_WAIT_MILLIS, TimeUnit.MILLISECONDS);
      if (report.completed()) {
        return repliedEarly ? repliedCompletedEarly(failure) : failure;
      }
      return rejected(report, failure);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return failure;
    } catch (ExecutionException | TimeoutException e) {
      return failure;
    }
  }

  private IOException rejected(DestinationReport report, Throwable cause) {
    return new IOException(
        "the destination " + name + " rejected the stream: " + report.failure(), cause);
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
