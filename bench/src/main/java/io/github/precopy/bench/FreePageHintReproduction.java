package io.github.precopy.bench;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.sim.SimulatedGuest;
import io.github.precopy.sim.WorkloadOptions;
import io.github.precopy.sim.Workloads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Reproduces the published free-page-hint experiment (QEMU v7 series, 8 GiB guest): the same seeded
 * guest migrated without and with capability {@code free-page-hint}, each pair of runs side by
 * side, medians over the runs, plus the guest's own work rate during migration.
 *
 * <p>Setup as published: 4 vCPUs, unlimited bandwidth, downtime limits of 2 s and 400 ms, an idle
 * guest and a busy (compile-like) guest. The destination memory is allocated and touched once
 * before the runs (as with QEMU's memory preallocation), so first-touch page faults of this machine
 * are not counted in either mode; each run boots a fresh source guest and lets its workload run 2 s
 * before migrating. 8 GiB needs about 17 GiB of /dev/shm, and a long time on 2 cores.
 */
@Command(
    name = "FreePageHintReproduction",
    sortOptions = false,
    description = {
      "Migrates the same seeded simulated guest without and with free-page-hint, in pairs, and"
          + " prints medians side by side."
    },
    footer = {
      "Example:",
      "  java -cp bench/target/benchmarks.jar \\",
      "      io.github.precopy.bench.FreePageHintReproduction \\",
      "      --memory 2g --runs 5"
    })
public final class FreePageHintReproduction implements Callable<Integer> {

  private static final String CAPABILITY = "free-page-hint";
  private static final Duration WARM_UP = Duration.ofSeconds(2);
  private static final int SENSITIVITY_RUNS = 3;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Print this help and exit.")
  private boolean help;

  @Option(
      names = "--memory",
      defaultValue = "2g",
      converter = MemorySize.class,
      paramLabel = "SIZE",
      description = "Guest RAM, e.g. 512m or 1.5g (default: ${DEFAULT-VALUE}).")
  private long memoryBytes;

  @Option(
      names = "--runs",
      defaultValue = "5",
      paramLabel = "N",
      description = "Pairs of runs per case (default: ${DEFAULT-VALUE}).")
  private int runs;

  @Option(
      names = "--workloads",
      split = ",",
      defaultValue = "idle,compile",
      paramLabel = "NAME",
      description = "Workloads of the guest (default: ${DEFAULT-VALUE}).")
  private List<String> workloads;

  @Option(
      names = "--downtimes",
      split = ",",
      defaultValue = "2s,400ms",
      converter = Durations.DowntimeLimit.class,
      paramLabel = "DURATION",
      description =
          "Downtime limits, e.g. 2s or 400ms; a bare number is milliseconds (default:"
              + " ${DEFAULT-VALUE}).")
  private List<Duration> downtimes;

  @Option(
      names = "--seed",
      defaultValue = "1",
      paramLabel = "N",
      description = "Seed of the first run; run i uses seed + i (default: ${DEFAULT-VALUE}).")
  private long seed;

  @Option(
      names = "--sensitivity",
      description =
          "Instead: the reduction against the idle guest's share of memory in use and of stale"
              + " data, at 2000 ms, "
              + SENSITIVITY_RUNS
              + " runs each.")
  private boolean sensitivity;

  @Spec private CommandSpec spec;

  private MigrationEngine engine;
  private GuestMemory destination;

  public static void main(String[] args) {
    Cli.exit(new FreePageHintReproduction(), args);
  }

  @Override
  public Integer call() throws InterruptedException {
    if (runs < 1) {
      throw new ParameterException(spec.commandLine(), "--runs must be at least 1");
    }
    for (String workload : workloads) {
      if (!Workloads.names().contains(workload)) {
        throw new ParameterException(
            spec.commandLine(),
            "--workloads takes " + String.join(", ", Workloads.names()) + ", got " + workload);
      }
    }
    System.out.printf(
        Locale.ROOT,
        "# free-page-hint reproduction: %d MiB guest, 4 vCPUs, %d runs, seed %d, %s%n",
        memoryBytes >> 20,
        sensitivity ? SENSITIVITY_RUNS : runs,
        seed,
        Runtime.version());
    engine = MigrationEngine.create();
    try (GuestMemory preallocated = preallocate()) {
      destination = preallocated;
      if (sensitivity) {
        sensitivity();
        return 0;
      }
      System.out.println(
          "| workload | downtime limit | legacy time (ms) | hinted time (ms) | reduction"
              + " | legacy MiB sent | hinted MiB sent | hinted pages | legacy work MiB/s"
              + " | hinted work MiB/s | downtime legacy/hinted (ms) | mismatches |");
      System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
      for (String workload : workloads) {
        for (Duration downtime : downtimes) {
          compare(workload, WorkloadOptions.defaults(), downtime.toMillis());
        }
      }
      return 0;
    }
  }

  /** The destination memory, every page written once. */
  private GuestMemory preallocate() {
    GuestMemory memory = GuestMemory.anonymous(memoryBytes);
    byte[] page = new byte[GuestMemory.PAGE_SIZE];
    for (long address = 0; address < memoryBytes; address += page.length) {
      memory.write(address, page, 0, page.length);
    }
    return memory;
  }

  private void compare(String workload, WorkloadOptions options, long downtimeMillis)
      throws InterruptedException {
    List<Run> legacy = new ArrayList<>();
    List<Run> hinted = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      legacy.add(run(workload, options, downtimeMillis, seed + i, false));
      hinted.add(run(workload, options, downtimeMillis, seed + i, true));
      System.err.printf(
          Locale.ROOT,
          "%s %d ms run %d: legacy %s | hinted %s%n",
          workload,
          downtimeMillis,
          i,
          legacy.get(i),
          hinted.get(i));
    }
    double legacyTime = Median.of(legacy, r -> r.totalMillis);
    double hintedTime = Median.of(hinted, r -> r.totalMillis);
    System.out.printf(
        Locale.ROOT,
        "| %s | %d ms | %.0f | %.0f | %.1f %% | %.0f | %.0f | %.0f | %.1f | %.1f | %.0f / %.0f | %d |%n",
        workload,
        downtimeMillis,
        legacyTime,
        hintedTime,
        100.0 * (legacyTime - hintedTime) / legacyTime,
        Median.of(legacy, r -> r.transferred) / (1 << 20),
        Median.of(hinted, r -> r.transferred) / (1 << 20),
        Median.of(hinted, r -> r.hintedPages),
        Median.of(legacy, r -> r.workBytesPerSecond) / (1 << 20),
        Median.of(hinted, r -> r.workBytesPerSecond) / (1 << 20),
        Median.of(legacy, r -> r.downtimeMillis),
        Median.of(hinted, r -> r.downtimeMillis),
        legacy.stream().mapToLong(r -> r.mismatches).sum()
            + hinted.stream().mapToLong(r -> r.mismatches).sum());
  }

  private void sensitivity() throws InterruptedException {
    System.out.println(
        "| in use | touched (stale data) | legacy time (ms) | hinted time (ms) | reduction"
            + " | legacy MiB sent | hinted MiB sent |");
    System.out.println("|---|---|---|---|---|---|---|");
    String[][] settings = {
      {"10%", "50%"},
      {"30%", "50%"},
      {"50%", "60%"},
      {"70%", "80%"},
      {"10%", "10%"},
      {"10%", "30%"},
      {"10%", "100%"}
    };
    for (String[] setting : settings) {
      WorkloadOptions options =
          WorkloadOptions.defaults().with("in-use", setting[0]).with("touched", setting[1]);
      List<Run> legacy = new ArrayList<>();
      List<Run> hinted = new ArrayList<>();
      for (int i = 0; i < SENSITIVITY_RUNS; i++) {
        legacy.add(run("idle", options, 2000, seed + i, false));
        hinted.add(run("idle", options, 2000, seed + i, true));
      }
      double legacyTime = Median.of(legacy, r -> r.totalMillis);
      double hintedTime = Median.of(hinted, r -> r.totalMillis);
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %.0f | %.0f | %.1f %% | %.0f | %.0f |%n",
          setting[0],
          setting[1],
          legacyTime,
          hintedTime,
          100.0 * (legacyTime - hintedTime) / legacyTime,
          Median.of(legacy, r -> r.transferred) / (1 << 20),
          Median.of(hinted, r -> r.transferred) / (1 << 20));
    }
  }

  private Run run(
      String workload, WorkloadOptions options, long downtimeMillis, long seed, boolean hint)
      throws InterruptedException {
    MigrationConfig.Builder config =
        MigrationConfig.builder().downtimeLimit(Duration.ofMillis(downtimeMillis));
    if (hint) {
      config.capability(CAPABILITY);
    }
    // The balloon driver is installed in both modes, so that the guests are the same.
    try (BenchGuest booted = BenchGuest.start(memoryBytes, seed, workload, options, true)) {
      SimulatedGuest guest = booted.guest();
      Thread.sleep(WARM_UP.toMillis());
      long workBefore = guest.workDone();
      MigrationStats stats = engine.startInProcess(guest, destination, config.build()).await();
      long workDuring = guest.workDone() - workBefore;
      if (stats.status() != MigrationStatus.COMPLETED) {
        throw new IllegalStateException("migration did not complete: " + stats);
      }
      long running = Math.max(1, stats.totalTimeMillis() - stats.downtimeMillis());
      Object hinted =
          stats.optimizations().getOrDefault(CAPABILITY, Map.of()).getOrDefault("hinted-pages", 0L);
      return new Run(
          stats.totalTimeMillis(),
          stats.downtimeMillis(),
          stats.ram().transferred(),
          ((Number) hinted).longValue(),
          workDuring * 1000.0 / running,
          stats.verification().mismatches());
    }
  }

  private record Run(
      long totalMillis,
      long downtimeMillis,
      long transferred,
      long hintedPages,
      double workBytesPerSecond,
      long mismatches) {

    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "%d ms (down %d ms), %d MiB, hinted %d, work %.0f MiB/s, mismatches %d",
          totalMillis,
          downtimeMillis,
          transferred >> 20,
          hintedPages,
          workBytesPerSecond / (1 << 20),
          mismatches);
    }
  }
}
