package io.github.precopy.spi;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * Private anonymous memory backed by transparent huge pages, as QEMU's {@code memory-backend-ram}
 * on Linux, which advises its RAM {@code MADV_HUGEPAGE}: the {@link java.util.ServiceLoader}
 * service behind {@code GuestMemory.Builder.transparentHugePages()}. The JDK maps no such memory by
 * itself; the provider shipped calls the kernel through the foreign function API (JDK 22+).
 *
 * <p>Implementations are thread-safe and have a public no-argument constructor.
 */
public interface HugePageMemoryProvider {

  /**
   * Why huge-page memory cannot be mapped in this process, in one line that names what is missing
   * (a JDK feature, the kernel's setting), or empty when it can.
   */
  Optional<String> unavailableReason();

  /**
   * Maps {@code bytes} of zeroed private anonymous memory, aligned to 2 MiB and advised for
   * transparent huge pages. Nothing is allocated until first touched.
   *
   * @param bytes a positive multiple of 4096
   * @throws UnsupportedOperationException if it cannot be mapped here (one line saying why)
   */
  Mapping map(long bytes);

  /** Memory mapped by {@link #map}: its regions, unmapped by {@link #close}. */
  interface Mapping extends AutoCloseable {

    /**
     * The memory in order, as direct buffers of 1 GiB each but the last. Once the mapping is
     * closed, using one throws {@link IllegalStateException} rather than touching unmapped memory.
     */
    List<ByteBuffer> regions();

    /** Unmaps the memory. Idempotent; must not race with a use of the regions. */
    @Override
    void close();
  }
}
