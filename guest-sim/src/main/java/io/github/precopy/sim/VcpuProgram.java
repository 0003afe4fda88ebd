package io.github.precopy.sim;

/**
 * The code one vCPU runs: {@link #boot} once, then {@link #step} in a loop. Between steps the vCPU
 * is at a safe point, where {@link SimulatedGuest#pause()} stops it; so is any {@link
 * Vcpu#idleUntil} inside a step. A step should return within about a millisecond, since pausing
 * waits for it.
 *
 * <p>Called only on its vCPU's thread. An exception thrown by either method stops that vCPU and is
 * reported by {@link SimulatedGuest#failure()}.
 */
@FunctionalInterface
public interface VcpuProgram {

  /**
   * Sets up this vCPU's share of the guest's memory, concurrently with the other vCPUs' boots and
   * before any vCPU's first step. Does nothing by default.
   */
  default void boot() {}

  /** Does one bounded piece of guest work. */
  void step();
}
