package io.github.precopy.core.testing;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.DirtyTracking;
import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/** The destination oracle: the source's memory. */
public final class TestMemories {

  private TestMemories() {}

  /** Whether every page {@code guest} has in use holds the same bytes in {@code destination}. */
  public static boolean inUsePagesEqual(Guest guest, GuestMemory destination) {
    for (RamBlock block : guest.memory().blocks()) {
      RamBlock copy = destination.blocks().get(block.id());
      PageBitmap inUse = guest.pagesInUse(block);
      for (long page = 0; page < block.pageCount(); page++) {
        if ((inUse == null || inUse.get(page)) && !block.samePage(page, copy)) {
          return false;
        }
      }
    }
    return true;
  }

  public static final int PAGE = GuestMemory.PAGE_SIZE;

  /**
   * The dirty trackings end-to-end tests run with: the software log everywhere, and kernel tracking
   * too on JDK 22 and later, where the build puts it on the class path and it must work (a kernel
   * without it fails those tests with the reason rather than skipping them).
   */
  public static Stream<String> dirtyTrackings() {
    return Runtime.version().feature() >= 22
        ? Stream.of(DirtyTracking.SOFTWARE, DirtyTracking.KERNEL)
        : Stream.of(DirtyTracking.SOFTWARE);
  }

  private static final String[] NAMES = {"pc.ram", "vga.vram", "pc.bios", "ram-ü-€"};

  /** The seed for a randomised test: {@code -Dprecopy.seed=N} or the clock; printed. */
  public static long seed(String test) {
    long seed = Long.getLong("precopy.seed", System.nanoTime());
    System.out.println(test + ": seed " + seed + " (rerun with -Dprecopy.seed=" + seed + ")");
    return seed;
  }

  /** 1 to 4 blocks of 1 to {@code maxPages} pages each, at page-aligned addresses with gaps. */
  public static GuestMemory randomLayout(SplittableRandom random, int maxPages) {
    GuestMemory.Builder builder = GuestMemory.builder();
    int blocks = 1 + random.nextInt(NAMES.length);
    long address = 0;
    for (int i = 0; i < blocks; i++) {
      long length = (1L + random.nextInt(maxPages)) * PAGE;
      builder.anonymousBlock(NAMES[i], address, length);
      address += length + (long) random.nextInt(4) * PAGE;
    }
    return builder.build();
  }

  /** A fresh, zeroed guest with the same blocks as {@code source}. */
  public static GuestMemory sameLayout(GuestMemory source) {
    GuestMemory.Builder builder = GuestMemory.builder();
    for (RamBlock block : source.blocks()) {
      builder.anonymousBlock(block.name(), block.guestAddress(), block.usedLength());
    }
    return builder.build();
  }

  /**
   * Gives each page random contents: about a third stay zero, some hold a single non-zero byte at
   * the very end (to catch a short zero check), the rest random bytes.
   */
  public static void fillRandomPages(GuestMemory memory, SplittableRandom random) {
    byte[] page = new byte[PAGE];
    for (RamBlock block : memory.blocks()) {
      for (long p = 0; p < block.pageCount(); p++) {
        writeRandomPage(memory, block, p, random, page);
      }
    }
  }

  /** Overwrites one page with random contents of the kinds {@link #fillRandomPages} uses. */
  public static void writeRandomPage(
      GuestMemory memory, RamBlock block, long page, SplittableRandom random, byte[] scratch) {
    long address = block.guestAddress() + page * PAGE;
    int kind = random.nextInt(6);
    if (kind < 2) {
      memory.fill(address, PAGE, (byte) 0);
    } else if (kind == 2) {
      memory.fill(address, PAGE, (byte) 0);
      memory.write(address + PAGE - 1, new byte[] {(byte) (1 + random.nextInt(255))}, 0, 1);
    } else {
      random.nextBytes(scratch);
      memory.write(address, scratch, 0, PAGE);
    }
  }

  /** Whether every byte of {@code memory} equals {@code value}. */
  public static boolean allBytesAre(GuestMemory memory, byte value) {
    byte[] expected = new byte[PAGE];
    Arrays.fill(expected, value);
    byte[] actual = new byte[PAGE];
    for (RamBlock block : memory.blocks()) {
      for (long p = 0; p < block.pageCount(); p++) {
        block.readPage(p, actual, 0);
        if (!Arrays.equals(actual, expected)) {
          return false;
        }
      }
    }
    return true;
  }
}
