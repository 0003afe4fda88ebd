package io.github.precopy.kernel;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Optional;

/**
 * Whether kernel dirty tracking works in this process, found out once: the OS and architecture,
 * native access, the page size, the userfaultfd features the kernel offers, and a self-test that
 * tracks one page of anonymous memory through the whole path (register, protect, write, {@code
 * PAGEMAP_SCAN}).
 */
final class KernelSupport {

  /** The outcome of the probe: why it cannot work (or empty) and the features offered. */
  record Result(Optional<String> unavailableReason, long offeredFeatures) {

    /** The features a tracker asks for: the required two, and shared memory if offered. */
    long requestedFeatures() {
      return REQUIRED | (offeredFeatures & Uffd.UFFD_FEATURE_WP_HUGETLBFS_SHMEM);
    }
  }

  static final long REQUIRED = Uffd.UFFD_FEATURE_WP_ASYNC | Uffd.UFFD_FEATURE_WP_UNPOPULATED;

  private KernelSupport() {}

  /** The cached result of the probe. */
  static Result result() {
    return Holder.RESULT;
  }

  private static final class Holder {
    static final Result RESULT = probe();
  }

  private static Result probe() {
    String os = System.getProperty("os.name", "");
    if (!os.startsWith("Linux")) {
      return unavailable("kernel dirty tracking needs Linux 6.7 or later; this is " + os);
    }
    if (Uffd.userfaultfdSyscall() < 0) {
      return unavailable(
          "kernel dirty tracking supports x86_64 and aarch64; this is "
              + System.getProperty("os.arch"));
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Libc.captureState(arena);
      long pageSize = Libc.sysconf(state, Libc.SC_PAGESIZE);
      if (pageSize != Uffd.PAGE_SIZE) {
        return unavailable(
            "kernel dirty tracking needs 4096-byte pages; this kernel's are " + pageSize);
      }
      int fd = Uffd.create(state);
      long offered;
      try {
        offered = Uffd.api(state, fd, 0L);
      } finally {
        Libc.close(state, fd);
      }
      if ((offered & Uffd.UFFD_FEATURE_WP_ASYNC) == 0) {
        return new Result(
            Optional.of(
                String.format(
                    Locale.ROOT,
                    "kernel dirty tracking needs UFFD_FEATURE_WP_ASYNC (Linux 6.7 or later); this"
                        + " kernel offers 0x%x",
                    offered)),
            offered);
      }
      if ((offered & Uffd.UFFD_FEATURE_WP_UNPOPULATED) == 0) {
        return new Result(
            Optional.of(
                String.format(
                    Locale.ROOT,
                    "kernel dirty tracking needs UFFD_FEATURE_WP_UNPOPULATED (Linux 6.4 or later,"
                        + " CONFIG_PTE_MARKER_UFFD_WP); this kernel offers 0x%x",
                    offered)),
            offered);
      }
      Result result = new Result(Optional.empty(), offered);
      Optional<String> selfTest = selfTest(state, result.requestedFeatures());
      return selfTest.isPresent() ? new Result(selfTest, offered) : result;
    } catch (UnsupportedOperationException e) {
      return unavailable(e.getMessage());
    } catch (IllegalCallerException e) {
      return unavailable(
          "kernel dirty tracking needs native access: run java with"
              + " --enable-native-access=ALL-UNNAMED ("
              + e.getMessage()
              + ")");
    } catch (ExceptionInInitializerError | NoClassDefFoundError e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      return unavailable(
          "kernel dirty tracking cannot link libc ("
              + cause
              + "); run java with --enable-native-access=ALL-UNNAMED");
    }
  }

  /**
   * Tracks one page of fresh anonymous memory: after a write, one collect must report exactly that
   * page, and the next none.
   */
  private static Optional<String> selfTest(MemorySegment state, long features) {
    MemorySegment page = Libc.mmapAnonymous(state, Uffd.PAGE_SIZE);
    if (page.address() == -1L) {
      return Optional.of(
          "kernel dirty tracking cannot map a page for its self-test ("
              + Libc.errnoName(Libc.errno(state))
              + ")");
    }
    try (KernelWriteTracker tracker =
        KernelWriteTracker.open(
            new long[] {page.address()}, new long[] {Uffd.PAGE_SIZE}, features)) {
      page.reinterpret(Uffd.PAGE_SIZE).set(JAVA_LONG, 0, 42L);
      long first = tracker.collect((from, count) -> {});
      long second = tracker.collect((from, count) -> {});
      if (first != 1 || second != 0) {
        return Optional.of(
            "kernel dirty tracking failed its self-test: a written page was reported "
                + first
                + " time(s), then "
                + second);
      }
      return Optional.empty();
    } catch (UnsupportedOperationException | java.io.UncheckedIOException e) {
      return Optional.of(e.getMessage());
    } finally {
      Libc.munmap(state, page, Uffd.PAGE_SIZE);
    }
  }

  private static Result unavailable(String reason) {
    return new Result(Optional.of(reason), 0L);
  }
}
