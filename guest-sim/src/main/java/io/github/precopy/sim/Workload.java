package io.github.precopy.sim;

/**
 * What a {@link SimulatedGuest} runs: a program per vCPU. Built-in workloads come from {@link
 * Workloads#create}; tests and benchmarks may supply their own.
 *
 * <p>One instance serves one guest: {@link #program} is called once per vCPU, in index order, on
 * the thread that boots the guest, before any vCPU boots. Per-guest shared state may therefore be
 * set up in the first call; the returned programs then run concurrently, one per vCPU thread.
 */
@FunctionalInterface
public interface Workload {

  /** Creates the program vCPU {@code cpu} runs. */
  VcpuProgram program(Vcpu cpu);
}
