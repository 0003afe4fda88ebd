package io.github.precopy.core.transport;

import io.github.precopy.core.engine.Connection;
import io.github.precopy.core.stream.MigrationStreamWriter;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;

/** A snapshot file written as {@code FILE.partial}, synced, then renamed to {@code FILE}. */
final class FileConnection implements Connection {

  private static final Duration STALL_TIMEOUT = Duration.ofSeconds(60);

  private final Path file;
  private final Path partial;
  private volatile FileChannel channel;

  FileConnection(Path file) {
    this.file = file;
    this.partial = file.resolveSibling(file.getFileName() + ".partial");
  }

  @Override
  public MigrationStreamWriter open() throws IOException {
    try {
      channel =
          FileChannel.open(
              partial,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new IOException("cannot write snapshot " + partial + ": " + e, e);
    }
    return new MigrationStreamWriter(List.of(channel), STALL_TIMEOUT);
  }

  @Override
  public boolean remote() {
    return true;
  }

  /** Syncs the file and renames it to its final name. */
  @Override
  public void finish() throws IOException {
    channel.force(true);
    channel.close();
    try {
      Files.move(
          partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  @Override
  public void abort(Throwable cause) {
    try {
      FileChannel open = channel;
      if (open != null) {
        open.close();
      }
      Files.deleteIfExists(partial);
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }

  @Override
  public Throwable stop(Throwable failure) {
    abort(failure);
    return failure;
  }
}
