package io.github.precopy.examples.cli;

import io.github.precopy.core.memory.GuestMemory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks a guest memory size before anything is mapped: at least 16 MiB, whole pages, and room
 * where {@link GuestMemory} maps anonymous RAM ({@code /dev/shm}, or {@code java.io.tmpdir} where
 * that is missing), so that a guest too large fails with a clear message rather than a bus error
 * when the file system fills up.
 */
final class MemoryBudget {

  /** The smallest guest the command line builds. */
  static final long MIN_BYTES = 16L << 20;

  private MemoryBudget() {}

  /**
   * Checks {@code bytes} for {@code copies} guests of that size at once (2 for an in-process
   * migration: source and destination).
   *
   * @throws IllegalArgumentException with a one-line message naming the valid range
   */
  static void check(String option, long bytes, int copies) {
    Path directory = directory();
    long usable;
    try {
      usable = Files.getFileStore(directory).getUsableSpace();
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot tell how much memory " + directory + " can hold: " + e.getMessage(), e);
    }
    long max = usable / copies & -(1L << 20);
    String range = "valid: " + Sizes.format(MIN_BYTES) + " to " + Sizes.format(max);
    if (bytes < MIN_BYTES) {
      throw new IllegalArgumentException(
          option + " " + Sizes.format(bytes) + " is too small; " + range);
    }
    if (bytes % GuestMemory.PAGE_SIZE != 0) {
      throw new IllegalArgumentException(
          option + " " + bytes + " is not a whole number of 4 KiB pages, e.g. 64m or 2g");
    }
    if (bytes > max) {
      throw new IllegalArgumentException(
          option
              + " "
              + Sizes.format(bytes)
              + (copies == 1 ? " does not fit: " : " does not fit twice (source and destination): ")
              + directory
              + " has "
              + Sizes.format(usable)
              + " free; "
              + range);
    }
  }

  /** Where {@link GuestMemory#anonymous} puts its memory. */
  private static Path directory() {
    Path shm = Path.of("/dev/shm");
    return Files.isDirectory(shm) && Files.isWritable(shm)
        ? shm
        : Path.of(System.getProperty("java.io.tmpdir"));
  }
}
