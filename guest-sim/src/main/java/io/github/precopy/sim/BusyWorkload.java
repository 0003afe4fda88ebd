package io.github.precopy.sim;

import static io.github.precopy.sim.WorkloadOption.concat;

import io.github.precopy.core.memory.GuestMemory;
import java.util.ArrayDeque;
import java.util.List;
import java.util.SplittableRandom;

/** The {@code busy} workload; see {@link Workloads}. */
final class BusyWorkload implements Workload {

  static final String NAME = "busy";
  static final String WORKING_SET = "working-set";
  static final String MIN_CHUNK = "min-chunk";
  static final String MAX_CHUNK = "max-chunk";
  static final String DIRTY_RATE = "dirty-rate";
  static final long DEFAULT_WORKING_SET = 384L << 20;
  static final long DEFAULT_MIN_CHUNK = 1L << 20;
  static final long DEFAULT_MAX_CHUNK = 64L << 20;
  static final double DEFAULT_DIRTY_RATE = 512 << 20;
  static final long STALL_NANOS = 1_000_000;

  /** Pages a vCPU takes from or gives back to the allocator at once: Linux's per-CPU batch. */
  static final int PCP_BATCH = 63;

  /**
   * Pages a vCPU's list holds before it gives a batch back: Linux 6.1's per-CPU high mark for a 2
   * GiB zone shared by 4 CPUs (the low watermark over the CPUs).
   */
  static final int PCP_HIGH = 490;

  /** The options of this workload, as {@link Workloads#options} lists them. */
  static final List<WorkloadOption> OPTIONS =
      concat(
          GuestBoot.options(WORKING_SET),
          WorkloadOption.size(
              WORKING_SET,
              "bytes the vCPUs hold in chunks, split evenly between them",
              DEFAULT_WORKING_SET,
              "a whole number of 4k pages, at least one, with the kernel + in-use + working-set at"
                  + " most the guest's memory",
              "256m"),
          WorkloadOption.size(
              MIN_CHUNK,
              "smallest chunk, drawn uniformly in whole MiB",
              DEFAULT_MIN_CHUNK,
              "a whole number of MiB, at least 1m, at most max-chunk",
              "2m"),
          WorkloadOption.size(
              MAX_CHUNK,
              "largest chunk",
              DEFAULT_MAX_CHUNK,
              "a whole number of MiB, at least min-chunk",
              "16m"),
          WorkloadOption.rate(
              DIRTY_RATE,
              "bytes of chunks written per second, whole guest",
              DEFAULT_DIRTY_RATE,
              "1g"));

  private static final long MIB_PAGES = (1L << 20) / GuestMemory.PAGE_SIZE;

  private final GuestBoot boot;
  private final long workingSetPages;
  private final long minChunkMib;
  private final long maxChunkMib;
  private final double dirtyRate;

  BusyWorkload(WorkloadOptions options) {
    OptionReader reader = new OptionReader(NAME, options, OPTIONS);
    this.boot = new GuestBoot(NAME, reader);
    this.workingSetPages = reader.pages(WORKING_SET, DEFAULT_WORKING_SET);
    this.minChunkMib = mib(reader, MIN_CHUNK, DEFAULT_MIN_CHUNK);
    this.maxChunkMib = mib(reader, MAX_CHUNK, DEFAULT_MAX_CHUNK);
    this.dirtyRate = reader.rate(DIRTY_RATE, DEFAULT_DIRTY_RATE);
    if (minChunkMib > maxChunkMib) {
      throw new IllegalArgumentException(
          NAME + ": min-chunk (" + minChunkMib + "m) exceeds max-chunk (" + maxChunkMib + "m)");
    }
  }

  private static long mib(OptionReader reader, String key, long defaultBytes) {
    long pages = reader.pages(key, defaultBytes);
    if (pages % MIB_PAGES != 0) {
      throw new IllegalArgumentException(
          NAME + ": option " + key + " must be a whole number of MiB, e.g. 2m");
    }
    return pages / MIB_PAGES;
  }

  /**
   * Binds the workload to {@code cpu}'s guest and creates the vCPU's program.
   *
   * @throws IllegalArgumentException if the working set, the kernel's footprint and in-use memory
   *     do not fit in the guest
   */
  @Override
  public VcpuProgram program(Vcpu cpu) {
    boot.bind(cpu);
    boot.checkFits(cpu, WORKING_SET, workingSetPages);
    return new Program(cpu);
  }

