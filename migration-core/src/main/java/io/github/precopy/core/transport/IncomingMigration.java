package io.github.precopy.core.transport;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.stream.MigrationStreamException;
import io.github.precopy.core.stream.MigrationStreamReader;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLSocket;

/**
 * The destination of a migration between processes: listens on one address, accepts the source's
 * channels, loads the stream into a {@link GuestMemory}, checks its digest and replies to the
 * source with the {@link DestinationReport}. Or restores a snapshot file.
 *
 * <p>On each connection (after the TLS handshake, with TLS) the source says hello with 8 bytes,
 * {@code "PRECOPYH"}, and the destination answers {@code "PRECOPYA"}. A connection that does not
 * say hello, or with TLS does not complete the mutual TLS handshake (a plain source, an unknown or
 * missing certificate), is refused and reported, and the destination goes on waiting until the I/O
 * timeout. Connections are taken one at a time, each allowed 10 s (or the I/O timeout if shorter)
 * for its handshake and hello. Without TLS any source that says hello is taken: keep plain TCP on
 * loopback or a trusted network. Every other wait is bounded by the {@linkplain
 * TransportOptions#ioTimeout() I/O timeout}.
 *
 * <p>Thread-safety: {@link #receive} is called once, by one thread; {@link #close()} from any
 * thread stops it.
 */
public final class IncomingMigration implements Closeable {

  private static final System.Logger LOG = System.getLogger(IncomingMigration.class.getName());

  /**
   * The longest a connection may take over its TLS handshake and hello, if the I/O timeout is
   * longer: connections are taken one at a time, so this bounds how long a silent one delays the
   * real source.
   */
  private static final long HANDSHAKE_TIMEOUT_MILLIS = 10_000;

  private final ServerSocket server;
  private final TransportOptions options;
  private final List<Socket> sockets = new ArrayList<>();

  private IncomingMigration(ServerSocket server, TransportOptions options) {
    this.server = server;
    this.options = options;
  }

  /**
   * Binds {@code address} (port 0 picks a free port; see {@link #address()}).
   *
   * @throws IOException if the address cannot be bound
   */
  public static IncomingMigration listen(InetSocketAddress address, TransportOptions options)
      throws IOException {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(options, "options");
    ServerSocket server = new ServerSocket();
    try {
      server.bind(address, options.channels());
    } catch (IOException e) {
      server.close();
      throw new IOException("cannot listen on " + address + ": " + e.getMessage(), e);
    }
    return new IncomingMigration(server, options);
  }

  /** The address listened on, with the port actually bound. */
  public InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  /** As {@link #receive(GuestMemory, Consumer)}, logging refused connections as warnings. */
  public DestinationReport receive(GuestMemory memory) throws IOException {
    return receive(memory, notice -> LOG.log(System.Logger.Level.WARNING, notice));
  }

  /**
   * Accepts the source's channels, receives the stream into {@code memory} (same RAM block layout
   * as the source's), replies to the source and closes the connections and the listening socket.
   *
   * @param notices told of each refused connection, on this thread
   * @return the report; {@link DestinationReport#verified()} says whether the migration is complete
   *     and verified. A stream that failed is reported, not thrown: {@code completed} is then false
   *     and {@code failure} says why; discard the memory.
   * @throws IOException if no (authenticated) source connected all channels within the I/O timeout
   */
  public DestinationReport receive(GuestMemory memory, Consumer<String> notices)
      throws IOException {
    Objects.requireNonNull(memory, "memory");
    try (server) {
      List<Channel> connections = accept(notices);
      server.close();
      List<InputStream> inputs = new ArrayList<>();
      for (Channel connection : connections) {
        inputs.add(connection.input());
      }
      Destination destination = new Destination(memory);
      DestinationReport report;
      try {
        report = destination.receive(inputs);
      } catch (IOException e) {
        report = destination.report().orElseThrow(() -> e);
      }
      for (Channel connection : connections) {
        connection.reply(report);
      }
      return report;
    } finally {
      closeSockets();
    }
  }

  /**
   * Restores a snapshot written to {@link MigrationTarget#file}: loads it into {@code memory} (same
   * layout as the source's) and checks its digest.
   *
   * @return the report; a corrupted, truncated or foreign file is reported with {@code completed}
   *     false and the reason in {@code failure}
   * @throws IOException if the file cannot be opened
   */
  public static DestinationReport restore(Path snapshot, GuestMemory memory) throws IOException {
    Objects.requireNonNull(memory, "memory");
    InputStream in;
    try {
      in = Files.newInputStream(snapshot);
    } catch (NoSuchFileException e) {
      throw new IOException("snapshot " + snapshot + " does not exist", e);
    }
    try (in) {
      return restore(in, memory);
    }
  }

  /**
   * Loads a one-channel stream, as {@link MigrationTarget#stream} writes it, from {@code in} into
   * {@code memory} (same layout as the source's) and checks its digest: the receiving end of a
   * transport of the caller's own. Reads to the end of {@code in}; does not close it.
   *
   * @return the report; a corrupted, truncated or foreign stream is reported with {@code completed}
   *     false and the reason in {@code failure}
   * @throws IOException if reading fails before the stream could be judged
   */
  public static DestinationReport restore(InputStream in, GuestMemory memory) throws IOException {
    Objects.requireNonNull(in, "in");
    Destination destination = new Destination(Objects.requireNonNull(memory, "memory"));
    try {
      return destination.receive(in);
    } catch (IOException e) {
      return destination.report().orElseThrow(() -> e);
    }
  }

