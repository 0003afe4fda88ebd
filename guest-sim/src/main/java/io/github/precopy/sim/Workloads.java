package io.github.precopy.sim;

import java.util.List;

/**
 * The built-in workloads, by name. Each is seeded through its vCPUs' random sources and so
 * reproducible: with one vCPU, the same seed and options give the same boot contents and the same
 * allocations. Rates are paced against {@link System#nanoTime()}, so they do not depend on the
 * hardware (unless it is too slow to keep up); a dirty rate counts 4 KiB for every page a write
 * touches, whole or in part. All writes go through {@link
 * io.github.precopy.core.memory.GuestMemory}, so the dirty log sees every one, and write non-zero
 * data that changes with every write.
 *
 * <h2>Content (every workload)</h2>
 *
 * {@code content} sets what the pages a workload writes whole hold, at boot and after (partial
 * writes stay a few random words; {@code sparse-writes} increments single bytes):
 *
 * <ul>
 *   <li>{@code random} (default): per-vCPU random filler, as the simulator always wrote; the same
 *       seed gives the same bytes as before the option existed.
 *   <li>{@code text}: English-like text, words of a fixed vocabulary of about 400 common words
 *       drawn with a Zipf-like frequency (the word of rank r with weight 1 / r^1.3), in sentences
 *       and lines of up to 72 characters. Deflate shrinks such a page about 2.7-fold (measured by
 *       {@code PageContentTest}), in the range of English prose.
 *   <li>{@code mixed}: a quarter each of zero-rich pages (mostly zeros with one to four runs of
 *       non-zero words: page tables, sparse heap; never all zero, since zero pages are free or
 *       untouched memory here), text pages, code-like pages (x86-64 instruction patterns with
 *       random operands) and random pages (compressed or encrypted data). The classes follow the
 *       page characteristics that zero-aware migration compression tells apart (Jin et al., "MECOM:
 *       Live migration of virtual machines by adaptively compressing memory pages"); their equal
 *       shares are an assumption, since no measurement of the shares in guest memory was found.
 *       They are chosen so that deflate halves such memory page by page (2.0-fold, measured by
 *       {@code PageContentTest}), as the "two to one compression (2:1) is practical for most
 *       applications" that Abali et al. measured for main memory ("Performance of Hardware
 *       Compressed Main Memory", IBM T.J. Watson Research Center).
 * </ul>
 *
 * Each vCPU writes a whole page by copying one of a pool of pages generated once per guest from the
 * seed, then stamping its address, a sequence number and a random word into it ({@link
 * PageContent}), so content costs no more than {@code random} while the guest runs.
 *
 * <h2>Boot (every workload)</h2>
 *
 * The boot leaves memory as the real Linux guests of {@code ../shared/reference/qemu-fph-anchor.md}
 * have it at the migration point (Debian 6.1 with a busybox initramfs under QEMU 7.2, measured on
 * this kind of machine). vCPU 0 first allocates the kernel's footprint: the memory map (64 bytes
 * per 4 KiB page) and 79 MiB plus 1.7 MiB per GiB of kernel memory, written; 8 MiB plus 1.3 MiB per
 * GiB allocated but never written, and above 3.5 GiB the 64 MiB software I/O bounce buffer, never
 * written (the reference: 125 MiB not free at 2 GiB, 303 MiB at 8 GiB, of which QEMU sent about 114
 * and 220 MiB as data). Then each vCPU sets up the workload's own memory (working set, area,
 * buffer) and its part of {@code in-use}; then, with profile {@code used}, writes its part of the
 * fill and, once every vCPU has, frees it. Kernel allocations (the footprint, page tables) are
 * unmovable and the buddy allocator groups them by mobility as Linux does, so free memory ends in
 * whole 4 MiB blocks (about 99 % of it, as the reference's {@code /proc/buddyinfo}).
 *
 * <ul>
 *   <li>{@code profile} = {@code used}: what free memory holds when the workload starts. {@code
 *       used}, a guest that has run: a program wrote {@code touched} of the free memory and exited,
 *       so free memory holds old data (the reference's "used" guest, {@code churn fill 75}; the
 *       setting of the published free-page-hint result). {@code fresh}, a guest just booted: free
 *       memory was never touched, so it reads as zero and is not even resident (the reference's
 *       "idle" guest).
 *   <li>{@code touched} = 75%: with profile {@code used}, the share of free memory written and
 *       freed: 75 % is the reference's used guest. The published result's 8 GiB guest is matched by
 *       15 %, a guest that has run lightly: at that share both its published reductions, idle and
 *       compiling, fall within the series' spread ({@code bench/RESULTS.md} §11).
 *   <li>{@code in-use} = 0%: a share of guest memory processes keep allocated and written (daemons,
 *       page cache); the reference guests run nothing else.
 *   <li>{@code init-on-alloc} = {@code off}: {@code on} is the kernel's {@code init_on_alloc=1}
 *       (Debian's default): every block the guest allocates is zeroed first, the balloon driver's 4
 *       MiB hint blocks too, so hinting dirties the free memory it reports and the next round sends
 *       it again, as zero pages. The reference measured it at a 2 s limit: hinting made its idle
 *       guests 49 to 53 % slower to migrate, and cut its used guests' time by 56 to 65 % instead of
 *       92 to 93 %. Off by default, as in the reference's tables and in the published result's 2018
 *       kernel, which had no such option.
 * </ul>
 *
 * <h2>{@code idle}</h2>
 *
 * Near silence after boot: random pages of the kernel and of {@code in-use} are written, a quarter
 * of them whole and the rest one to four words (counters, log lines).
 *
 * <ul>
 *   <li>{@code dirty-rate} = 64k (bytes of dirtied pages per second, whole guest): 16 pages a
 *       second, a few per vCPU, standing for timer, statistics and log updates of a guest that runs
 *       nothing; small enough that it never holds up convergence.
 * </ul>
 *
 * <h2>{@code compile}</h2>
 *
 * A parallel build: each vCPU runs compiler processes one after another. A process grows a heap to
 * a size drawn log-uniformly from 256 KiB to its maximum, in blocks of mixed orders written as they
 * are allocated, then rewrites random heap pages, whole or in part, three times the heap's size in
 * total, then writes an object file of a sixteenth of its heap into the page cache and exits,
 * freeing its heap. The page cache is kept allocated and grows slowly; past its cap the oldest
 * files are evicted (freed). When memory runs short a process reclaims page cache, and if that is
 * empty it stalls for a millisecond and retries.
 *
 * <ul>
 *   <li>{@code dirty-rate} = 64 MiB/s per vCPU (256 MiB/s on 4 vCPUs; the option sets the guest
 *       total): a compiler streams through a heap of tens of MiB within a few seconds, and a build
 *       keeps every vCPU busy with one.
 *   <li>Heap maximum (fixed): 64 MiB, a large C++ translation unit scaled down, and at most an
 *       eighth of guest memory across all vCPUs, so small guests keep headroom.
 *   <li>{@code page-cache} = 20%: the cap of the page cache the build adds (sources, headers and
 *       objects of a mid-sized tree on a guest of a few GiB).
 * </ul>
 *
 * <h2>{@code busy}</h2>
 *
 * The reference's busy guest ({@code churn busy 4 384}): each vCPU repeatedly maps a chunk of a
 * whole number of MiB drawn uniformly between {@code min-chunk} and {@code max-chunk}, writes it
 * whole as it allocates it (with one page-table page per 2 MiB), keeps it, and frees its oldest
 * chunks while it holds more than its part of the working set. Free memory it returns holds old
 * data; with profile {@code fresh} the rest of free memory was never touched, as in the reference.
 *
 * <ul>
 *   <li>{@code working-set} = 384m: the bytes all vCPUs hold at most, as the reference.
 *   <li>{@code min-chunk} = 1m, {@code max-chunk} = 64m: the reference's chunk sizes.
 *   <li>{@code dirty-rate} = 512m (whole guest): the reference guest's own write rate before
 *       migrating at 2 GiB (540 MiB/s median, 473 to 668 over its runs, under TCG on this machine).
 * </ul>
 *
 * <h2>{@code hot-set}</h2>
 *
 * A fixed working set, allocated in the largest blocks at boot (before the boot's other
 * allocations), swept continuously in 64 KiB writes as fast as the vCPUs run, with every eighth
 * step writing a few words into each of 16 random pages of it. Unpaced: against a link slower than
 * memory it never converges.
 *
 * <ul>
 *   <li>{@code working-set} = 25%: an in-memory cache or database buffer pool that is a quarter of
 *       RAM, rewritten faster than any link can copy it. It comes on top of {@code touched}.
 * </ul>
 *
 * <h2>{@code uniform}</h2>
 *
 * Writes random pages of an area allocated at boot (before the boot's other allocations),
 * uniformly, half of them whole and half a few words, paced to a dirty rate: the synthetic
 * dirty-rate generator of migration tests.
 *
 * <ul>
 *   <li>{@code area} = 50%: an application heap of half the RAM, large enough that the dirty set
 *       keeps growing over a migration round. It comes on top of {@code touched}.
 *   <li>{@code dirty-rate} = 64m (whole guest): a moderately busy server, below a 1 Gbit/s link's
 *       119 MB/s so that an unoptimised migration still converges.
 * </ul>
 *
 * <h2>{@code sparse-writes}</h2>
 *
 * QEMU's synthetic load for XBZRLE ({@code docs/xbzrle.txt}, "Testing"): a buffer allocated at boot
 * (before the boot's other allocations) and written whole once, then swept page by page, each page
 * getting the byte at offsets 0, 1024, 2048 and 3072 incremented: four bytes of a page change per
 * pass, the sparse update pattern XBZRLE is made for. The buffer is split between the vCPUs, each
 * sweeping its own part.
 *
 * <ul>
 *   <li>{@code buffer} = 64m (QEMU's test program allocates 16 MiB, {@code calloc(4096, 4096)}). A
 *       whole number of pages; with {@code touched} it must fit in the guest's memory (checked when
 *       the guest boots, since the size is absolute).
 *   <li>{@code dirty-rate}: unpaced by default, as QEMU's loop; given, the bytes of buffer pages
 *       updated per second, whole guest (4 KiB per page updated).
 * </ul>
 *
 * <p>Option values: shares as {@code 0.25} or {@code 25%}; rates in bytes per second as {@link
 * Units#parseRate} reads them, e.g. {@code 64k}, {@code 128m} or {@code 1t}; sizes as {@link
 * Units#parseSize} reads them, e.g. {@code 16m}. {@link #options} lists each workload's options
 * with their defaults and valid values.
 *
 * <p>Thread-safety: this class is stateless. A workload instance serves one guest (its boot
 * coordinates that guest's vCPUs); creating a second guest with it fails at boot.
 */
