package io.github.precopy.sim;

import static io.github.precopy.sim.WorkloadOption.concat;

import io.github.precopy.core.memory.GuestMemory;
import java.util.List;
import java.util.SplittableRandom;

/** The {@code compile} workload; see {@link Workloads}. */
final class CompileWorkload implements Workload {

  static final String NAME = "compile";
  static final String DIRTY_RATE = "dirty-rate";
  static final String PAGE_CACHE = "page-cache";
  static final double DEFAULT_VCPU_DIRTY_RATE = 64 << 20;
  static final double DEFAULT_PAGE_CACHE = 0.2;

  /** The options of this workload, as {@link Workloads#options} lists them. */
  static final List<WorkloadOption> OPTIONS =
      concat(
          GuestBoot.options(null),
          new WorkloadOption(
              DIRTY_RATE,
              WorkloadOption.Kind.RATE,
              "bytes of pages dirtied per second, whole guest",
              Units.formatSize((long) DEFAULT_VCPU_DIRTY_RATE) + " per vCPU",
              "positive",
              "512m"),
          WorkloadOption.share(
              PAGE_CACHE,
              "cap of the page cache the build fills",
              DEFAULT_PAGE_CACHE,
              "0% to 100%",
              "10%"));

  static final long MIN_HEAP_PAGES = 64;
  static final long MAX_HEAP_PAGES = 16384;
  static final int HEAP_SHARE_DIVISOR = 8;
  static final int REWRITE_FACTOR = 3;
  static final int OUTPUT_DIVISOR = 16;
  static final int MAX_OUTPUT_ORDER = 4;
  static final long STALL_NANOS = 1_000_000;

  private final GuestBoot boot;
  private final double dirtyRate;
  private final double pageCacheShare;
  private PageCache pageCache;

  CompileWorkload(WorkloadOptions options) {
    OptionReader reader = new OptionReader(NAME, options, OPTIONS);
    this.boot = new GuestBoot(NAME, reader);
    this.dirtyRate = reader.rate(DIRTY_RATE, Double.NaN);
    this.pageCacheShare = reader.share(PAGE_CACHE, DEFAULT_PAGE_CACHE);
  }

  @Override
  public VcpuProgram program(Vcpu cpu) {
    boot.bind(cpu);
    if (pageCache == null) {
      pageCache = new PageCache((long) (pageCacheShare * cpu.allocator().totalPages()));
    }
    return new Program(cpu);
  }

  /** The build's page cache; null before the workload is bound to a guest. */
  PageCache pageCache() {
    return pageCache;
  }

  private final class Program implements VcpuProgram {
    private final Vcpu cpu;
    private final Pacer pacer;
    private final long maxHeapPages;
    private final BlockList heap = new BlockList();
    private long heapTarget;
    private long rewritesLeft;

    Program(Vcpu cpu) {
      this.cpu = cpu;
      double rate = Double.isNaN(dirtyRate) ? DEFAULT_VCPU_DIRTY_RATE * cpu.count() : dirtyRate;
      this.pacer = new Pacer(rate / cpu.count());
      long share = cpu.allocator().totalPages() / ((long) HEAP_SHARE_DIVISOR * cpu.count());
      this.maxHeapPages = Math.max(MIN_HEAP_PAGES, Math.min(MAX_HEAP_PAGES, share));
    }

    @Override
    public void boot() {
      boot.run(cpu);
    }

    @Override
    public void step() {
      if (heapTarget == 0) {
        heapTarget = GuestBoot.logUniform(cpu.random(), MIN_HEAP_PAGES, maxHeapPages);
        rewritesLeft = REWRITE_FACTOR * heapTarget;
      }
      if (heap.pages() < heapTarget) {
        grow();
      } else if (rewritesLeft > 0) {
        rewrite();
      } else {
        exit();
      }
    }

    /** The compiler's heap grows by one block, written as it is first used. */
    private void grow() {
      int order =
          Math.min(
              GuestBoot.randomOrder(cpu.random()), GuestBoot.floorLog2(heapTarget - heap.pages()));
      int got = allocate(heap, order);
      if (got >= 0) {
        cpu.writePages(heap.address(heap.size() - 1), 1L << got);
        pacer.pace(cpu, (long) GuestMemory.PAGE_SIZE << got);
      }
    }

    /** The compiler works on its heap: random pages, written whole or in part. */
    private void rewrite() {
      SplittableRandom random = cpu.random();
      int n = (int) Math.min(Vcpu.TEMPLATE_PAGES, rewritesLeft);
      for (int i = 0; i < n; i++) {
        long page = heap.randomPage(random);
        if (random.nextBoolean()) {
          cpu.writePages(page, 1);
        } else {
          cpu.writeWithinPage(page, 1 + random.nextInt(8));
        }
      }
      rewritesLeft -= n;
      pacer.pace(cpu, (long) n * GuestMemory.PAGE_SIZE);
    }

    /** The compiler writes its object file into the page cache and exits, freeing its heap. */
    private void exit() {
      long outputPages = Math.max(1, heap.pages() / OUTPUT_DIVISOR);
      BlockList output = new BlockList();
      while (output.pages() < outputPages) {
        int order =
            Math.min(
                cpu.random().nextInt(MAX_OUTPUT_ORDER + 1),
                GuestBoot.floorLog2(outputPages - output.pages()));
        int got = allocate(output, order);
        if (got < 0) {
          break;
        }
        cpu.writePages(output.address(output.size() - 1), 1L << got);
      }
      for (int i = 0; i < output.size(); i++) {
        pageCache.add(cpu.allocator(), output.address(i), output.order(i));
      }
      heap.freeAll(cpu.allocator());
      heapTarget = 0;
      pacer.pace(cpu, output.pages() * GuestMemory.PAGE_SIZE);
    }

    /**
     * Allocates into {@code blocks}, reclaiming page cache and then asking the allocator's
     * shrinkers when memory is short; when even that fails the vCPU stalls for a millisecond
     * (direct reclaim) and the caller retries later.
     */
    private int allocate(BlockList blocks, int order) {
      BuddyAllocator allocator = cpu.allocator();
      int got = blocks.allocate(allocator, order);
      if (got < 0 && pageCache.reclaim(allocator, 1L << order) > 0) {
        got = blocks.allocate(allocator, order);
      }
      if (got < 0 && allocator.reclaim(1L << order) > 0) {
        got = blocks.allocate(allocator, order);
      }
      if (got < 0) {
        cpu.idleUntil(System.nanoTime() + STALL_NANOS);
      }
      return got;
    }
  }
}
