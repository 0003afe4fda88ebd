package io.github.precopy.core;

import io.github.precopy.bitmap.PageBitmap;
import java.io.IOException;
import java.io.OutputStream;

/** A destination elsewhere: the migration ends once its stream is written and closed. */
final class StreamCompletion implements PrecopyMigration.Completion {

  private final OutputStream out;

  StreamCompletion(OutputStream out) {
    this.out = out;
  }

  @Override
  public void awaitDestination() {}

  @Override
  public MigrationStats.Verification verify(PageBitmap[] inUse) {
    return null;
  }

  @Override
  public void awaitStopped() {}

  @Override
  public void abort(Throwable cause) {
    try {
      out.close();
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }
}
