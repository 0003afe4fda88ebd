package io.github.precopy.core.stream;

import io.github.precopy.core.GuestMemory;
import io.github.precopy.core.RamBlock;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The receiving side of a migration: decodes one stream and loads its pages into a {@link
 * GuestMemory} whose RAM blocks match the source's (same order, names, guest addresses and used
 * lengths).
 *
 * <p>Every record is validated before it is applied, so nothing is written outside a block and a
 * truncated page is never loaded. Records already applied when a later one is rejected stay
 * applied, but the outcome is then a failure: {@link #receive} throws and {@link #report()} says
 * not completed. A ZERO record with fill byte 0 skips pages that are already zero, as QEMU's {@code
 * ram_handle_zero} does; any other fill byte fills the page.
 *
 * <p>Thread-safety: {@link #receive} is called once, by one thread; {@link #report()} may be called
 * from any thread. Nothing else may write the memory while it receives.
 */
public final class Destination {

  private final GuestMemory memory;
  private final AtomicBoolean started = new AtomicBoolean();
  private volatile DestinationReport report;

  /** A destination that loads pages into {@code memory}. */
  public Destination(GuestMemory memory) {
    this.memory = Objects.requireNonNull(memory, "memory");
  }

  /**
   * Reads a whole stream from {@code in} and applies it, then reads on to the end of input to make
   * sure nothing follows the end-of-stream record (so the sender must close its end). Does not
   * close {@code in}; close it afterwards, also on failure, so that a sender blocked on a full
   * transport is released.
   *
   * @return the report of a completed migration
   * @throws MigrationStreamException if the stream is malformed or does not fit this memory
   * @throws IOException if the transport fails
   * @throws IllegalStateException if this destination has already received a stream
   */
  public DestinationReport receive(InputStream in) throws IOException {
    Objects.requireNonNull(in, "in");
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("destination has already received a stream");
    }
    MigrationStreamReader reader = new MigrationStreamReader(in);
    long normalPages = 0;
    long zeroPages = 0;
    try {
      reader.readHeader(memory.blocks());
      int kind;
      while ((kind = reader.next()) != MigrationStreamReader.EOS) {
        RamBlock block = reader.block();
        long page = reader.page();
        if (kind == MigrationStreamReader.PAGE) {
          block.loadPage(page, reader.buffer(), reader.payloadOffset());
          normalPages++;
        } else {
          byte fill = reader.fill();
          if (fill != 0 || !block.isZeroPage(page)) {
            block.loadFilledPage(page, fill);
          }
          zeroPages++;
        }
      }
      reader.expectEnd();
      DestinationReport completed =
          new DestinationReport(true, normalPages, zeroPages, reader.bytesRead(), null);
      report = completed;
      return completed;
    } catch (Throwable failure) {
      report =
          new DestinationReport(
              false, normalPages, zeroPages, reader.bytesRead(), describe(failure));
      throw failure;
    }
  }

  private static String describe(Throwable failure) {
    return failure instanceof MigrationStreamException ? failure.getMessage() : failure.toString();
  }

  /** The outcome of {@link #receive}, or empty while it has not returned or thrown. */
  public Optional<DestinationReport> report() {
    return Optional.ofNullable(report);
  }
}
