package io.github.precopy.examples.cli;

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
 */
record GuestSpec(long memoryBytes, int vcpus, String workload, WorkloadOptions options, long seed) {

  /** E.g. "2.00 GiB guest, idle workload, 4 vCPUs, seed 0". */
  String describe() {
    return String.format(
        Locale.ROOT,
        "%s guest, %s workload%s, %d vCPU%s, seed %d",
        Sizes.format(memoryBytes),
        workload,
        options.values().isEmpty() ? "" : " (" + options + ")",
        vcpus,
        vcpus == 1 ? "" : "s",
        seed);
  }
}
