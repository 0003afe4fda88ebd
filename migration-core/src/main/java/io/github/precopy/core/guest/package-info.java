/**
 * A simulated guest for tests, benchmarks and examples: {@link
 * io.github.precopy.core.guest.SimulatedGuest} runs vCPU threads executing a {@link
 * io.github.precopy.core.guest.Workload} (built-ins from {@link
 * io.github.precopy.core.guest.Workloads}) against guest memory, with a Linux-style {@link
 * io.github.precopy.core.guest.BuddyAllocator} deciding which pages are in use.
 */
package io.github.precopy.core.guest;
