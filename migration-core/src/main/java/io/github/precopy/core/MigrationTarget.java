package io.github.precopy.core;

import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;

/**
 * Where {@link MigrationEngine#start(Guest, MigrationConfig, MigrationTarget,
 * java.util.function.Consumer)} sends a guest: an {@link IncomingMigration} over TCP (one or more
 * channels, plain or mutual TLS), or a snapshot file that {@link IncomingMigration#restore} loads
 * later. Immutable; one target may serve many migrations, each with its own connections.
 */
public final class MigrationTarget {

  private final String description;
  private final Function<GuestMemory, PrecopyMigration.Completion> connect;

  private MigrationTarget(
      String description, Function<GuestMemory, PrecopyMigration.Completion> connect) {
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

  PrecopyMigration.Completion connection(GuestMemory source) {
    return connect.apply(source);
  }

  @Override
  public String toString() {
    return description;
  }
}
