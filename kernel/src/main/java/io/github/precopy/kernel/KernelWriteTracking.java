package io.github.precopy.kernel;

import io.github.precopy.spi.WriteTracker;
import io.github.precopy.spi.WriteTrackingProvider;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Dirty tracking by the Linux kernel, the write-tracking provider named {@code kernel}: the
 * memory's pages are write-protected with a userfaultfd in <em>asynchronous</em> mode, so that the
 * first write to a protected page does not stop the writer: the kernel resolves the fault itself,
 * lifts the protection and thereby marks the page written. A {@link WriteTracker#collect collect}
 * reads the written pages with the {@code PAGEMAP_SCAN} ioctl of {@code /proc/self/pagemap}, which
 * protects them again in the same step: a dirty log's "get and clear", kept by the kernel for
 * memory of this process, without KVM. The writes run with no code of precopy in their path: only
 * the first write to a page after each collect costs a minor fault, resolved in the kernel.
 *
 * <p>Requirements, checked once by {@link #unavailableReason()}: Linux 6.7 or later on x86_64 or
 * aarch64 with 4 KiB pages; userfaultfd allowed (no seccomp filter forbidding it; the tracker opens
 * it with {@code UFFD_USER_MODE_ONLY}, which {@code vm.unprivileged_userfaultfd=0} allows);
 * features {@code UFFD_FEATURE_WP_ASYNC} and {@code UFFD_FEATURE_WP_UNPOPULATED}, and for shared
 * memory {@code UFFD_FEATURE_WP_HUGETLBFS_SHMEM}; the {@code PAGEMAP_SCAN} ioctl. The JDK calls
 * libc through its foreign function API (JDK 22 or later), a restricted method: run java with
 * {@code --enable-native-access=ALL-UNNAMED} to do so without a warning.
 *
 * <p>The memory: direct buffers whose address and capacity are multiples of 4096, mapped privately
 * anonymous ({@link ByteBuffer#allocateDirect}, an {@link java.lang.foreign.Arena} allocation) or
 * shared in memory ({@code FileChannel.map} of a file on tmpfs such as {@code /dev/shm}, or a
 * memfd). A mapping of a file on disk is refused: the kernel would write-protect it in asynchronous
 * mode, but a written page of a file, once written back and reclaimed, leaves no page table entry
 * and would then read as never written; the tracker applies the kernel's rules of synchronous
 * write-protect (anonymous, shared memory, hugetlbfs), which exclude it. The caller keeps every
 * region mapped, at the same address, until the tracker is closed; an unmapped or remapped region
 * makes {@code collect} fail. One region may be tracked by one tracker at a time.
 *
 * <p>Thread-safety: this provider is stateless and thread-safe. A tracker follows {@link
 * WriteTracker}: any thread writes the memory at any time; {@code collect} and {@code close} are
 * synchronized, so one runs at a time. A write that completes before a collect begins has lifted
 * the protection of its page, and the collect reports it; a write racing with the collect is
 * reported by this collect or the next, since the scan tests and re-protects each page under its
 * page table lock.
 */
public final class KernelWriteTracking implements WriteTrackingProvider {

  /** Creates the provider; the probe of the kernel runs on first use. */
  public KernelWriteTracking() {}

  @Override
  public String name() {
    return "kernel";
  }

  @Override
  public Optional<String> unavailableReason() {
    return KernelSupport.result().unavailableReason();
  }

  @Override
  public WriteTracker open(List<ByteBuffer> regions) {
    Objects.requireNonNull(regions, "regions is null");
    KernelSupport.Result support = KernelSupport.result();
    support
        .unavailableReason()
        .ifPresent(
            reason -> {
              throw new UnsupportedOperationException(reason);
            });
    long[] starts = new long[regions.size()];
    long[] lengths = new long[regions.size()];
    for (int i = 0; i < regions.size(); i++) {
      ByteBuffer region = Objects.requireNonNull(regions.get(i), "region is null");
      if (!region.isDirect()) {
        throw new UnsupportedOperationException(
            "kernel dirty tracking cannot track region "
                + i
                + ": it is a heap buffer; give a direct or mapped buffer");
      }
      starts[i] = MemorySegment.ofBuffer(region.duplicate().clear()).address();
      lengths[i] = region.capacity();
      if (starts[i] % Uffd.PAGE_SIZE != 0) {
        throw new UnsupportedOperationException(
            String.format(
                Locale.ROOT,
                "kernel dirty tracking cannot track region %d: its address 0x%x is not on a"
                    + " 4096-byte page boundary",
                i,
                starts[i]));
      }
      if (lengths[i] % Uffd.PAGE_SIZE != 0) {
        throw new UnsupportedOperationException(
            "kernel dirty tracking cannot track region "
                + i
                + ": its capacity "
                + lengths[i]
                + " is not a whole number of 4096-byte pages");
      }
    }
    checkNoOverlap(starts, lengths);
    return KernelWriteTracker.open(starts, lengths, support.requestedFeatures());
  }

  private static void checkNoOverlap(long[] starts, long[] lengths) {
    Integer[] order = new Integer[starts.length];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.comparingLong(i -> starts[i]));
    for (int k = 1; k < order.length; k++) {
      int previous = order[k - 1];
      int next = order[k];
      if (lengths[previous] != 0
          && lengths[next] != 0
          && starts[previous] + lengths[previous] > starts[next]) {
        throw new UnsupportedOperationException(
            "kernel dirty tracking cannot track regions "
                + Math.min(previous, next)
                + " and "
                + Math.max(previous, next)
                + ": they overlap");
      }
    }
  }

  /** The userfaultfd features this kernel offers (0 where it cannot tell), for reports. */
  static long offeredFeatures() {
    return KernelSupport.result().offeredFeatures();
  }
}
