package io.github.precopy.core.engine;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.stream.MigrationStreamWriter;
import java.io.IOException;

/**
 * One migration's way to its destination, as the precopy loop uses it: the transport under the
 * stream, and what comes back from the other end. Each transport (in-process, TCP, file, a caller's
 * stream) implements it. Internal: not for applications.
 *
 * <p>The loop calls {@link #open()}, writes the stream, then {@link #finish()} and {@link #verify};
 * on failure or cancel it calls {@link #stop}. {@link #abort} may be called at any time from any
 * thread.
 */
public interface Connection {

  /** Connects to the destination and returns the writer of the stream; on the migration thread. */
  MigrationStreamWriter open() throws IOException;

  /**
   * Whether the destination is elsewhere: the stream then carries the digest of the pages in use,
   * and downtime ends, as in QEMU, once the last page is written.
   */
  boolean remote();

  /**
   * Ends the stream once its end-of-stream record is written and waits, bounded, until the
   * destination holds every page.
   *
   * @throws Exception with the destination's reason if it failed or did not answer in time
   */
  void finish() throws Exception;

  /**
   * Compares the pages in use at switch-over with the destination's, or returns null when this
   * connection cannot. Called after {@link #finish()}.
   *
   * @param inUse per RAM block, the pages in use (null: every page)
   */
  default Verified verify(PageBitmap[] inUse) {
    return null;
  }

  /** Breaks the transport at once, from any thread (a cancel); the loop then fails and stops. */
  void abort(Throwable cause);

  /**
   * After a failure or cancel, on the migration thread: breaks the transport and waits, bounded,
   * until the destination no longer touches its memory. Returns the failure as the user should see
   * it: a transport error caused by a destination that gave up is explained by the reason it sent.
   *
   * @throws IllegalStateException if the destination is still running when the bound runs out
   */
  Throwable stop(Throwable failure);

  /**
   * What the destination verified.
   *
   * @param pagesChecked pages compared
   * @param mismatches pages that differ
   */
  record Verified(long pagesChecked, long mismatches) {}
}
