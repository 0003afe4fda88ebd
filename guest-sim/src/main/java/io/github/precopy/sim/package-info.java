/**
 * A simulated guest for tests, benchmarks and examples: {@link
 * io.github.precopy.sim.SimulatedGuest} runs vCPU threads executing a {@link
 * io.github.precopy.sim.Workload} (built-ins from {@link io.github.precopy.sim.Workloads}) against
 * guest memory, with a Linux-style {@link io.github.precopy.sim.BuddyAllocator} deciding which
 * pages are in use.
 */
package io.github.precopy.sim;