public final class Workloads {

  private static final List<String> NAMES =
      List.of(
          IdleWorkload.NAME,
          CompileWorkload.NAME,
          BusyWorkload.NAME,
          HotSetWorkload.NAME,
          UniformWorkload.NAME,
          SparseWritesWorkload.NAME);

  private Workloads() {}

  /** The names of the built-in workloads. */
  public static List<String> names() {
    return NAMES;
  }

  /**
   * What the workload {@code name} does, in one short line.
   *
   * @throws IllegalArgumentException if the name is unknown
   */
  public static String summary(String name) {
    return switch (known(name)) {
      case IdleWorkload.NAME -> "near silence after boot: a few in-use pages written per second";
      case CompileWorkload.NAME -> "a parallel build: compilers grow, rewrite and free their heaps";
      case BusyWorkload.NAME ->
          "memory churn: each vCPU writes, keeps and frees 1-64 MiB chunks in a 384 MiB working set";
      case HotSetWorkload.NAME ->
          "a working set rewritten as fast as the vCPUs run; unpaced, so it never converges"
              + " over a link slower than memory";
      case UniformWorkload.NAME -> "random pages of an area written at a set rate";
      default ->
          "QEMU's XBZRLE test writer: one byte in each quarter of every page of a buffer"
              + " incremented, pass after pass";
    };
  }

