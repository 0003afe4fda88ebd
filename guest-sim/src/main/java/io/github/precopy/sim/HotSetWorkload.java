package io.github.precopy.sim;

import static io.github.precopy.sim.WorkloadOption.concat;

import io.github.precopy.core.memory.GuestMemory;
import java.util.List;

/** The {@code hot-set} workload; see {@link Workloads}. */
final class HotSetWorkload implements Workload {

  static final String NAME = "hot-set";
  static final String WORKING_SET = "working-set";
  static final double DEFAULT_WORKING_SET = 0.25;
  static final String DIRTY_RATE = "dirty-rate";

  /** The options of this workload, as {@link Workloads#options} lists them. */
  static final List<WorkloadOption> OPTIONS =
      concat(
          GuestBoot.options(WORKING_SET),
          WorkloadOption.share(
              WORKING_SET,
              "share of memory rewritten as fast as the vCPUs run",
              DEFAULT_WORKING_SET,
              "0% to 100%, with in-use + working-set at most 100%",
              "40%"),
          WorkloadOption.unlimitedRate(
              DIRTY_RATE, "bytes of the working set rewritten per second, whole guest", "256m"));

  /** Every this many steps, a step of scattered partial writes instead of a sweep. */
  private static final int PARTIAL_EVERY = 8;

  private final GuestBoot boot;
  private final double workingSet;

  /** Bytes per second for the whole guest; 0 for as fast as the vCPUs run. */
  private final double dirtyRate;

  HotSetWorkload(WorkloadOptions options) {
    OptionReader reader = new OptionReader(NAME, options, OPTIONS);
    this.boot = new GuestBoot(NAME, reader);
    this.workingSet = reader.share(WORKING_SET, DEFAULT_WORKING_SET);
    this.dirtyRate = reader.rate(DIRTY_RATE, 0);
    boot.checkFits(WORKING_SET, workingSet);
  }

  @Override
  public VcpuProgram program(Vcpu cpu) {
    boot.bind(cpu);
    return new Program(cpu);
  }

  private final class Program implements VcpuProgram {
    private final Vcpu cpu;
    private final Pacer pacer;
    private BlockList set;
    private int block;
    private long pageInBlock;
    private long steps;

    Program(Vcpu cpu) {
      this.cpu = cpu;
      this.pacer = dirtyRate > 0 ? new Pacer(dirtyRate / cpu.count()) : null;
    }

    @Override
    public void boot() {
      boot.run(
          cpu,
          () ->
              set =
                  GuestBoot.allocateAndWrite(cpu, GuestBoot.share(cpu, workingSet), "working set"));
    }

    @Override
    public void step() {
      if (set.pages() == 0) {
        cpu.idleUntil(System.nanoTime() + IdleWorkload.NOTHING_TO_DO_NANOS);
        return;
      }
      if (++steps % PARTIAL_EVERY == 0) {
        for (int i = 0; i < Vcpu.TEMPLATE_PAGES; i++) {
          cpu.writeWithinPage(set.randomPage(cpu.random()), 1 + cpu.random().nextInt(8));
        }
        if (pacer != null) {
          pacer.pace(cpu, (long) Vcpu.TEMPLATE_PAGES << GuestMemory.PAGE_SHIFT);
        }
        return;
      }
      long blockPages = 1L << set.order(block);
      long run = Math.min(Vcpu.TEMPLATE_PAGES, blockPages - pageInBlock);
      cpu.writePages(set.address(block) + (pageInBlock << GuestMemory.PAGE_SHIFT), run);
      if (pacer != null) {
        pacer.pace(cpu, run << GuestMemory.PAGE_SHIFT);
      }
      pageInBlock += run;
      if (pageInBlock == blockPages) {
        pageInBlock = 0;
        block = (block + 1) % set.size();
      }
    }
  }
}
