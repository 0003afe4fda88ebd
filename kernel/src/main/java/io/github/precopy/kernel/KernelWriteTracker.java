package io.github.precopy.kernel;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.github.precopy.spi.WriteTracker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Objects;

/**
 * One userfaultfd with its regions registered in asynchronous write-protect mode, and the {@code
 * /proc/self/pagemap} descriptor its {@link #collect} scans with {@code PAGEMAP_SCAN}: the scan
 * reports the pages whose write-protection a write has resolved ({@code PAGE_IS_WRITTEN}) and
 * protects them again in the same step, under the page table lock ({@code PM_SCAN_WP_MATCHING}).
 *
 * <p>The scan argument, the output vector and the errno slot are allocated once, in an arena the
 * tracker owns and closes; {@link #collect} and {@link #close} are synchronized.
 */
final class KernelWriteTracker implements WriteTracker {

  /** Page regions one {@code PAGEMAP_SCAN} call can fill before it stops and says where. */
  static final int VEC_LENGTH = 512;

  private final Arena arena;
  private final MemorySegment state;
  private final MemorySegment scanArg;
  private final MemorySegment vec;
  private final long[] starts;
  private final long[] lengths;
  private final long[] firstPages;
  private final int uffd;
  private final int pagemap;
  private boolean closed;

  private KernelWriteTracker(
      Arena arena,
      MemorySegment state,
      long[] starts,
      long[] lengths,
      long[] firstPages,
      int uffd,
      int pagemap) {
    this.arena = arena;
    this.state = state;
    this.starts = starts;
    this.lengths = lengths;
    this.firstPages = firstPages;
    this.uffd = uffd;
    this.pagemap = pagemap;
    this.scanArg = arena.allocate(Uffd.PM_SCAN_ARG_SIZE, 8);
    this.vec = arena.allocate(Uffd.PAGE_REGION_SIZE * VEC_LENGTH, 8);
  }

  /**
   * Opens a userfaultfd asking for {@code features}, registers every region of {@code [starts[i],
   * starts[i] + lengths[i])} (page-aligned, whole pages; an empty one is skipped) in write-protect
   * mode and protects all its pages. On failure, undoes what it did before throwing.
   *
   * @throws UnsupportedOperationException naming the region and the errno
   */
  static KernelWriteTracker open(long[] starts, long[] lengths, long features) {
    Arena arena = Arena.ofShared();
    MemorySegment state = Libc.captureState(arena);
    int uffd = -1;
    int checker = -1;
    int pagemap = -1;
    int registered = 0;
    try {
      uffd = Uffd.create(state);
      Uffd.api(state, uffd, features);
      checker = Uffd.create(state);
      Uffd.api(state, checker, features & ~Uffd.UFFD_FEATURE_WP_ASYNC);
      pagemap = openPagemap(arena, state);
      long[] firstPages = new long[starts.length];
      long page = 0;
      try (Arena scratch = Arena.ofConfined()) {
        MemorySegment register = scratch.allocate(32, 8);
        MemorySegment protect = scratch.allocate(24, 8);
        for (int i = 0; i < starts.length; i++) {
          firstPages[i] = page;
          page += lengths[i] / Uffd.PAGE_SIZE;
          registered = i;
          if (lengths[i] == 0) {
            continue;
          }
          // In asynchronous mode the kernel write-protects any mapping, files on disk too; but a
          // written page of a file, once written back and reclaimed, leaves no page table entry
          // and so would read as never written. The synchronous mode's rules (anonymous memory,
          // shared memory, hugetlbfs) keep to memory whose written state survives: ask them first.
          register(state, checker, register, i, starts[i], lengths[i]);
          Uffd.unregister(state, checker, starts[i], lengths[i]);
          register(state, uffd, register, i, starts[i], lengths[i]);
          registered = i + 1;
          writeProtect(state, uffd, protect, i, starts[i], lengths[i]);
        }
      }
      Libc.close(state, checker);
      checker = -1;
      registered = starts.length;
      return new KernelWriteTracker(arena, state, starts, lengths, firstPages, uffd, pagemap);
    } catch (RuntimeException | Error e) {
      for (int i = 0; i < registered; i++) {
        if (lengths[i] != 0) {
          Uffd.unregister(state, uffd, starts[i], lengths[i]);
        }
      }
      if (pagemap >= 0) {
        Libc.close(state, pagemap);
      }
      if (checker >= 0) {
        Libc.close(state, checker);
      }
      if (uffd >= 0) {
        Libc.close(state, uffd);
      }
      arena.close();
      throw e;
    }
  }

