package io.github.precopy.sim;

import static io.github.precopy.sim.WorkloadOption.concat;

import io.github.precopy.core.memory.GuestMemory;
import java.util.List;
import java.util.SplittableRandom;

/** The {@code uniform} workload; see {@link Workloads}. */
final class UniformWorkload implements Workload {

  static final String NAME = "uniform";
  static final String AREA = "area";
  static final String DIRTY_RATE = "dirty-rate";
  static final double DEFAULT_AREA = 0.5;
  static final double DEFAULT_DIRTY_RATE = 64 << 20;

  /** The options of this workload, as {@link Workloads#options} lists them. */
  static final List<WorkloadOption> OPTIONS =
      concat(
          GuestBoot.options(AREA),
          WorkloadOption.share(
              AREA,
              "share of memory whose pages are written at random",
              DEFAULT_AREA,
              "0% to 100%, with in-use + area at most 100%",
              "30%"),
          WorkloadOption.rate(
              DIRTY_RATE,
              "bytes of pages dirtied per second, whole guest",
              DEFAULT_DIRTY_RATE,
              "128m"));

  private final GuestBoot boot;
  private final double area;
  private final double dirtyRate;

  UniformWorkload(WorkloadOptions options) {
    OptionReader reader = new OptionReader(NAME, options, OPTIONS);
    this.boot = new GuestBoot(NAME, reader);
    this.area = reader.share(AREA, DEFAULT_AREA);
    this.dirtyRate = reader.rate(DIRTY_RATE, DEFAULT_DIRTY_RATE);
    boot.checkFits(AREA, area);
  }

  @Override
  public VcpuProgram program(Vcpu cpu) {
    boot.bind(cpu);
    return new Program(cpu);
  }

  private final class Program implements VcpuProgram {
    private final Vcpu cpu;
    private final Pacer pacer;
    private BlockList pages;

    Program(Vcpu cpu) {
      this.cpu = cpu;
      this.pacer = new Pacer(dirtyRate / cpu.count());
    }

    @Override
    public void boot() {
      boot.run(
          cpu, () -> pages = GuestBoot.allocateAndWrite(cpu, GuestBoot.share(cpu, area), "area"));
    }

    @Override
    public void step() {
      if (pages.pages() == 0) {
        cpu.idleUntil(System.nanoTime() + IdleWorkload.NOTHING_TO_DO_NANOS);
        return;
      }
      SplittableRandom random = cpu.random();
      for (int i = 0; i < Vcpu.TEMPLATE_PAGES; i++) {
        long page = pages.randomPage(random);
        if (random.nextBoolean()) {
          cpu.writePages(page, 1);
        } else {
          cpu.writeWithinPage(page, 1 + random.nextInt(8));
        }
        pacer.pace(cpu, GuestMemory.PAGE_SIZE);
      }
    }
  }
}
