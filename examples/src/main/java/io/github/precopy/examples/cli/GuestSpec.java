package io.github.precopy.examples.cli;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.sim.WorkloadOptions;
import java.util.Locale;

/**
 * The simulated guest a migrate run builds: every run of a comparison builds a fresh one from the
 * same spec.
 *
 * @param memoryBytes RAM size
 * @param vcpus number of vCPU threads
 * @param workload a built-in workload name
 * @param options the workload's options
 * @param seed the seed of the vCPUs' random sources
 * @param hugePages whether guest RAM (and an in-process destination's) is on transparent huge pages
 */
record GuestSpec(
    long memoryBytes,
    int vcpus,
    String workload,
    WorkloadOptions options,
    long seed,
    boolean hugePages) {

  /** A spec whose RAM is on {@code /dev/shm}, as {@link GuestMemory#anonymous}. */
  GuestSpec(long memoryBytes, int vcpus, String workload, WorkloadOptions options, long seed) {
    this(memoryBytes, vcpus, workload, options, seed, false);
  }

  /** A fresh, zeroed memory of this size: one block {@code pc.ram}, on huge pages if asked. */
  GuestMemory newMemory() {
    GuestMemory.Builder builder = GuestMemory.builder();
    if (hugePages) {
      builder.transparentHugePages();
    }
    return builder.anonymousBlock("pc.ram", 0, memoryBytes).build();
  }

  /** E.g. "2.00 GiB guest, idle workload, 4 vCPUs, seed 0". */
  String describe() {
    return String.format(
        Locale.ROOT,
        "%s guest%s, %s workload%s, %d vCPU%s, seed %d",
        Sizes.format(memoryBytes),
        hugePages ? " on huge pages" : "",
        workload,
        options.values().isEmpty() ? "" : " (" + options + ")",
        vcpus,
        vcpus == 1 ? "" : "s",
        seed);
  }
}
