package io.github.precopy.core;

import io.github.precopy.core.stream.MigrationStreamWriter;
import java.io.IOException;
import java.io.OutputStream;

/**
 * A destination elsewhere behind a caller's stream: the stream carries the digest, the migration
 * ends once it is written and closed, and nothing comes back to verify here.
 */
final class StreamCompletion implements PrecopyMigration.Completion {

  private final OutputStream out;

  StreamCompletion(OutputStream out) {
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

  @Override
  public void endOfStream() throws IOException {
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
}