  /**
   * The options of the workload {@code name}, as it declares them: key, meaning, default, valid
   * values and an example.
   *
   * @throws IllegalArgumentException if the name is unknown
   */
  public static List<WorkloadOption> options(String name) {
    return switch (known(name)) {
      case IdleWorkload.NAME -> IdleWorkload.OPTIONS;
      case CompileWorkload.NAME -> CompileWorkload.OPTIONS;
      case BusyWorkload.NAME -> BusyWorkload.OPTIONS;
      case HotSetWorkload.NAME -> HotSetWorkload.OPTIONS;
      case UniformWorkload.NAME -> UniformWorkload.OPTIONS;
      default -> SparseWritesWorkload.OPTIONS;
    };
  }

  private static String known(String name) {
    if (!NAMES.contains(name)) {
      throw unknown(name);
    }
    return name;
  }

  private static IllegalArgumentException unknown(String name) {
    return new IllegalArgumentException(
        "unknown workload '" + name + "'; valid workloads: " + String.join(", ", NAMES));
  }

  /**
   * Creates a fresh instance of the workload {@code name} for one guest.
   *
   * @throws IllegalArgumentException if the name is unknown (the message lists the valid names), or
   *     an option is unknown to that workload or invalid
   */
  public static Workload create(String name, WorkloadOptions options) {
    switch (name == null ? "" : name) {
      case IdleWorkload.NAME:
        return new IdleWorkload(options);
      case CompileWorkload.NAME:
        return new CompileWorkload(options);
      case BusyWorkload.NAME:
        return new BusyWorkload(options);
      case HotSetWorkload.NAME:
        return new HotSetWorkload(options);
      case UniformWorkload.NAME:
        return new UniformWorkload(options);
      case SparseWritesWorkload.NAME:
        return new SparseWritesWorkload(options);
      default:
        throw unknown(name);
    }
  }
}
