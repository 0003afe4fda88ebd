package io.github.precopy.sim;

import io.github.precopy.core.memory.GuestMemory;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;

/**
 * The boot every built-in workload starts with: it leaves memory as a real Linux guest has it, by
 * the options {@code profile}, {@code touched}, {@code in-use} and {@code content} documented in
 * {@link Workloads}. One instance serves one guest.
 *
 * <p>The boot runs in phases, every vCPU waiting for the others between them, so that the layout
 * the buddy allocator ends with follows from the order of allocations as in the real guest:
 *
 * <ol>
 *   <li>vCPU 0 allocates the kernel's footprint, unmovable ({@link #kernelPages}): the memory map
 *       and the kernel's own memory, most of it written, and on guests above 3.5 GiB the 64 MiB
 *       software I/O bounce buffer, never written;
 *   <li>each vCPU sets up the workload's own memory (a working set) and its part of {@code in-use}
 *       (processes that stay), movable and written;
 *   <li>profile {@code used}: each vCPU writes its part of {@code touched} times the memory then
 *       free, as one program that fills memory and exits (movable pages, with one unmovable
 *       page-table page per 2 MiB mapped), and once every vCPU has, frees it all.
 * </ol>
 *
 * Freed pages keep their stale contents. Because the buddy allocator merges freed buddies and keeps
 * unmovable allocations in their own pageblocks, free memory comes back in whole 4 MiB blocks, as
 * in the reference guest's {@code /proc/buddyinfo}.
 */
final class GuestBoot {

  static final String PROFILE = "profile";
  static final String USED = "used";
  static final String FRESH = "fresh";
  static final List<String> PROFILES = List.of(USED, FRESH);
  static final String TOUCHED = "touched";
  static final String IN_USE = "in-use";
  static final double USED_TOUCHED = 0.75;
  static final String INIT_ON_ALLOC = "init-on-alloc";
  static final List<String> SWITCH = List.of("off", "on");

  /**
   * The options every workload has: {@code profile}, {@code touched}, {@code in-use}, {@code
   * init-on-alloc} and {@code content}, for a workload whose own memory is the option {@code
   * ownMemory} (null if it has none).
   */
  static List<WorkloadOption> options(String ownMemory) {
    return List.of(
        WorkloadOption.choice(
            PROFILE,
            "what free memory holds at boot's end: old data of a program that ran (used), or"
                + " nothing, never touched (fresh)",
            PROFILES,
            "fresh"),
        new WorkloadOption(
            TOUCHED,
            WorkloadOption.Kind.SHARE,
            "share of free memory a program writes and frees at boot (profile used)",
            WorkloadOption.percent(USED_TOUCHED),
            "0% to 100%; with profile used only",
            "50%"),
        WorkloadOption.share(
            IN_USE,
            "share of memory processes keep allocated and written after boot",
            0,
            "0% to 100%, with the kernel's footprint"
                + (ownMemory == null ? "" : " and " + ownMemory)
                + " at most all memory",
            "10%"),
        WorkloadOption.choice(
            INIT_ON_ALLOC,
            "the guest kernel's init_on_alloc: every page allocated is zeroed first, the balloon"
                + " driver's hint blocks too",
            SWITCH,
            "on"),
        PageContent.DECLARATION);
  }

  /** Pages of one 2 MiB range a page-table page maps. */
  static final long PAGES_PER_PAGE_TABLE = 512;

  private static final long MIB_PAGES = (1L << 20) / GuestMemory.PAGE_SIZE;
  private static final long KERNEL_WRITTEN_PAGES = 79 * MIB_PAGES;
  private static final long KERNEL_ZERO_PAGES = 8 * MIB_PAGES;
  private static final long BOUNCE_BUFFER_PAGES = 64 * MIB_PAGES;
  private static final long BOUNCE_BUFFER_ABOVE_PAGES = 3584 * MIB_PAGES;
  private static final long BARRIER_POLL_NANOS = 1_000_000;

