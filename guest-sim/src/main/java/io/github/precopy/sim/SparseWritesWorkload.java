package io.github.precopy.sim;

import static io.github.precopy.sim.WorkloadOption.concat;

import io.github.precopy.core.memory.GuestMemory;
import java.util.List;

/**
 * The {@code sparse-writes} workload, QEMU's test writer for XBZRLE; see {@link Workloads}.
 *
 * <p>QEMU's {@code docs/xbzrle.txt} ("Testing") gives "a simple synthetic memory r/w load
 * generator": a C program that {@code calloc}s a buffer of 4096 × 4096 bytes (16 MiB) and, in an
 * endless loop, increments {@code buf[i * 4096 / 4]} for every {@code i} below {@code 4096 * 4}:
 * one byte at offsets 0, 1024, 2048 and 3072 of every page, page after page. The text reports that
 * with XBZRLE a migration under this load completed in 110 seconds, and without it would not
 * complete. Here the buffer is allocated from the guest in the largest blocks at boot and first
 * written whole with the workload's {@code content} (QEMU's starts zeroed by {@code calloc}); with
 * several vCPUs each loops over its own part of it. The buffer defaults to 64 MiB, the size the
 * project's issue #13 gives for the published run (and QEMU's default XBZRLE cache size); {@code
 * buffer=16m} is the program's own.
 */
final class SparseWritesWorkload implements Workload {

  static final String NAME = "sparse-writes";
  static final String BUFFER = "buffer";
  static final String DIRTY_RATE = "dirty-rate";

  /** 64 MiB; QEMU's test writer itself allocates 16 MiB ({@code calloc(4096, 4096)}). */
  static final long DEFAULT_BUFFER = 64L << 20;

  /** The distance between the bytes incremented in a page: a quarter of a page. */
  static final int STRIDE = GuestMemory.PAGE_SIZE / 4;

  /** The options of this workload, as {@link Workloads#options} lists them. */
  static final List<WorkloadOption> OPTIONS =
      concat(
          GuestBoot.options(BUFFER),
          WorkloadOption.size(
              BUFFER,
              "bytes of the buffer whose pages get one byte per quarter incremented, pass after"
                  + " pass",
              DEFAULT_BUFFER,
              "a whole number of 4k pages, at least one, with the kernel + in-use + buffer at most the guest's"
                  + " memory",
              "16m"),
          WorkloadOption.unlimitedRate(
              DIRTY_RATE, "bytes of buffer pages updated per second, whole guest", "256m"));

  private final GuestBoot boot;
  private final long bufferPages;

  /** Bytes per second for the whole guest; 0 for as fast as the vCPUs run. */
  private final double dirtyRate;

  SparseWritesWorkload(WorkloadOptions options) {
    OptionReader reader = new OptionReader(NAME, options, OPTIONS);
    this.boot = new GuestBoot(NAME, reader);
    this.bufferPages = reader.pages(BUFFER, DEFAULT_BUFFER);
    this.dirtyRate = reader.rate(DIRTY_RATE, 0);
  }

  /**
   * Binds the workload to {@code cpu}'s guest and creates the vCPU's program.
   *
   * @throws IllegalArgumentException if the buffer, the kernel's footprint and in-use memory do not
   *     fit in the guest
   */
  @Override
  public VcpuProgram program(Vcpu cpu) {
    boot.bind(cpu);
    boot.checkFits(
        cpu, BUFFER + " " + Units.formatSize(bufferPages * GuestMemory.PAGE_SIZE), bufferPages);
    return new Program(cpu);
  }

  private final class Program implements VcpuProgram {
    private final Vcpu cpu;
    private final Pacer pacer;
    private BlockList buffer;
    private int block;
    private long pageInBlock;

    Program(Vcpu cpu) {
      this.cpu = cpu;
      this.pacer = dirtyRate > 0 ? new Pacer(dirtyRate / cpu.count()) : null;
    }

    @Override
    public void boot() {
      boot.run(
          cpu,
          () ->
              buffer = GuestBoot.allocateAndWrite(cpu, GuestBoot.part(cpu, bufferPages), "buffer"));
    }

    @Override
    public void step() {
      if (buffer.pages() == 0) {
        cpu.idleUntil(System.nanoTime() + IdleWorkload.NOTHING_TO_DO_NANOS);
        return;
      }
      for (int i = 0; i < Vcpu.TEMPLATE_PAGES; i++) {
        cpu.incrementBytes(buffer.address(block) + (pageInBlock << GuestMemory.PAGE_SHIFT), STRIDE);
        if (++pageInBlock == 1L << buffer.order(block)) {
          pageInBlock = 0;
          block = (block + 1) % buffer.size();
        }
      }
      if (pacer != null) {
        pacer.pace(cpu, (long) Vcpu.TEMPLATE_PAGES << GuestMemory.PAGE_SHIFT);
      }
    }
  }
}
