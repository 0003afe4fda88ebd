package io.github.precopy.kernel;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * The kernel's interface, as Linux's UAPI headers spell it ({@code
 * include/uapi/linux/userfaultfd.h} and {@code include/uapi/linux/fs.h}, Linux 6.7 and later): the
 * {@code userfaultfd} system call, its ioctls and the {@code PAGEMAP_SCAN} ioctl of {@code
 * /proc/self/pagemap}. Every struct is made of {@code __u64} fields only, so its layout is the
 * offsets below on every 64-bit architecture.
 *
 * <p>Each ioctl number is {@code _IOC(dir, type, nr, size) = dir << 30 | size << 16 | type << 8 |
 * nr}, with {@code _IOWR} = 3 and {@code _IOR} = 2 (the generic encoding, x86_64 and aarch64).
 */
final class Uffd {

  static final int PAGE_SIZE = 4096;

  /** {@code UFFD_USER_MODE_ONLY}: a flag of the system call (Linux 5.11). */
  static final int UFFD_USER_MODE_ONLY = 1;

  /** {@code UFFD_API}, the only API version. */
  static final long UFFD_API = 0xAA;

  /** {@code UFFDIO_API = _IOWR(0xAA, 0x3F, struct uffdio_api)}, 24 bytes. */
  static final long UFFDIO_API = 0xC018AA3FL;

  /** {@code UFFDIO_REGISTER = _IOWR(0xAA, 0x00, struct uffdio_register)}, 32 bytes. */
  static final long UFFDIO_REGISTER = 0xC020AA00L;

  /** {@code UFFDIO_UNREGISTER = _IOR(0xAA, 0x01, struct uffdio_range)}, 16 bytes. */
  static final long UFFDIO_UNREGISTER = 0x8010AA01L;

  /** {@code UFFDIO_WRITEPROTECT = _IOWR(0xAA, 0x06, struct uffdio_writeprotect)}, 24 bytes. */
  static final long UFFDIO_WRITEPROTECT = 0xC018AA06L;

  /** {@code 1 << _UFFDIO_WRITEPROTECT} in {@code uffdio_register.ioctls}. */
  static final long IOCTL_WRITEPROTECT_BIT = 1L << 0x06;

  static final long UFFDIO_REGISTER_MODE_WP = 1L << 1;
  static final long UFFDIO_WRITEPROTECT_MODE_WP = 1L << 0;

  static final long UFFD_FEATURE_WP_HUGETLBFS_SHMEM = 1L << 12;
  static final long UFFD_FEATURE_WP_UNPOPULATED = 1L << 13;
  static final long UFFD_FEATURE_WP_ASYNC = 1L << 15;

  /** {@code PAGEMAP_SCAN = _IOWR('f', 16, struct pm_scan_arg)}, 96 bytes. */
  static final long PAGEMAP_SCAN = 0xC0606610L;

  static final long PM_SCAN_WP_MATCHING = 1L << 0;
  static final long PM_SCAN_CHECK_WPASYNC = 1L << 1;
  static final long PAGE_IS_WRITTEN = 1L << 1;

  /** {@code struct pm_scan_arg}: twelve {@code __u64}, in this order. */
  static final long PM_SCAN_ARG_SIZE = 96;

  static final long ARG_SIZE = 0;
  static final long ARG_FLAGS = 8;
  static final long ARG_START = 16;
  static final long ARG_END = 24;
  static final long ARG_WALK_END = 32;
  static final long ARG_VEC = 40;
  static final long ARG_VEC_LEN = 48;
  static final long ARG_MAX_PAGES = 56;
  static final long ARG_CATEGORY_INVERTED = 64;
  static final long ARG_CATEGORY_MASK = 72;
  static final long ARG_CATEGORY_ANYOF_MASK = 80;
  static final long ARG_RETURN_MASK = 88;

  /** {@code struct page_region {__u64 start; __u64 end; __u64 categories;}}. */
  static final long PAGE_REGION_SIZE = 24;

  private Uffd() {}

  /** The number of {@code userfaultfd(2)} on this architecture, or -1 where it is not known. */
  static long userfaultfdSyscall() {
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    return switch (arch) {
      case "amd64", "x86_64" -> 323;
      case "aarch64", "arm64" -> 282;
      default -> -1;
    };
  }

  /**
   * Opens a userfaultfd for this process's user-mode faults.
   *
   * @throws UnsupportedOperationException naming the errno and what it most likely means
   */
  static int create(MemorySegment state) {
    long fd =
        Libc.syscall(
            state, userfaultfdSyscall(), Libc.O_CLOEXEC | UFFD_USER_MODE_ONLY, 0L /* unused */);
    if (fd >= 0) {
      return (int) fd;
    }
    int errno = Libc.errno(state);
    String name = Libc.errnoName(errno);
    throw new UnsupportedOperationException(
        switch (errno) {
          case Libc.EPERM ->
              "kernel dirty tracking: userfaultfd is forbidden here ("
                  + name
                  + ": sysctl vm.unprivileged_userfaultfd=0 or a seccomp filter)";
          case Libc.ENOSYS ->
              "kernel dirty tracking: this kernel has no userfaultfd ("
                  + name
                  + ": CONFIG_USERFAULTFD is off, or a seccomp filter hides it)";
          case Libc.EINVAL ->
              "kernel dirty tracking: userfaultfd refuses UFFD_USER_MODE_ONLY ("
                  + name
                  + "): it needs Linux 6.7 or later";
          default -> "kernel dirty tracking: userfaultfd failed (" + name + ")";
        });
  }

  /**
   * The {@code UFFDIO_API} handshake asking for {@code features}; returns the features the kernel
   * answered (with {@code features = 0}, every feature it offers).
   *
   * @throws UnsupportedOperationException if the kernel refuses
   */
  static long api(MemorySegment state, int uffd, long features) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment api = arena.allocate(24, 8);
      api.set(JAVA_LONG, 0, UFFD_API);
      api.set(JAVA_LONG, 8, features);
      api.set(JAVA_LONG, 16, 0L);
      if (Libc.ioctl(state, uffd, UFFDIO_API, api) < 0) {
        throw new UnsupportedOperationException(
            String.format(
                Locale.ROOT,
                "kernel dirty tracking: UFFDIO_API with features 0x%x failed (%s)",
                features,
                Libc.errnoName(Libc.errno(state))));
      }
      return api.get(JAVA_LONG, 8);
    }
  }

  /** {@code UFFDIO_UNREGISTER} of {@code [start, start + length)}; returns whether it worked. */
  static boolean unregister(MemorySegment state, int uffd, long start, long length) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment range = arena.allocate(16, 8);
      range.set(JAVA_LONG, 0, start);
      range.set(JAVA_LONG, 8, length);
      return Libc.ioctl(state, uffd, UFFDIO_UNREGISTER, range) == 0;
    }
  }
}
