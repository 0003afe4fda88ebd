package io.github.precopy.sim;

import static io.github.precopy.sim.WorkloadOption.concat;

import io.github.precopy.core.memory.GuestMemory;
import java.util.List;
import java.util.SplittableRandom;

/** The {@code idle} workload; see {@link Workloads}. */
final class IdleWorkload implements Workload {

  static final String NAME = "idle";
  static final String DIRTY_RATE = "dirty-rate";
  static final double DEFAULT_DIRTY_RATE = 64 * 1024;

  /** The options of this workload, as {@link Workloads#options} lists them. */
  static final List<WorkloadOption> OPTIONS =
      concat(
          GuestBoot.options(null),
          WorkloadOption.rate(
              DIRTY_RATE,
              "bytes of pages dirtied per second, whole guest",
              DEFAULT_DIRTY_RATE,
              "1m"));

  /** How long a vCPU with nothing to write halts before it looks again. */
  static final long NOTHING_TO_DO_NANOS = 100_000_000;

  private final GuestBoot boot;
  private final double dirtyRate;

  IdleWorkload(WorkloadOptions options) {
    OptionReader reader = new OptionReader(NAME, options, OPTIONS);
    this.boot = new GuestBoot(NAME, reader);
    this.dirtyRate = reader.rate(DIRTY_RATE, DEFAULT_DIRTY_RATE);
  }

  @Override
  public VcpuProgram program(Vcpu cpu) {
    boot.bind(cpu);
    return new Program(cpu);
  }

  private final class Program implements VcpuProgram {
    private final Vcpu cpu;
    private final Pacer pacer;
    private BlockList inUse;

    Program(Vcpu cpu) {
      this.cpu = cpu;
      this.pacer = new Pacer(dirtyRate / cpu.count());
    }

    @Override
    public void boot() {
      inUse = new BlockList();
      inUse.addAll(boot.run(cpu));
      inUse.addAll(boot.kernelMemory());
    }

    @Override
    public void step() {
      if (inUse.pages() == 0) {
        cpu.idleUntil(System.nanoTime() + NOTHING_TO_DO_NANOS);
        return;
      }
      SplittableRandom random = cpu.random();
      long page = inUse.randomPage(random);
      if (random.nextInt(4) == 0) {
        cpu.writePages(page, 1);
      } else {
        cpu.writeWithinPage(page, 1 + random.nextInt(4));
      }
      pacer.pace(cpu, GuestMemory.PAGE_SIZE);
    }
  }
}
