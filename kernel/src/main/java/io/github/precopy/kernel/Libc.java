package io.github.precopy.kernel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Map;

/**
 * The few libc functions this module calls ({@code syscall}, {@code ioctl}, {@code open}, {@code
 * close}, {@code mmap}, {@code munmap}, {@code madvise}, {@code sysconf}), as downcall handles that
 * capture {@code errno}. Each call takes a segment of {@link #CAPTURE_LAYOUT} where {@code errno}
 * lands; read it with {@link #errno} right after a call that returned -1.
 *
 * <p>Linking needs native access ({@code --enable-native-access=ALL-UNNAMED}); without it the JDK
 * prints a warning (JDK 22 to 24) or, with {@code --illegal-native-access=deny}, throws {@link
 * IllegalCallerException} from the class initializer.
 */
@SuppressWarnings("restricted")
final class Libc {

  /** {@code O_RDONLY | O_CLOEXEC}: the same value on x86_64 and aarch64. */
  static final int O_RDONLY_CLOEXEC = 0x80000;

  /** {@code O_CLOEXEC}, for {@code userfaultfd(2)} (same value as for open). */
  static final int O_CLOEXEC = 0x80000;

  static final int PROT_READ_WRITE = 0x1 | 0x2;
  static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
  static final int SC_PAGESIZE = 30;

  static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE_LAYOUT.varHandle(PathElement.groupElement("errno"));

  private static final Linker LINKER = Linker.nativeLinker();
  private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");

  /** {@code long syscall(long number, ...)} with two variadic longs. */
  private static final MethodHandle SYSCALL =
      downcall(
          "syscall",
          FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
          Linker.Option.firstVariadicArg(1),
          ERRNO_OPTION);

  /** {@code int ioctl(int fd, unsigned long request, ...)} with one variadic pointer. */
  private static final MethodHandle IOCTL =
      downcall(
          "ioctl",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
          Linker.Option.firstVariadicArg(2),
          ERRNO_OPTION);

  /** {@code int open(const char *path, int flags, ...)} with the variadic mode. */
  private static final MethodHandle OPEN =
      downcall(
          "open",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
          Linker.Option.firstVariadicArg(2),
          ERRNO_OPTION);

  private static final MethodHandle CLOSE =
      downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), ERRNO_OPTION);

  private static final MethodHandle MMAP =
      downcall(
          "mmap",
          FunctionDescriptor.of(
              ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
          ERRNO_OPTION);

  private static final MethodHandle MUNMAP =
      downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), ERRNO_OPTION);

  private static final MethodHandle MADVISE =
      downcall(
          "madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), ERRNO_OPTION);

  /** {@code MADV_HUGEPAGE}: back the range with transparent huge pages where possible. */
  static final int MADV_HUGEPAGE = 14;

  private static final MethodHandle SYSCONF =
      downcall("sysconf", FunctionDescriptor.of(JAVA_LONG, JAVA_INT), ERRNO_OPTION);

  /** Names of the errno values the tracker may meet (asm-generic: x86_64 and aarch64 alike). */
  private static final Map<Integer, String> ERRNO_NAMES =
      Map.ofEntries(
          Map.entry(1, "EPERM"),
          Map.entry(2, "ENOENT"),
          Map.entry(4, "EINTR"),
          Map.entry(9, "EBADF"),
          Map.entry(11, "EAGAIN"),
          Map.entry(12, "ENOMEM"),
          Map.entry(13, "EACCES"),
          Map.entry(14, "EFAULT"),
          Map.entry(16, "EBUSY"),
          Map.entry(17, "EEXIST"),
          Map.entry(19, "ENODEV"),
          Map.entry(22, "EINVAL"),
          Map.entry(24, "EMFILE"),
          Map.entry(25, "ENOTTY"),
          Map.entry(38, "ENOSYS"),
          Map.entry(95, "EOPNOTSUPP"));

  static final int EPERM = 1;
  static final int EINTR = 4;
  static final int EBUSY = 16;
  static final int EINVAL = 22;
  static final int ENOTTY = 25;
  static final int ENOSYS = 38;

  private Libc() {}

  private static MethodHandle downcall(
      String name, FunctionDescriptor descriptor, Linker.Option... options) {
    MemorySegment symbol =
        LINKER
            .defaultLookup()
            .find(name)
            .orElseThrow(() -> new UnsupportedOperationException("libc has no " + name));
    return LINKER.downcallHandle(symbol, descriptor, options);
  }

  /** A segment for the captured {@code errno}, allocated in {@code arena}. */
  static MemorySegment captureState(Arena arena) {
    return arena.allocate(CAPTURE_LAYOUT);
  }

  /** The {@code errno} captured in {@code state} by the last call that used it. */
  static int errno(MemorySegment state) {
    return (int) ERRNO.get(state, 0L);
  }

  /** {@code "errno ENAME"}, or {@code "errno N"} for a value without a name here. */
  static String errnoName(int errno) {
    String name = ERRNO_NAMES.get(errno);
    return "errno " + (name != null ? name : Integer.toString(errno));
  }

  static long syscall(MemorySegment state, long number, long arg0, long arg1) {
    try {
      return (long) SYSCALL.invokeExact(state, number, arg0, arg1);
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static int ioctl(MemorySegment state, int fd, long request, MemorySegment arg) {
    try {
      return (int) IOCTL.invokeExact(state, fd, request, arg);
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static int open(MemorySegment state, MemorySegment path, int flags) {
    try {
      return (int) OPEN.invokeExact(state, path, flags, 0);
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static int close(MemorySegment state, int fd) {
    try {
      return (int) CLOSE.invokeExact(state, fd);
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  /** {@code mmap} of {@code length} bytes of private anonymous memory; {@code -1L} on failure. */
  static MemorySegment mmapAnonymous(MemorySegment state, long length) {
    try {
      return (MemorySegment)
          MMAP.invokeExact(
              state, MemorySegment.NULL, length, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static int munmap(MemorySegment state, MemorySegment address, long length) {
    try {
      return (int) MUNMAP.invokeExact(state, address, length);
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static int madvise(MemorySegment state, MemorySegment address, long length, int advice) {
    try {
      return (int) MADVISE.invokeExact(state, address, length, advice);
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static long sysconf(MemorySegment state, int name) {
    try {
      return (long) SYSCONF.invokeExact(state, name);
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  private static RuntimeException rethrow(Throwable e) {
    if (e instanceof RuntimeException runtime) {
      throw runtime;
    }
    if (e instanceof Error error) {
      throw error;
    }
    return new IllegalStateException("native call failed", e);
  }
}