  /**
   * One thread of the reference guest's {@code churn busy}: maps a chunk, writes it whole a MiB at
   * a time, keeps it, and frees the oldest chunks while it holds more than its part of the working
   * set. Pages are faulted in one at a time, as anonymous memory without huge pages is, from a
   * per-vCPU list refilled from the allocator {@value #PCP_BATCH} pages at a time, as Linux's
   * per-CPU page lists are; so chunks that vCPUs write at the same time interleave in runs of about
   * 256 KiB, and a freed chunk leaves free runs whose buddies other chunks still hold.
   */
  private final class Program implements VcpuProgram {
    private final Vcpu cpu;
    private final Pacer pacer;
    private final long budgetPages;
    private final ArrayDeque<BlockList[]> held = new ArrayDeque<>();
    private final long[] perCpuPages = new long[PCP_HIGH + PCP_BATCH];
    private int perCpuCount;
    private long heldPages;
    private BlockList chunk;
    private BlockList pageTables;
    private long chunkPages;

    Program(Vcpu cpu) {
      this.cpu = cpu;
      this.pacer = new Pacer(dirtyRate / cpu.count());
      this.budgetPages = GuestBoot.part(cpu, workingSetPages);
    }

    @Override
    public void boot() {
      boot.run(cpu);
    }

    @Override
    public void step() {
      if (chunk == null) {
        SplittableRandom random = cpu.random();
        chunkPages = (minChunkMib + random.nextLong(maxChunkMib - minChunkMib + 1)) * MIB_PAGES;
        chunk = new BlockList();
        pageTables = new BlockList();
      }
      long end = Math.min(chunkPages, chunk.pages() + MIB_PAGES);
      while (chunk.pages() < end) {
        long page = fault();
        if (page < 0) {
          cpu.idleUntil(System.nanoTime() + STALL_NANOS);
          return;
        }
        chunk.add(page, 0);
        cpu.writePages(page, 1);
        GuestBoot.mapPageTables(cpu, chunk.pages(), pageTables);
      }
      pacer.pace(cpu, MIB_PAGES * GuestMemory.PAGE_SIZE);
      if (chunk.pages() >= chunkPages) {
        held.addLast(new BlockList[] {chunk, pageTables});
        heldPages += chunk.pages();
        chunk = null;
        while (!held.isEmpty() && heldPages > budgetPages) {
          BlockList[] oldest = held.removeFirst();
          heldPages -= oldest[0].pages();
          unmap(oldest[0]);
          oldest[1].freeAll(cpu.allocator());
        }
      }
    }

    /**
     * Frees a chunk's pages, in order, to the per-vCPU list; whenever it holds {@value #PCP_HIGH}
     * pages, its {@value #PCP_BATCH} coldest go back to the allocator, as Linux's {@code
     * free_pcppages_bulk}.
     */
    private void unmap(BlockList pages) {
      for (int i = 0; i < pages.size(); i++) {
        perCpuPages[perCpuCount++] = pages.address(i);
        if (perCpuCount >= PCP_HIGH) {
          for (int k = 0; k < PCP_BATCH; k++) {
            cpu.allocator().free(perCpuPages[k], 0);
          }
          System.arraycopy(perCpuPages, PCP_BATCH, perCpuPages, 0, perCpuCount - PCP_BATCH);
          perCpuCount -= PCP_BATCH;
        }
      }
    }

    /** A page from the per-vCPU list, refilled when empty; -1 if the guest is out of memory. */
    private long fault() {
      if (perCpuCount == 0) {
        BuddyAllocator allocator = cpu.allocator();
        while (perCpuCount < PCP_BATCH) {
          long page = allocator.allocate(0);
          if (page < 0 && allocator.reclaim(PCP_BATCH) > 0) {
            page = allocator.allocate(0);
          }
          if (page < 0) {
            break;
          }
          perCpuPages[perCpuCount++] = page;
        }
        reverse(perCpuPages, perCpuCount);
        if (perCpuCount == 0) {
          return -1;
        }
      }
      return perCpuPages[--perCpuCount];
    }
  }

  private static void reverse(long[] values, int count) {
    for (int i = 0, j = count - 1; i < j; i++, j--) {
      long value = values[i];
      values[i] = values[j];
      values[j] = value;
    }
  }
}
