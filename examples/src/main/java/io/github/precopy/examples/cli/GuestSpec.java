package io.github.precopy.examples.cli;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.sim.WorkloadOptions;
import java.time.Duration;
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
 * @param settle how long the workload runs after boot before the migration starts; zero to migrate
 *     at once
 */
record GuestSpec(
    long memoryBytes,
    int vcpus,
    String workload,
    WorkloadOptions options,
    long seed,
    boolean hugePages,
    Duration settle) {

  GuestSpec {
    if (settle.isNegative()) {
      throw new IllegalArgumentException("settle must not be negative: " + settle);
    }
  }

  /**
   * A spec whose RAM is on {@code /dev/shm}, as {@link GuestMemory#anonymous}, migrated at once.
   */
  GuestSpec(long memoryBytes, int vcpus, String workload, WorkloadOptions options, long seed) {
    this(memoryBytes, vcpus, workload, options, seed, false, Duration.ZERO);
  }

  /** A fresh, zeroed memory of this size: one block {@code pc.ram}, on huge pages if asked. */
  GuestMemory newMemory() {
    GuestMemory.Builder builder = GuestMemory.builder();
    if (hugePages) {
      builder.transparentHugePages();
    }
    return builder.anonymousBlock("pc.ram", 0, memoryBytes).build();
  }

  /** E.g. "2.00 GiB guest, idle workload, 4 vCPUs, seed 0" (", settles 5 s" with a settle time). */
  String describe() {
    return String.format(
        Locale.ROOT,
        "%s guest%s, %s workload%s, %d vCPU%s, seed %d%s",
        Sizes.format(memoryBytes),
        hugePages ? " on huge pages" : "",
        workload,
        options.values().isEmpty() ? "" : " (" + options + ")",
        vcpus,
        vcpus == 1 ? "" : "s",
        seed,
        settle.isZero() ? "" : ", settles " + Durations.describe(settle));
  }
}
