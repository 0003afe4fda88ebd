package io.github.precopy.core.guest;

import java.util.SplittableRandom;

/**
 * The boot every built-in workload starts with: it leaves memory as a guest that has been up for a
 * while has it. Options {@code touched} and {@code in-use} (shares of guest memory) are documented
 * in {@link Workloads}.
 *
 * <p>Each vCPU touches its share of {@code touched} in "owners" of 64 KiB to 4 MiB (a process, a
 * file in the page cache, a kernel cache), allocated in blocks of mixed orders ({@link
 * #randomOrder}) and written with non-zero data. An owner is kept whole or freed whole, so that
 * free memory comes back in contiguous runs as it does when a process exits; owners are kept while
 * that brings the kept amount closer to {@code in-use} times the touched amount. Freed pages keep
 * their stale contents.
 */
final class GuestBoot {

  static final String TOUCHED = "touched";
  static final String IN_USE = "in-use";
  static final double DEFAULT_TOUCHED = 0.5;
  static final double DEFAULT_IN_USE = 0.1;

  private static final long MIN_OWNER_PAGES = 16;
  private static final long MAX_OWNER_PAGES = 1024;

  private final double touched;
  private final double inUse;

  GuestBoot(OptionReader options) {
    this.touched = options.share(TOUCHED, DEFAULT_TOUCHED);
    this.inUse = options.share(IN_USE, DEFAULT_IN_USE);
    if (inUse > touched) {
      throw new IllegalArgumentException(
          "option in-use (" + inUse + ") must not exceed touched (" + touched + ")");
    }
  }

  /** The share of guest memory the boot leaves in use. */
  double inUse() {
    return inUse;
  }

  /**
   * Boots {@code cpu}'s share.
   *
   * @return the blocks the boot keeps in use
   */
  BlockList run(Vcpu cpu) {
    SplittableRandom random = cpu.random();
    BuddyAllocator allocator = cpu.allocator();
    long target = share(cpu, touched);
    double keepRatio = touched == 0 ? 0 : inUse / touched;
    BlockList kept = new BlockList();
    long done = 0;
    boolean exhausted = false;
    while (done < target && !exhausted) {
      long ownerPages =
          Math.min(target - done, logUniform(random, MIN_OWNER_PAGES, MAX_OWNER_PAGES));
      BlockList owner = new BlockList();
      while (owner.pages() < ownerPages) {
        int order = Math.min(randomOrder(random), floorLog2(ownerPages - owner.pages()));
        int got = owner.allocate(allocator, order);
        if (got < 0) {
          exhausted = true;
          break;
        }
        cpu.writePages(owner.address(owner.size() - 1), 1L << got);
      }
      done += owner.pages();
      if (kept.pages() + owner.pages() / 2.0 < keepRatio * done) {
        kept.addAll(owner);
      } else {
        owner.freeAll(allocator);
      }
    }
    return kept;
  }

  /** This vCPU's part of {@code share} of guest memory, in pages; the parts add up exactly. */
  static long share(Vcpu cpu, double share) {
    long all = (long) (share * cpu.allocator().totalPages());
    return all * (cpu.index() + 1) / cpu.count() - all * cpu.index() / cpu.count();
  }

  /**
   * Allocates {@code pages} in the largest blocks available and writes them: a working set or heap
   * an application sets up at start.
   *
   * @throws IllegalStateException if the guest runs out of memory
   */
  static BlockList allocateAndWrite(Vcpu cpu, long pages, String what) {
    BlockList blocks = new BlockList();
    while (blocks.pages() < pages) {
      int order = Math.min(BuddyAllocator.MAX_ORDER, floorLog2(pages - blocks.pages()));
      int got = blocks.allocate(cpu.allocator(), order);
      if (got < 0) {
        throw new IllegalStateException(
            "vcpu-"
                + cpu.index()
                + ": out of guest memory after "
                + blocks.pages()
                + " of "
                + pages
                + " pages of the "
                + what);
      }
      cpu.writePages(blocks.address(blocks.size() - 1), 1L << got);
    }
    return blocks;
  }

  /**
   * The order of a kernel or process allocation: half are single pages (most kernel and user
   * allocations), 30% orders 1 to 3 (slab caches, network buffers, large folios of files), 15%
   * orders 4 to 8 (large buffers and folios), 5% order 9 (a 2 MiB transparent huge page).
   */
  static int randomOrder(SplittableRandom random) {
    double u = random.nextDouble();
    if (u < 0.5) {
      return 0;
    }
    if (u < 0.8) {
      return 1 + random.nextInt(3);
    }
    if (u < 0.95) {
      return 4 + random.nextInt(5);
    }
    return 9;
  }

  /** A value between {@code min} and {@code max} whose logarithm is uniform. */
  static long logUniform(SplittableRandom random, long min, long max) {
    double log = Math.log(min) + random.nextDouble() * (Math.log(max) - Math.log(min));
    return Math.max(min, Math.min(max, Math.round(Math.exp(log))));
  }

  static int floorLog2(long value) {
    return 63 - Long.numberOfLeadingZeros(value);
  }
}
