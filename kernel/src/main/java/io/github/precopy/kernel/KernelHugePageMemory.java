package io.github.precopy.kernel;

import io.github.precopy.spi.HugePageMemoryProvider;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Guest RAM as QEMU's {@code memory-backend-ram} has it on Linux: private anonymous memory ({@code
 * mmap(MAP_PRIVATE | MAP_ANONYMOUS)}) aligned to 2 MiB and advised {@code MADV_HUGEPAGE}, so that
 * the kernel backs it with transparent huge pages and the first touch of 2 MiB costs one fault
 * instead of 512. Needs Linux with {@code /sys/kernel/mm/transparent_hugepage/enabled} set to
 * {@code always} or {@code madvise}, and JDK 22+ with native access (as the rest of this module).
 *
 * <p>The regions handed out belong to a shared {@link Arena}: once the mapping is closed (which
 * unmaps it), touching them throws {@link IllegalStateException} instead of crashing the JVM.
 * Thread-safe.
 */
public final class KernelHugePageMemory implements HugePageMemoryProvider {

  private static final long HUGE_PAGE = 2L << 20;
  private static final long REGION = 1L << 30;
  private static final Path ENABLED = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

  /** Creates the provider. */
  public KernelHugePageMemory() {}

  @Override
  public Optional<String> unavailableReason() {
    String os = System.getProperty("os.name", "");
    if (!os.startsWith("Linux")) {
      return Optional.of("transparent huge pages need Linux; this is " + os);
    }
    String setting;
    try {
      setting = Files.readString(ENABLED).trim();
    } catch (IOException e) {
      return Optional.of("transparent huge pages are not offered: cannot read " + ENABLED);
    }
    if (setting.contains("[never]")) {
      return Optional.of(
          "transparent huge pages are disabled (" + ENABLED + " is never; set it to madvise)");
    }
    return Optional.empty();
  }

  @Override
  public Mapping map(long bytes) {
    if (bytes <= 0 || bytes % 4096 != 0) {
      throw new IllegalArgumentException(
          "huge-page memory of " + bytes + " bytes: not a positive multiple of 4096");
    }
    unavailableReason()
        .ifPresent(
            reason -> {
              throw new UnsupportedOperationException(reason);
            });
    Arena arena = Arena.ofShared();
    try {
      MemorySegment state = Libc.captureState(arena);
      long total = bytes + HUGE_PAGE;
      MemorySegment base = Libc.mmapAnonymous(state, total);
      if (base.address() == -1L) {
        throw new UnsupportedOperationException(
            "cannot map "
                + bytes
                + " bytes of anonymous memory ("
                + Libc.errnoName(Libc.errno(state))
                + ")");
      }
      long aligned = (base.address() + HUGE_PAGE - 1) & -HUGE_PAGE;
      MemorySegment memory =
          MemorySegment.ofAddress(aligned).reinterpret(bytes, arena, unused -> unmap(base, total));
      if (Libc.madvise(state, memory, bytes, Libc.MADV_HUGEPAGE) != 0) {
        String errno = Libc.errnoName(Libc.errno(state));
        arena.close();
        throw new UnsupportedOperationException(
            "the kernel refuses transparent huge pages for anonymous memory (madvise: "
                + errno
                + ")");
      }
      List<ByteBuffer> regions = new ArrayList<>();
      for (long at = 0; at < bytes; at += REGION) {
        regions.add(memory.asSlice(at, Math.min(REGION, bytes - at)).asByteBuffer());
      }
      return new ArenaMapping(arena, List.copyOf(regions));
    } catch (RuntimeException | Error e) {
      if (arena.scope().isAlive()) {
        arena.close();
      }
      throw e;
    }
  }

  /** Unmaps what {@code mmap} gave; the arena of the mapping is closing, so not its errno slot. */
  private static void unmap(MemorySegment base, long total) {
    try (Arena scratch = Arena.ofConfined()) {
      Libc.munmap(Libc.captureState(scratch), base, total);
    }
  }

  /** A mapping whose arena's cleanup unmaps it. */
  private record ArenaMapping(Arena arena, List<ByteBuffer> regions) implements Mapping {
    @Override
    public void close() {
      if (arena.scope().isAlive()) {
        arena.close();
      }
    }
  }
}
