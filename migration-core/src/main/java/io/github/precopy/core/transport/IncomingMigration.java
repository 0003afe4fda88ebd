package io.github.precopy.core.transport;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.stream.MigrationStreamException;
import io.github.precopy.core.stream.MigrationStreamReader;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * The destination of a migration between processes: listens on one address, accepts the source's
 * channels, loads the stream into a {@link GuestMemory}, checks its digest and replies to the
 * source with the {@link DestinationReport}. Or restores a snapshot file.
 *
 * <p>Accepting a channel takes its whole opening: the TLS handshake where there is one, the hello
 * and its answer ({@code Handshake}), and the stream's prelude and channel header, which must fit
 * this memory. Connections are taken as they come and opened side by side, each on a thread of its
 * own and within its own deadlines (10 s, or the I/O timeout if shorter, for the TLS handshake and
 * the hello, and as long again, once greeted, for the header); at most 16 more than the channel
 * count are opened at once, and when that many are, the oldest that has not said hello yet is
 * dropped to make room (or, if all have, the new one is refused). A connection that fails its
 * opening (no hello, a failed TLS handshake, garbage after a valid hello, a deadline passed) is
 * refused and reported, and the destination goes on waiting, until the I/O timeout, for a source
 * whose channels all open. Two exceptions end the wait at once, because they come from a real
 * precopy source that does not fit: a hello whose channel count differs (both ends then name both
 * counts), and a channel header, in a frame whose checksum holds, that does not fit this memory.
 * Without TLS any source that says hello is taken: keep plain TCP on loopback or a trusted network.
 *
 * <p>Once the channels are taken, every read is bounded by the {@linkplain
 * TransportOptions#ioTimeout() I/O timeout}, and so is each frame as a whole, from its first byte
 * to its last: a source that trickles a frame is dropped and told why.
 *
 * <p>Thread-safety: {@link #receive} is called once, by one thread; {@link #close()} from any
 * thread stops it.
 */
public final class IncomingMigration implements Closeable {

  private static final System.Logger LOG = System.getLogger(IncomingMigration.class.getName());

  /**
   * The longest a connection may take over its TLS handshake and hello, and then over its stream
   * header, if the I/O timeout is longer.
   */
  private static final long HANDSHAKE_TIMEOUT_MILLIS = 10_000;

  /** How many connections beyond the channel count may be opening at once. */
  static final int EXTRA_HANDSHAKES = 16;

  private static final AtomicInteger HANDSHAKE_THREADS = new AtomicInteger();

  private final ServerSocket server;
  private final TransportOptions options;
  private final Set<Socket> sockets = new HashSet<>();
  private final StreamPlugins plugins = StreamPlugins.onClassPath();
  private boolean socketsClosed;
  private volatile InetSocketAddress source;

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
    // A channel's socket, so that a plain TCP connection reads pages straight into guest RAM.
    ServerSocket server = ServerSocketChannel.open().socket();
    try {
      server.bind(address, maxHandshakes(options));
    } catch (IOException e) {
      server.close();
      throw new IOException("cannot listen on " + describe(address) + ": " + e.getMessage(), e);
    }
    return new IncomingMigration(server, options);
  }

  private static int maxHandshakes(TransportOptions options) {
    return options.channels() + EXTRA_HANDSHAKES;
  }

  /** The address listened on, with the port actually bound. */
  public InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  /**
   * The address the source connected from (its channel 0's), once {@link #receive} has taken its
   * channels or refused it because its channel count differs; empty before, or if no source came.
   */
  public Optional<InetSocketAddress> source() {
    return Optional.ofNullable(source);
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
   *     and {@code failure} says why; discard the memory. A source whose channel count differs, or
   *     whose channel header does not fit {@code memory}, is such a failure.
   * @throws IOException if no (authenticated) source opened all channels within the I/O timeout
   */
  public DestinationReport receive(GuestMemory memory, Consumer<String> notices)
      throws IOException {
    Objects.requireNonNull(memory, "memory");
    Objects.requireNonNull(notices, "notices");
    try (server) {
      Admission admission = new Admission(memory, notices).run();
      server.close();
      source = admission.source;
      if (admission.failure != null) {
        return admission.failure;
      }
      List<Channel> channels = admission.channels;
      List<ChannelInput> inputs = channels.stream().map(Channel::input).toList();
      Destination destination = new Destination(memory, plugins);
      DestinationReport report;
      ChannelInput.Watchdog watchdog =
          new ChannelInput.Watchdog(inputs, options.ioTimeout().toMillis());
      try {
        report = destination.receive(inputs, channels.stream().map(Channel::reader).toList());
      } catch (IOException e) {
        report = destination.report().orElseThrow(() -> e);
      } finally {
        watchdog.stop();
      }
      for (Channel channel : channels) {
        channel.reply(report);
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

  /** Tracks an accepted socket so that {@link #close()} drops it; closes it if too late. */
  private synchronized boolean track(Socket socket) {
    if (socketsClosed) {
      closeQuietly(socket);
      return false;
    }
    sockets.add(socket);
    return true;
  }

  private synchronized void untrack(Socket socket) {
    sockets.remove(socket);
    closeQuietly(socket);
  }

  private synchronized void closeSockets() {
    socketsClosed = true;
    for (Socket socket : sockets) {
      closeQuietly(socket);
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Nothing more is sent or received on it.
    }
  }

  private static String describe(InetSocketAddress address) {
    String host =
        address.getAddress() == null
            ? address.getHostString()
            : address.getAddress().getHostAddress();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
  }

  private static String message(Throwable e) {
    String message = e.getMessage();
    return message == null ? e.toString() : message;
  }

  /** The report of a stream that failed before any of it was applied. */
  private static DestinationReport failedReport(String failure) {
    return new DestinationReport(false, 0, 0, 0, 0, 0, 0, failure);
  }

  private static String plural(long count, String noun) {
    return count + " " + noun + (count == 1 ? "" : "s");
  }

  /**
   * One wait for a source: an acceptor thread hands each connection to this thread, which opens it
   * on a thread of its own, bounds how many open at once and how long each takes, and collects the
   * opened channels by migration until one migration has them all.
   */
  private final class Admission {
    private final GuestMemory memory;
    private final Consumer<String> notices;
    private final long handshakeNanos;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final Set<Opening> opening = new LinkedHashSet<>();
    private final Map<Long, Channel[]> migrations = new HashMap<>();
    private int refused;

    /** The outcome: the channels of one migration in index order, or a failure. */
    private List<Channel> channels;

    private DestinationReport failure;
    private InetSocketAddress source;

    Admission(GuestMemory memory, Consumer<String> notices) {
      this.memory = memory;
      this.notices = notices;
      this.handshakeNanos =
          TimeUnit.MILLISECONDS.toNanos(
              Math.min(options.ioTimeout().toMillis(), HANDSHAKE_TIMEOUT_MILLIS));
    }

    Admission run() throws IOException {
      long deadline = System.nanoTime() + options.ioTimeout().toNanos();
      Thread acceptor = new Thread(this::acceptLoop, "precopy-accept");
      acceptor.setDaemon(true);
      acceptor.start();
      boolean done = false;
      try {
        while (!done) {
          long now = System.nanoTime();
          long wait = deadline - now;
          if (wait <= 0) {
            throw timedOut();
          }
          for (Opening connection : List.copyOf(opening)) {
            long left = connection.deadline - now;
            if (left <= 0) {
              drop(connection, "no " + connection.stage + " within " + handshakeMillis() + " ms");
            } else {
              wait = Math.min(wait, left);
            }
          }
          Event event = events.poll(wait, TimeUnit.NANOSECONDS);
          if (event != null) {
            done = handle(event);
          }
        }
        return this;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for a source");
      } finally {
        String when =
            channels != null
                ? "a source's channels had all arrived"
                : failure != null ? "the migration failed" : "the wait ended";
        for (Opening connection : List.copyOf(opening)) {
          connection.dropped = "still in its " + connection.stage + " when " + when;
          refuse(connection, connection.dropped);
        }
        // What is posted from now on is not read; the sockets are all closed at the end.
      }
    }

    private long handshakeMillis() {
      return TimeUnit.NANOSECONDS.toMillis(handshakeNanos);
    }

    private SocketTimeoutException timedOut() {
      int most = 0;
      for (Channel[] migration : migrations.values()) {
        most = Math.max(most, (int) Arrays.stream(migration).filter(Objects::nonNull).count());
      }
      return new SocketTimeoutException(
          (most == 0
                  ? "no source connected"
                  : "only " + most + " of " + options.channels() + " channels connected")
              + " to "
              + describe(address())
              + " within "
              + options.ioTimeout().toMillis()
              + " ms"
              + (refused == 0 ? "" : "; " + plural(refused, "connection") + " refused"));
    }

    private void acceptLoop() {
      while (true) {
        Socket socket;
        try {
          socket = server.accept();
        } catch (IOException e) {
          events.add(new AcceptFailed(e));
          return;
        }
        if (track(socket)) {
          events.add(new Connected(socket));
        }
      }
    }

    /** Handles one event; true once the wait is over. */
    private boolean handle(Event event) throws IOException {
      if (event instanceof Connected connected) {
        connected(connected.socket);
        return false;
      }
      if (event instanceof Refused refusal) {
        refuse(refusal.opening, refusal.reason);
        return false;
      }
      if (event instanceof Admitted admitted) {
        return admit(admitted.opening, admitted.channel);
      }
      if (event instanceof Failed failed) {
        return fail(failed);
      }
      throw ((AcceptFailed) event).failure;
    }

    private void connected(Socket socket) {
      InetSocketAddress peer = (InetSocketAddress) socket.getRemoteSocketAddress();
      if (opening.size() >= maxHandshakes(options)) {
        Opening oldest = null;
        for (Opening connection : opening) {
          if (!connection.saidHello) {
            oldest = connection;
            break;
          }
        }
        if (oldest == null) {
          refused++;
          notices.accept(
              "refused connection from "
                  + describe(peer)
                  + ": "
                  + maxHandshakes(options)
                  + " connections that said hello are still opening");
          untrack(socket);
          return;
        }
        drop(
            oldest,
            "dropped before it said hello, to make room for a newer connection (at most "
                + maxHandshakes(options)
                + " open at once)");
      }
      Opening connection = new Opening(socket, peer, System.nanoTime() + handshakeNanos);
      opening.add(connection);
      Thread thread =
          new Thread(
              () -> open(connection), "precopy-handshake-" + HANDSHAKE_THREADS.incrementAndGet());
      thread.setDaemon(true);
      thread.start();
    }

    /** Ends a connection's opening from this thread; its own thread then reports it refused. */
    private void drop(Opening connection, String reason) {
      opening.remove(connection);
      connection.dropped = reason;
      closeQuietly(connection.socket);
    }

    private void refuse(Opening connection, String reason) {
      opening.remove(connection);
      refused++;
      notices.accept(
          "refused connection from "
              + describe(connection.peer)
              + ": "
              + (connection.dropped != null ? connection.dropped : reason));
      untrack(connection.socket);
    }

    private boolean admit(Opening connection, Channel channel) {
      if (connection.dropped != null) {
        refuse(connection, connection.dropped);
        return false;
      }
      opening.remove(connection);
      MigrationStreamReader reader = channel.reader();
      Channel[] migration =
          migrations.computeIfAbsent(reader.migrationId(), id -> new Channel[options.channels()]);
      if (migration[reader.channel()] != null) {
        refuse(
            connection,
            "channel "
                + reader.channel()
                + " of migration 0x"
                + Long.toHexString(reader.migrationId())
                + " arrived twice");
        return false;
      }
      migration[reader.channel()] = channel;
      if (Arrays.stream(migration).anyMatch(Objects::isNull)) {
        return false;
      }
      channels = List.of(migration);
      source = migration[0].peer;
      for (Channel[] other : migrations.values()) {
        if (other != migration) {
          for (Channel stray : other) {
            if (stray != null) {
              refused++;
              notices.accept(
                  "refused connection from "
                      + describe(stray.peer)
                      + ": channel "
                      + stray.reader().channel()
                      + " of another migration, whose other channels did not all arrive");
              stray.reply(failedReport("the destination took another source's migration first"));
              untrack(stray.socket);
            }
          }
        }
      }
      return true;
    }

    private boolean fail(Failed failed) {
      opening.remove(failed.opening);
      source = failed.opening.peer;
      failure = failedReport(failed.failure);
      if (failed.replyToSource) {
        // A precopy source whose stream does not fit: tell it on every channel that was greeted,
        // so that its channel 0, which reads the reply, learns why.
        failed.opening.reply(failure);
        for (Opening connection : opening) {
          connection.reply(failure);
        }
      }
      return true;
    }

    /** Opens one connection, on its own thread, and tells the waiting thread how it went. */
    private void open(Opening connection) {
      try {
        events.add(new Admitted(connection, handshake(connection)));
      } catch (Mismatch e) {
        events.add(new Failed(connection, e.getMessage(), e.replyToSource));
      } catch (IOException | RuntimeException e) {
        String reason =
            e instanceof SSLException ? "TLS handshake failed: " + message(e) : message(e);
        connection.reply(failedReport("connection refused: " + reason));
        events.add(new Refused(connection, reason));
      }
    }

    private Channel handshake(Opening connection) throws IOException {
      Socket socket = connection.socket;
      socket.setTcpNoDelay(true);
      socket.setSoTimeout((int) handshakeMillis());
      SSLSocket tls = null;
      if (options.tls() != null) {
        connection.stage = "TLS handshake";
        tls = startTls(socket);
      }
      Socket stream = tls == null ? socket : tls;
      connection.stage = "hello";
      Handshake.Hello hello = Handshake.readHello(stream.getInputStream(), tls != null);
      connection.saidHello = true;
      if (hello.channels() != options.channels()) {
        Handshake.refuseChannelCount(
            stream.getOutputStream(), hello.channels(), options.channels());
        throw new Mismatch(Handshake.channelMismatch(hello.channels(), options.channels()), false);
      }
      Handshake.greet(stream.getOutputStream());
      Channel channel = new Channel(socket, tls, connection.peer, options.ioTimeout().toMillis());
      connection.greeted = channel;
      connection.stage = "stream header";
      // The source writes its headers once it has connected every channel: channel 0's comes
      // after the others' handshakes, so the header stage has a deadline of its own.
      connection.deadline = System.nanoTime() + handshakeNanos;
      MigrationStreamReader reader = channel.reader();
      try {
        reader.readHeader(memory.blocks());
      } catch (MigrationStreamException e) {
        if (reader.framesRead() > 0) {
          throw new Mismatch(e.getMessage(), true);
        }
        throw e;
      }
      try {
        plugins.equip(reader);
      } catch (IOException e) {
        throw new Mismatch(e.getMessage(), true);
      }
      if (reader.channel() != hello.channel() || reader.channelCount() != hello.channels()) {
        throw new IOException(
            "its stream header names channel "
                + reader.channel()
                + " of "
                + reader.channelCount()
                + ", its hello channel "
                + hello.channel()
                + " of "
                + hello.channels());
      }
      socket.setSoTimeout((int) options.ioTimeout().toMillis());
      return channel;
    }

    /**
     * The server's side of TLS. A plain precopy source is told, in plain text, that this
     * destination takes only TLS: its first byte is the hello's, where a TLS client's is a record
     * type.
     */
    private SSLSocket startTls(Socket socket) throws IOException {
      InputStream raw = socket.getInputStream();
      int first = raw.read();
      if (first < 0) {
        throw new IOException("closed before its TLS handshake");
      }
      if (Handshake.mayStartHello(first)) {
        byte[] hello = new byte[Handshake.HELLO_BYTES];
        hello[0] = (byte) first;
        new DataInputStream(raw).readFully(hello, 1, hello.length - 1);
        Handshake.parseHello(hello, true);
        Handshake.refuseWithoutTls(socket.getOutputStream(), options.channels());
        throw new IOException(
            "a precopy source without TLS; this destination takes only mutual TLS");
      }
      SSLSocket tls =
          (SSLSocket)
              options
                  .tls()
                  .getSocketFactory()
                  .createSocket(socket, new ByteArrayInputStream(new byte[] {(byte) first}), true);
      Tls.configure(tls, true);
      tls.startHandshake();
      return tls;
    }
  }

  /** A connection being opened, as both its own thread and the waiting thread see it. */
  private static final class Opening {
    final Socket socket;
    final InetSocketAddress peer;

    /** When the opening is due: set at accept, and again once greeted, for the stream header. */
    volatile long deadline;

    volatile String stage = "hello";
    volatile boolean saidHello;

    /** Once greeted: the channel, to which a failure can be replied. */
    volatile Channel greeted;

    /** Set by the waiting thread when it ends the opening, before it closes the socket. */
    volatile String dropped;

    Opening(Socket socket, InetSocketAddress peer, long deadline) {
      this.socket = socket;
      this.peer = peer;
      this.deadline = deadline;
    }

    void reply(DestinationReport report) {
      Channel channel = greeted;
      if (channel != null) {
        channel.reply(report);
      }
    }
  }

  /** What a connection's opening tells the waiting thread. */
  private sealed interface Event permits Connected, AcceptFailed, Admitted, Refused, Failed {}

  private record Connected(Socket socket) implements Event {}

  private record AcceptFailed(IOException failure) implements Event {}

  private record Admitted(Opening opening, Channel channel) implements Event {}

  private record Refused(Opening opening, String reason) implements Event {}

  private record Failed(Opening opening, String failure, boolean replyToSource) implements Event {}

  /** A precopy source that does not fit: ends the wait with a failure. */
  private static final class Mismatch extends IOException {
    private static final long serialVersionUID = 1L;
    final boolean replyToSource;

    Mismatch(String message, boolean replyToSource) {
      super(message);
      this.replyToSource = replyToSource;
    }
  }

  /**
   * One opened channel: its plain socket and, with TLS, the TLS socket over it; its bounded input
   * and the decoder that has read its header.
   */
  private static final class Channel {
    final Socket socket;
    final SSLSocket tls;
    final InetSocketAddress peer;
    private final ChannelInput input;
    private final MigrationStreamReader reader;

    Channel(Socket socket, SSLSocket tls, InetSocketAddress peer, long ioMillis)
        throws IOException {
      this.socket = socket;
      this.tls = tls;
      this.peer = peer;
      this.input =
          new ChannelInput(
              socket,
              stream().getInputStream(),
              tls == null ? socket.getChannel() : null,
              ioMillis);
      this.reader = new MigrationStreamReader(input, input, input.scatter());
    }

    ChannelInput input() {
      return input;
    }

    MigrationStreamReader reader() {
      return reader;
    }

    /** The socket the stream goes through: TLS over the plain socket, or the plain socket. */
    private Socket stream() {
      return tls == null ? socket : tls;
    }

    /** Sends the report to the source, if it still listens. */
    synchronized void reply(DestinationReport report) {
      try {
        report.writeTo(stream().getOutputStream());
      } catch (IOException ignored) {
        // The source has gone; the report is still returned to the caller.
      }
    }
  }
}