  private static int openPagemap(Arena arena, MemorySegment state) {
    int fd = Libc.open(state, arena.allocateFrom("/proc/self/pagemap"), Libc.O_RDONLY_CLOEXEC);
    if (fd < 0) {
      throw new UnsupportedOperationException(
          "kernel dirty tracking cannot open /proc/self/pagemap ("
              + Libc.errnoName(Libc.errno(state))
              + ")");
    }
    return fd;
  }

  private static void register(
      MemorySegment state, int uffd, MemorySegment arg, int region, long start, long length) {
    arg.set(JAVA_LONG, 0, start);
    arg.set(JAVA_LONG, 8, length);
    arg.set(JAVA_LONG, 16, Uffd.UFFDIO_REGISTER_MODE_WP);
    arg.set(JAVA_LONG, 24, 0L);
    if (Libc.ioctl(state, uffd, Uffd.UFFDIO_REGISTER, arg) < 0) {
      int errno = Libc.errno(state);
      String prefix =
          "kernel dirty tracking cannot register region "
              + region
              + " ("
              + Libc.errnoName(errno)
              + ")";
      throw new UnsupportedOperationException(
          switch (errno) {
            case Libc.EINVAL ->
                prefix
                    + ": only anonymous and shared-memory (tmpfs, /dev/shm) mappings can be"
                    + " write-protected";
            case Libc.EBUSY ->
                prefix + ": another userfaultfd already watches it (is another tracker open?)";
            case 12 /* ENOMEM */ -> prefix + ": part of it is not mapped";
            default -> prefix;
          });
    }
    if ((arg.get(JAVA_LONG, 24) & Uffd.IOCTL_WRITEPROTECT_BIT) == 0) {
      throw new UnsupportedOperationException(
          "kernel dirty tracking cannot write-protect region "
              + region
              + ": the kernel offers no UFFDIO_WRITEPROTECT for its mapping");
    }
  }

  private static void writeProtect(
      MemorySegment state, int uffd, MemorySegment arg, int region, long start, long length) {
    arg.set(JAVA_LONG, 0, start);
    arg.set(JAVA_LONG, 8, length);
    arg.set(JAVA_LONG, 16, Uffd.UFFDIO_WRITEPROTECT_MODE_WP);
    if (Libc.ioctl(state, uffd, Uffd.UFFDIO_WRITEPROTECT, arg) < 0) {
      throw new UnsupportedOperationException(
          "kernel dirty tracking cannot write-protect region "
              + region
              + " (UFFDIO_WRITEPROTECT, "
              + Libc.errnoName(Libc.errno(state))
              + ")");
    }
  }

