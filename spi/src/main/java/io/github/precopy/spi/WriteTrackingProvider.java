package io.github.precopy.spi;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * A way to learn which pages of memory were written without routing the writes through precopy: the
 * {@link java.util.ServiceLoader} service behind ★ {@code --dirty-tracking NAME} other than {@code
 * software}. The kernel's tracker ({@code userfaultfd} asynchronous write-protect with {@code
 * PAGEMAP_SCAN}) is the one shipped, named {@code kernel}.
 *
 * <p>Implementations are thread-safe and have a public no-argument constructor.
 */
public interface WriteTrackingProvider {

  /** The name users pick it by, e.g. {@code kernel}. */
  String name();

  /**
   * Why this tracking cannot work in this process, in one line that names what is missing (a JDK
   * feature, a kernel feature, a sysctl), or empty when it can.
   */
  Optional<String> unavailableReason();

  /**
   * Starts tracking writes to {@code regions}, which form one space of pages numbered in order:
   * page 0 is the first page of the first region, and each region's pages follow the previous
   * region's. From this call on, every write to a region's memory, by any thread or code, is
   * reported by the tracker's next {@link WriteTracker#collect collect}.
   *
   * @param regions direct buffers (mapped or allocated off-heap), each starting on a page boundary
   *     and holding whole pages; the caller keeps them mapped until the tracker is closed
   * @throws UnsupportedOperationException if the tracking is unavailable here, or the memory cannot
   *     be tracked (a heap buffer, an unaligned region, a kind of mapping the kernel refuses); the
   *     message says which in one line
   */
  WriteTracker open(List<ByteBuffer> regions);
}
