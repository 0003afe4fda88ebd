package io.github.precopy.core.transport;

import io.github.precopy.core.engine.Connection;
import io.github.precopy.core.memory.GuestMemory;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;

/**
 * Where {@link io.github.precopy.core.MigrationEngine#start(io.github.precopy.core.memory.Guest,
 * io.github.precopy.core.MigrationConfig, MigrationTarget, java.util.function.Consumer)} sends a
 * guest: an {@link IncomingMigration} over TCP (one or more channels, plain or mutual TLS), a
 * snapshot file that {@link IncomingMigration#restore} loads later, a memory in this process, or a
 * caller's stream. Immutable. A TCP or file target may serve many migrations, each with its own
 * connections; an in-process or stream target serves one.
 */
public final class MigrationTarget {

  private final String description;
  private final Function<GuestMemory, Connection> connect;

  private MigrationTarget(String description, Function<GuestMemory, Connection> connect) {
    this.description = description;
    this.connect = connect;
  }

  /**
   * A destination listening at {@code host:port} ({@code precopy incoming}, or {@link
   * IncomingMigration#listen}) with the same channels and TLS setting. The destination checks the
   * stream's digest and replies; the migration completes only if it accepted the stream, and its
   * statistics then carry the destination's verification.
   *
   * @throws IllegalArgumentException if the port is not 1 to 65535
   */
  public static MigrationTarget tcp(String host, int port, TransportOptions options) {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(options, "options");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is not 1 to 65535");
    }
    String name = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    return new MigrationTarget(
        (options.tls() == null ? "tcp " : "tls ") + name,
        memory -> new TcpConnection(host, port, name, options));
  }

  /**
   * A snapshot file: the stream with its digest is written to {@code file}.partial and renamed to
   * {@code file} once complete and synced to disk, so {@code file} never holds a partial stream; a
   * failed or cancelled migration deletes the partial file. An existing {@code file} is replaced.
   */
  public static MigrationTarget file(Path file) {
    Objects.requireNonNull(file, "file");
    return new MigrationTarget("file " + file, memory -> new FileConnection(file));
  }

  /**
   * A memory in this process, with the same RAM block layout as the source's: a thread decodes the
   * stream from a bounded pipe into it, and after completion every page the guest had in use at
   * switch-over is compared byte for byte. Serves one migration.
   */
  public static MigrationTarget inProcess(GuestMemory destination) {
    Objects.requireNonNull(destination, "destination");
    return new MigrationTarget(
        "in-process", source -> new InProcessConnection(source, destination));
  }

  /**
   * A caller's stream, which the migration closes at the end: it carries one channel of the stream
   * with the digest of the pages in use; the peer at the other end decodes, applies and verifies
   * it. Nothing comes back, so nothing is verified at the source. Serves one migration.
   */
  public static MigrationTarget stream(OutputStream out) {
    Objects.requireNonNull(out, "out");
    return new MigrationTarget("stream", source -> new StreamConnection(out));
  }

  /**
   * Opens this target's connection for a migration of {@code source}. Internal: {@link
   * io.github.precopy.core.MigrationEngine} calls it; the connection's type is not API.
   *
   * @throws IllegalArgumentException if {@code source} does not fit the target (an in-process
   *     destination with another RAM layout)
   */
  public Connection connect(GuestMemory source) {
    return connect.apply(source);
  }

  @Override
  public String toString() {
    return description;
  }
}