  private final String workload;
  private final boolean used;
  private final double touched;
  private final double inUse;
  private final String content;
  private final boolean initOnAlloc;
  private GuestMemory memory;
  private PageContent pool;
  private CountDownLatch kernelDone;
  private CountDownLatch setUp;
  private CountDownLatch filled;
  private final BlockList kernel = new BlockList();
  private long fillPages = -1;

  GuestBoot(String workload, OptionReader options) {
    this.workload = workload;
    this.used = options.choice(PROFILE, PROFILES).equals(USED);
    if (!used && options.given(TOUCHED)) {
      throw new IllegalArgumentException(
          workload
              + ": option touched applies to profile used only (a fresh guest touches nothing)");
    }
    this.touched = used ? options.share(TOUCHED, USED_TOUCHED) : 0;
    this.inUse = options.share(IN_USE, 0);
    this.content = options.choice(PageContent.OPTION, PageContent.KINDS);
    this.initOnAlloc = options.choice(INIT_ON_ALLOC, SWITCH).equals("on");
  }

  /**
   * The kernel's footprint in a guest of {@code totalPages}: written, the memory map (64 bytes per
   * page) and 79 MiB plus 1.7 MiB per GiB of kernel memory; allocated but never written (zero), 8
   * MiB plus 1.3 MiB per GiB, and above 3.5 GiB the 64 MiB bounce buffer; at most an eighth of a
   * small guest, the written part first. Fitted to the reference guest (Debian 6.1 with a busybox
   * initramfs under QEMU 7.2): 125 MiB not free at 2 GiB and 303 MiB at 8 GiB, of which QEMU sent
   * about 114 and 220 MiB as data (its legacy idle runs, less 9 bytes per zero page).
   */
  static long kernelPages(long totalPages) {
    return kernelWrittenPages(totalPages) + kernelZeroPages(totalPages);
  }

  /** The written part of {@link #kernelPages}. */
  static long kernelWrittenPages(long totalPages) {
    long pages = totalPages / 64 + KERNEL_WRITTEN_PAGES + totalPages * 17 / 10 / 1024;
    return Math.min(pages, totalPages / 8);
  }

  private static long kernelZeroPages(long totalPages) {
    long pages =
        KERNEL_ZERO_PAGES
            + totalPages * 13 / 10 / 1024
            + (totalPages > BOUNCE_BUFFER_ABOVE_PAGES ? BOUNCE_BUFFER_PAGES : 0);
    return Math.min(pages, totalPages / 8 - kernelWrittenPages(totalPages));
  }

  /**
   * Checks that the workload's own memory, {@code pages} set by the option {@code what}, fits
   * beside the kernel's footprint and {@code in-use} in {@code cpu}'s guest.
   *
   * @throws IllegalArgumentException if it does not
   */
  void checkFits(Vcpu cpu, String what, long pages) {
    long total = cpu.allocator().totalPages();
    long kernelAndInUse = kernelPages(total) + (long) (inUse * total);
    if (pages + kernelAndInUse > total) {
      throw new IllegalArgumentException(
          workload
              + ": "
              + what
              + " ("
              + pages
              + " pages) plus the kernel's footprint and in-use ("
              + kernelAndInUse
              + " pages) exceed the guest's "
              + total
              + " pages");
    }
  }