  @Override
  public synchronized long collect(PageRuns runs) {
    Objects.requireNonNull(runs, "runs is null");
    if (closed) {
      throw new IllegalStateException("kernel write tracker is closed");
    }
    long reported = 0;
    long runFirst = -1;
    long runEnd = -1;
    for (int region = 0; region < starts.length; region++) {
      long start = starts[region];
      long end = start + lengths[region];
      long base = firstPages[region];
      long from = start;
      while (from < end) {
        int filled = scan(region, from, end);
        for (int k = 0; k < filled; k++) {
          long regionStart = vec.getAtIndex(JAVA_LONG, 3L * k);
          long regionEnd = vec.getAtIndex(JAVA_LONG, 3L * k + 1);
          long first = base + (regionStart - start) / Uffd.PAGE_SIZE;
          long count = (regionEnd - regionStart) / Uffd.PAGE_SIZE;
          if (count <= 0) {
            continue;
          }
          if (first == runEnd) {
            runEnd += count;
          } else {
            if (runFirst >= 0) {
              runs.written(runFirst, runEnd - runFirst);
            }
            runFirst = first;
            runEnd = first + count;
          }
          reported += count;
        }
        long walkEnd = scanArg.get(JAVA_LONG, Uffd.ARG_WALK_END);
        if (walkEnd <= from) {
          throw failure(
              String.format(
                  Locale.ROOT,
                  "kernel dirty tracking: PAGEMAP_SCAN over region %d stopped at 0x%x without"
                      + " progress",
                  region,
                  walkEnd));
        }
        from = walkEnd;
      }
    }
    if (runFirst >= 0) {
      runs.written(runFirst, runEnd - runFirst);
    }
    return reported;
  }

  /**
   * One {@code PAGEMAP_SCAN} of {@code [from, end)}: fills {@link #vec} with the written page
   * ranges, protects them again, and returns how many ranges it filled; {@code walk_end} then says
   * where it stopped.
   */
  private int scan(int region, long from, long end) {
    MemorySegment arg = scanArg;
    arg.set(JAVA_LONG, Uffd.ARG_SIZE, Uffd.PM_SCAN_ARG_SIZE);
    arg.set(JAVA_LONG, Uffd.ARG_FLAGS, Uffd.PM_SCAN_WP_MATCHING | Uffd.PM_SCAN_CHECK_WPASYNC);
    arg.set(JAVA_LONG, Uffd.ARG_START, from);
    arg.set(JAVA_LONG, Uffd.ARG_END, end);
    arg.set(JAVA_LONG, Uffd.ARG_WALK_END, 0L);
    arg.set(JAVA_LONG, Uffd.ARG_VEC, vec.address());
    arg.set(JAVA_LONG, Uffd.ARG_VEC_LEN, VEC_LENGTH);
    arg.set(JAVA_LONG, Uffd.ARG_MAX_PAGES, 0L);
    arg.set(JAVA_LONG, Uffd.ARG_CATEGORY_INVERTED, 0L);
    arg.set(JAVA_LONG, Uffd.ARG_CATEGORY_MASK, Uffd.PAGE_IS_WRITTEN);
    arg.set(JAVA_LONG, Uffd.ARG_CATEGORY_ANYOF_MASK, 0L);
    arg.set(JAVA_LONG, Uffd.ARG_RETURN_MASK, Uffd.PAGE_IS_WRITTEN);
    while (true) {
      int filled = Libc.ioctl(state, pagemap, Uffd.PAGEMAP_SCAN, arg);
      if (filled >= 0) {
        return filled;
      }
      int errno = Libc.errno(state);
      if (errno == Libc.EINTR) {
        continue;
      }
      String name = Libc.errnoName(errno);
      String message =
          switch (errno) {
            case Libc.ENOTTY, Libc.EINVAL ->
                "kernel dirty tracking needs the PAGEMAP_SCAN ioctl (Linux 6.7 or later); "
                    + "/proc/self/pagemap refused it ("
                    + name
                    + ")";
            case Libc.EPERM ->
                "kernel dirty tracking: region "
                    + region
                    + " is no longer write-protected asynchronously ("
                    + name
                    + " from PAGEMAP_SCAN): was it unmapped or mapped again?";
            default ->
                "kernel dirty tracking: PAGEMAP_SCAN over region "
                    + region
                    + " failed ("
                    + name
                    + ")";
          };
      throw failure(message);
    }
  }

  private static UncheckedIOException failure(String message) {
    return new UncheckedIOException(message, new IOException(message));
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (int i = 0; i < starts.length; i++) {
      if (lengths[i] != 0) {
        Uffd.unregister(state, uffd, starts[i], lengths[i]);
      }
    }
    Libc.close(state, pagemap);
    Libc.close(state, uffd);
    arena.close();
  }
}
