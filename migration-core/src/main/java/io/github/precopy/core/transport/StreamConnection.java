package io.github.precopy.core.transport;

import io.github.precopy.core.engine.Connection;
import io.github.precopy.core.stream.MigrationStreamWriter;
import java.io.IOException;
import java.io.OutputStream;

/**
 * A destination elsewhere behind a caller's stream: the stream carries the digest, the migration
 * ends once it is written and closed, and nothing comes back to verify here.
 */
final class StreamConnection implements Connection {

  private final OutputStream out;

  StreamConnection(OutputStream out) {
    this.out = out;
  }

  @Override
  public MigrationStreamWriter open() {
    return new MigrationStreamWriter(out);
  }

  @Override
  public boolean remote() {
    return true;
  }

  /** Closes the stream; nothing comes back. */
  @Override
  public void finish() throws IOException {
    out.close();
  }

  @Override
  public void abort(Throwable cause) {
    try {
      out.close();
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
