package io.github.precopy.sim;

import io.github.precopy.core.memory.GuestMemory;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;

/**
 * The boot every built-in workload starts with: it leaves memory as a guest that has been up for a
 * while has it. Options {@code touched} and {@code in-use} (shares of guest memory) and {@code
 * content} (what whole pages are written with, at boot and after) are documented in {@link
 * Workloads}. One instance serves one guest.
 *
 * <p>Each vCPU first runs its workload's own setup (a working set), then touches its share of
 * {@code touched} in "owners" of 64 KiB to 64 MiB (a process, a file in the page cache, a kernel
 * cache; at most a sixteenth of the vCPU's share, so small guests still have many owners),
 * allocated in blocks of mixed orders ({@link #randomOrder}) and written with the workload's {@code
 * content}, never all zeros. An owner is kept whole or freed whole, so that free memory comes back
 * in contiguous runs as it does when a process exits; owners are kept while that brings the kept
 * amount closer to {@code in-use} times the touched amount. Owners are freed only once every vCPU
 * has touched its share, so that the touched pages are distinct, as at the guest's peak of use.
 * Freed pages keep their stale contents.
 */
final class GuestBoot {

  static final String TOUCHED = "touched";
  static final String IN_USE = "in-use";
  static final double DEFAULT_TOUCHED = 0.5;
  static final double DEFAULT_IN_USE = 0.1;

  /**
   * The options every workload has: the boot's {@code touched} and {@code in-use}, for a workload
   * whose own memory is the option {@code ownMemory} (null if it has none), and {@code content}.
   */
  static List<WorkloadOption> options(String ownMemory) {
    return List.of(
        WorkloadOption.share(
            TOUCHED,
            "share of memory written during boot",
            DEFAULT_TOUCHED,
            "0% to 100%, at least in-use"
                + (ownMemory == null ? "" : ", with touched + " + ownMemory + " at most 100%"),
            "40%"),
        WorkloadOption.share(
            IN_USE,
            "share of memory still allocated after boot",
            DEFAULT_IN_USE,
            "0% to touched",
            "20%"),
        PageContent.DECLARATION);
  }

  private static final long MIN_OWNER_PAGES = 16;
  private static final long MAX_OWNER_PAGES = 16384;
  private static final long MIN_OWNERS_PER_VCPU = 16;
  private static final long BARRIER_POLL_NANOS = 1_000_000;

  private final String workload;
  private final double touched;
  private final double inUse;
  private final String content;
  private GuestMemory memory;
  private PageContent pool;
  private CountDownLatch touching;

  GuestBoot(String workload, OptionReader options) {
    this.workload = workload;
    this.touched = options.share(TOUCHED, DEFAULT_TOUCHED);
    this.inUse = options.share(IN_USE, DEFAULT_IN_USE);
    this.content = options.choice(PageContent.OPTION, PageContent.KINDS);
    if (inUse > touched) {
      throw new IllegalArgumentException(
          workload + ": option in-use (" + inUse + ") must not exceed touched (" + touched + ")");
    }
  }

  /**
   * Checks that the workload's own memory, {@code share} of guest memory named {@code what}, fits
   * beside the touched memory.
   */
  void checkFits(String what, double share) {
    if (share + touched > 1) {
      throw new IllegalArgumentException(
          workload + ": " + what + " (" + share + ") plus touched (" + touched + ") exceed 1");
    }
  }

  /**
   * Checks that the workload's own memory, {@code pages} set by the option {@code what}, fits
   * beside the touched memory of {@code cpu}'s guest.
   *
   * @throws IllegalArgumentException if it does not
   */
  void checkFits(Vcpu cpu, String what, long pages) {
    long total = cpu.allocator().totalPages();
    long touchedPages = (long) (touched * total);
    if (pages + touchedPages > total) {
      throw new IllegalArgumentException(
          workload
              + ": "
              + what
              + " ("
              + pages
              + " pages) plus touched ("
              + WorkloadOption.percent(touched)
              + ", "
              + touchedPages
              + " pages) exceed the guest's "
              + total
              + " pages");
    }
  }

  /**
   * Binds the boot to {@code cpu}'s guest and sets what the vCPU writes whole pages with (the pool
   * of {@code content} is generated on the first call, from that vCPU's random source); called from
   * {@link Workload#program} for every vCPU.
   *
   * @throws IllegalStateException if this instance already serves another guest
   */
  synchronized void bind(Vcpu cpu) {
    if (memory == null) {
      memory = cpu.memory();
      touching = new CountDownLatch(cpu.count());
      pool =
          content.equals(PageContent.RANDOM)
              ? null
              : PageContent.generate(content, cpu.random().split());
    } else if (memory != cpu.memory()) {
      throw new IllegalStateException(
          "a " + workload + " workload serves one guest; create another with Workloads.create");
    }
    cpu.content(pool);
  }

  /**
   * Boots {@code cpu}'s share with no setup of the workload's own; see {@link #run(Vcpu,
   * Runnable)}.
   */
  BlockList run(Vcpu cpu) {
    return run(cpu, () -> {});
  }

  /**
   * Boots {@code cpu}'s share: runs {@code setup}, touches memory, waits until every vCPU has done
   * so, then frees what is not kept.
   *
   * @return the blocks the boot keeps in use
   */
  BlockList run(Vcpu cpu, Runnable setup) {
    BlockList kept = new BlockList();
    BlockList stale = new BlockList();
    try {
      setup.run();
      touch(cpu, kept, stale);
    } finally {
      touching.countDown();
    }
    while (touching.getCount() > 0) {
      cpu.idleUntil(System.nanoTime() + BARRIER_POLL_NANOS);
    }
    stale.freeAll(cpu.allocator());
    return kept;
  }

  private void touch(Vcpu cpu, BlockList kept, BlockList stale) {
    SplittableRandom random = cpu.random();
    BuddyAllocator allocator = cpu.allocator();
    long target = share(cpu, touched);
    double keepRatio = touched == 0 ? 0 : inUse / touched;
    long largestOwner =
        Math.max(MIN_OWNER_PAGES, Math.min(MAX_OWNER_PAGES, target / MIN_OWNERS_PER_VCPU));
    long done = 0;
    boolean exhausted = false;
    while (done < target && !exhausted) {
      long ownerPages = Math.min(target - done, logUniform(random, MIN_OWNER_PAGES, largestOwner));
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
        stale.addAll(owner);
      }
    }
  }

  /** This vCPU's part of {@code share} of guest memory, in pages; the parts add up exactly. */
  static long share(Vcpu cpu, double share) {
    return part(cpu, (long) (share * cpu.allocator().totalPages()));
  }

  /** This vCPU's part of {@code all} pages; the parts add up exactly. */
  static long part(Vcpu cpu, long all) {
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