  /**
   * Reads the RAM layout a snapshot written to {@link MigrationTarget#file} was taken from, from
   * its header, so that a memory to {@link #restore(Path, GuestMemory) restore} it into can be
   * built ({@link RamLayout#newMemory()}) without knowing the source's configuration. Reads only
   * the header; the rest of the file is checked when it is restored.
   *
   * @throws IOException with a one-line message if the file cannot be read, or is not a precopy
   *     snapshot (a foreign file, a corrupted or truncated header, a stream of several channels, a
   *     block table no memory can have)
   */
  public static RamLayout layoutOf(Path snapshot) throws IOException {
    Objects.requireNonNull(snapshot, "snapshot");
    InputStream in;
    try {
      in = Files.newInputStream(snapshot);
    } catch (NoSuchFileException e) {
      throw new IOException("snapshot " + snapshot + " does not exist", e);
    }
    try (in) {
      MigrationStreamReader reader = new MigrationStreamReader(in);
      List<MigrationStreamReader.BlockEntry> table = reader.readBlockTable();
      if (reader.channelCount() != 1) {
        throw new IOException(
            snapshot
                + " is not a snapshot: it holds channel "
                + reader.channel()
                + " of a "
                + reader.channelCount()
                + "-channel stream");
      }
      List<RamLayout.Block> blocks = new ArrayList<>();
      for (MigrationStreamReader.BlockEntry entry : table) {
        blocks.add(new RamLayout.Block(entry.name(), entry.guestAddress(), entry.usedLength()));
      }
      return new RamLayout(blocks);
    } catch (MigrationStreamException e) {
      throw new IOException(snapshot + " is not a precopy snapshot: " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IOException(
          snapshot + " holds a RAM layout no memory can have: " + e.getMessage(), e);
    }
  }

  /** Stops listening and drops every connection; a {@link #receive} in progress fails. */
  @Override
  public void close() throws IOException {
    server.close();
    closeSockets();
  }

  private List<Channel> accept(Consumer<String> notices) throws IOException {
    long deadline = System.nanoTime() + options.ioTimeout().toNanos();
    int ioMillis = (int) options.ioTimeout().toMillis();
    List<Channel> connections = new ArrayList<>();
    String lastRefusal = null;
    while (connections.size() < options.channels()) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) {
        throw new SocketTimeoutException(
            (connections.isEmpty()
                    ? "no source connected"
                    : "only "
                        + connections.size()
                        + " of "
                        + options.channels()
                        + " channels connected")
                + " to "
                + describe(address())
                + " within "
                + options.ioTimeout().toMillis()
                + " ms"
                + (lastRefusal == null ? "" : "; last refused: " + lastRefusal));
      }
      server.setSoTimeout((int) Math.max(1, left));
      Socket socket;
      try {
        socket = server.accept();
      } catch (SocketTimeoutException e) {
        continue;
      }
      track(socket);
      socket.setSoTimeout((int) Math.min(ioMillis, HANDSHAKE_TIMEOUT_MILLIS));
      socket.setTcpNoDelay(true);
      String peer = describe((InetSocketAddress) socket.getRemoteSocketAddress());
      try {
        SSLSocket tls = null;
        if (options.tls() != null) {
          tls = (SSLSocket) options.tls().getSocketFactory().createSocket(socket, null, true);
          Tls.configure(tls, true);
          tls.startHandshake();
        }
        Channel connection = new Channel(socket, tls, ioMillis);
        connection.handshake();
        socket.setSoTimeout(ioMillis);
        connections.add(connection);
      } catch (IOException e) {
        lastRefusal = peer + ": " + e.getMessage();
        notices.accept("refused connection from " + lastRefusal);
        socket.close();
      }
    }
    return connections;
  }

  private synchronized void track(Socket socket) {
    sockets.add(socket);
  }

  private synchronized void closeSockets() {
    for (Socket socket : sockets) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // Nothing more is sent or received on it.
      }
    }
  }

  private static String describe(InetSocketAddress address) {
    String host =
        address.getAddress() == null
            ? address.getHostString()
            : address.getAddress().getHostAddress();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
  }

  /** One accepted channel: its plain socket and, with TLS, the TLS socket over it. */
  private record Channel(Socket socket, SSLSocket tls, int ioMillis) {

    /**
     * The channel's input. Closing it shuts the socket's input only, which ends a blocked read at
     * once and leaves the output open for the reply; a read that times out says so plainly.
     */
    InputStream input() throws IOException {
      InputStream raw = stream().getInputStream();
      return new FilterInputStream(raw) {
        @Override
        public int read() throws IOException {
          try {
            return super.read();
          } catch (SocketTimeoutException e) {
            throw timedOut();
          }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          try {
            return super.read(b, off, len);
          } catch (SocketTimeoutException e) {
            throw timedOut();
          }
        }

        private SocketTimeoutException timedOut() {
          return new SocketTimeoutException("the source sent nothing for " + ioMillis + " ms");
        }

        @Override
        public void close() throws IOException {
          if (!socket.isInputShutdown() && !socket.isClosed()) {
            socket.shutdownInput();
          }
        }
      };
    }

    /** The socket the stream goes through: TLS over the plain socket, or the plain socket. */
    private Socket stream() {
      return tls == null ? socket : tls;
    }

    /** Reads the source's hello and answers with the greeting. */
    void handshake() throws IOException {
      Handshake.answerHello(stream().getInputStream(), stream().getOutputStream(), tls != null);
    }

    /** Sends the report to the source, if it still listens. */
    void reply(DestinationReport report) {
      try {
        OutputStream out = stream().getOutputStream();
        report.writeTo(out);
      } catch (IOException ignored) {
        // The source has gone; the report is still returned to the caller.
      }
    }
  }
}