  /**
   * Checks that the workload's own memory, {@code share} of guest memory named {@code what}, fits
   * beside {@code in-use}; the kernel's footprint depends on the guest's size and is checked when
   * the guest boots (an out-of-memory failure names what did not fit).
   */
  void checkFits(String what, double share) {
    if (share + inUse > 1) {
      throw new IllegalArgumentException(
          workload + ": " + what + " (" + share + ") plus in-use (" + inUse + ") exceed 1");
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
      cpu.allocator().initOnAlloc(initOnAlloc);
      kernelDone = new CountDownLatch(1);
      setUp = new CountDownLatch(cpu.count());
      filled = new CountDownLatch(cpu.count());
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
   * Boots {@code cpu}'s share, phase by phase, with {@code setup} (the workload's own memory) in
   * the second phase.
   *
   * @return the blocks of {@code in-use} this vCPU keeps
   */
  BlockList run(Vcpu cpu, Runnable setup) {
    if (cpu.index() == 0) {
      try {
        allocateKernel(cpu);
      } finally {
        kernelDone.countDown();
      }
    }
    await(cpu, kernelDone);
    BlockList kept;
    try {
      setup.run();
      kept = allocateAndWrite(cpu, share(cpu, inUse), "in-use memory");
    } finally {
      setUp.countDown();
    }
    await(cpu, setUp);
    BlockList fill = new BlockList();
    BlockList pageTables = new BlockList();
    try {
      fill(cpu, part(cpu, fillPages(cpu)), fill, pageTables);
    } finally {
      filled.countDown();
    }
    await(cpu, filled);
    fill.freeAll(cpu.allocator());
    pageTables.freeAll(cpu.allocator());
    return kept;
  }

  /** The kernel's written memory, complete once every vCPU has booted; read-only after boot. */
  BlockList kernelMemory() {
    return kernel;
  }

  private void allocateKernel(Vcpu cpu) {
    BuddyAllocator allocator = cpu.allocator();
    long total = allocator.totalPages();
    allocateUnmovable(cpu, kernel, kernelWrittenPages(total), true);
    allocateUnmovable(cpu, new BlockList(), kernelZeroPages(total), false);
  }

  private static void allocateUnmovable(Vcpu cpu, BlockList blocks, long pages, boolean write) {
    long end = blocks.pages() + pages;
    while (blocks.pages() < end) {
      int order = Math.min(BuddyAllocator.MAX_ORDER, floorLog2(end - blocks.pages()));
      long address = cpu.allocator().allocateUnmovable(order);
      if (address < 0) {
        throw new IllegalStateException("out of guest memory for the kernel's footprint");
      }
      blocks.add(address, order);
      if (write) {
        cpu.writePages(address, 1L << order);
      }
    }
  }

  private synchronized long fillPages(Vcpu cpu) {
    if (fillPages < 0) {
      fillPages = (long) (touched * cpu.allocator().freePages());
    }
    return fillPages;
  }

  /**
   * Writes {@code pages} of movable memory into {@code fill} in the largest blocks free, with the
   * page tables mapping them, as a program writing a large mapping; stops early if memory runs out.
   */
  private static void fill(Vcpu cpu, long pages, BlockList fill, BlockList pageTables) {
    long end = fill.pages() + pages;
    while (fill.pages() < end) {
      int got =
          fill.allocate(
              cpu.allocator(), Math.min(BuddyAllocator.MAX_ORDER, floorLog2(end - fill.pages())));
      if (got < 0) {
        return;
      }
      cpu.writePages(fill.address(fill.size() - 1), 1L << got);
      mapPageTables(cpu, fill.pages(), pageTables);
    }
  }

  /**
   * Allocates unmovable page-table pages into {@code pageTables} until they map {@code
   * mappedPages}, one per 2 MiB, each written; stops if memory runs out.
   */
  static void mapPageTables(Vcpu cpu, long mappedPages, BlockList pageTables) {
    while (pageTables.pages() * PAGES_PER_PAGE_TABLE < mappedPages) {
      long table = cpu.allocator().allocateUnmovable(0);
      if (table < 0) {
        return;
      }
      pageTables.add(table, 0);
      cpu.writeWithinPage(table, 8);
    }
  }

  private static void await(Vcpu cpu, CountDownLatch latch) {
    while (latch.getCount() > 0) {
      cpu.idleUntil(System.nanoTime() + BARRIER_POLL_NANOS);
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
