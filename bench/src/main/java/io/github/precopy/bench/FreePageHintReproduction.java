package io.github.precopy.bench;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.sim.SimulatedGuest;
import io.github.precopy.sim.WorkloadOptions;
import io.github.precopy.sim.balloon.BalloonDriver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Reproduces the published free-page-hint experiment (QEMU v7 series, 8 GiB guest): the same seeded
 * guest migrated without and with capability {@code free-page-hint}, each pair of runs side by
 * side, medians over the runs, plus the guest's own work rate during migration.
 *
 * <p>Setup as published: 4 vCPUs, unlimited bandwidth, downtime limits of 2 s and 400 ms, an idle
 * guest and a busy (compile-like) guest. The destination memory is allocated and touched once
 * before the runs (as with QEMU's memory preallocation), so first-touch page faults of this machine
 * are not counted in either mode; each run boots a fresh source guest and lets its workload run 2 s
 * before migrating.
 *
 * <p>Run (8 GiB needs about 17 GiB of /dev/shm, and a long time on 2 cores): {@code java -cp
 * bench/target/benchmarks.jar io.github.precopy.bench.FreePageHintReproduction --memory 2g --runs
 * 5}. Options: {@code --memory 2g|8g}, {@code --runs N}, {@code --workloads idle,compile}, {@code
 * --downtimes 2000,400}, {@code --seed N}, {@code --sensitivity} (reduction against the idle
 * guest's share of free memory and of stale data, 3 runs each).
 */
public final class FreePageHintReproduction {

  private static final String CAPABILITY = "free-page-hint";
  private static final Duration WARM_UP = Duration.ofSeconds(2);
  private static final int SENSITIVITY_RUNS = 3;

  private final MigrationEngine engine = MigrationEngine.create();
  private final long memoryBytes;
  private final GuestMemory destination;

  private FreePageHintReproduction(long memoryBytes) {
    this.memoryBytes = memoryBytes;
    this.destination = GuestMemory.anonymous(memoryBytes);
    byte[] page = new byte[GuestMemory.PAGE_SIZE];
    for (long address = 0; address < memoryBytes; address += page.length) {
      destination.write(address, page, 0, page.length);
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> options = parse(args);
    long memory = gibibytes(options.getOrDefault("memory", "2g"));
    int runs = Integer.parseInt(options.getOrDefault("runs", "5"));
    long seed = Long.parseLong(options.getOrDefault("seed", "1"));
    List<String> workloads = List.of(options.getOrDefault("workloads", "idle,compile").split(","));
    List<Long> downtimes =
        Arrays.stream(options.getOrDefault("downtimes", "2000,400").split(","))
            .map(Long::parseLong)
            .toList();
    boolean sensitivity = options.containsKey("sensitivity");
    System.out.printf(
        Locale.ROOT,
        "# free-page-hint reproduction: %d MiB guest, 4 vCPUs, %d runs, seed %d, %s%n",
        memory >> 20,
        sensitivity ? SENSITIVITY_RUNS : runs,
        seed,
        Runtime.version());
    FreePageHintReproduction reproduction = new FreePageHintReproduction(memory);
    if (sensitivity) {
      reproduction.sensitivity(seed);
      return;
    }
    System.out.println(
        "| workload | downtime limit | legacy time (ms) | hinted time (ms) | reduction"
            + " | legacy MiB sent | hinted MiB sent | hinted pages | legacy work MiB/s"
            + " | hinted work MiB/s | downtime legacy/hinted (ms) | mismatches |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (String workload : workloads) {
      for (long downtime : downtimes) {
        reproduction.compare(workload, WorkloadOptions.defaults(), downtime, runs, seed);
      }
    }
  }

  private void compare(
      String workload, WorkloadOptions options, long downtimeMillis, int runs, long seed)
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
    double legacyTime = median(legacy, r -> r.totalMillis);
    double hintedTime = median(hinted, r -> r.totalMillis);
    System.out.printf(
        Locale.ROOT,
        "| %s | %d ms | %.0f | %.0f | %.1f %% | %.0f | %.0f | %.0f | %.1f | %.1f | %.0f / %.0f | %d |%n",
        workload,
        downtimeMillis,
        legacyTime,
        hintedTime,
        100.0 * (legacyTime - hintedTime) / legacyTime,
        median(legacy, r -> r.transferred) / (1 << 20),
        median(hinted, r -> r.transferred) / (1 << 20),
        median(hinted, r -> r.hintedPages),
        median(legacy, r -> r.workBytesPerSecond) / (1 << 20),
        median(hinted, r -> r.workBytesPerSecond) / (1 << 20),
        median(legacy, r -> r.downtimeMillis),
        median(hinted, r -> r.downtimeMillis),
        legacy.stream().mapToLong(r -> r.mismatches).sum()
            + hinted.stream().mapToLong(r -> r.mismatches).sum());
  }

  private void sensitivity(long seed) throws InterruptedException {
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
      double legacyTime = median(legacy, r -> r.totalMillis);
      double hintedTime = median(hinted, r -> r.totalMillis);
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %.0f | %.0f | %.1f %% | %.0f | %.0f |%n",
          setting[0],
          setting[1],
          legacyTime,
          hintedTime,
          100.0 * (legacyTime - hintedTime) / legacyTime,
          median(legacy, r -> r.transferred) / (1 << 20),
          median(hinted, r -> r.transferred) / (1 << 20));
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
    try (SimulatedGuest guest =
        SimulatedGuest.builder()
            .memorySize(memoryBytes)
            .vcpus(4)
            .seed(seed)
            .workload(workload, options)
            .build()) {
      guest.boot();
      try (BalloonDriver driver = BalloonDriver.install(guest, true)) {
        guest.start();
        Thread.sleep(WARM_UP.toMillis());
        long workBefore = guest.workDone();
        MigrationStats stats = engine.startInProcess(guest, destination, config.build()).await();
        long workDuring = guest.workDone() - workBefore;
        if (stats.status() != MigrationStatus.COMPLETED) {
          throw new IllegalStateException("migration did not complete: " + stats);
        }
        long running = Math.max(1, stats.totalTimeMillis() - stats.downtimeMillis());
        Object hinted =
            stats
                .optimizations()
                .getOrDefault(CAPABILITY, Map.of())
                .getOrDefault("hinted-pages", 0L);
        return new Run(
            stats.totalTimeMillis(),
            stats.downtimeMillis(),
            stats.ram().transferred(),
            ((Number) hinted).longValue(),
            workDuring * 1000.0 / running,
            stats.verification().mismatches());
      }
    }
  }

  private static double median(List<Run> runs, ToDoubleFunction<Run> metric) {
    double[] values = runs.stream().mapToDouble(metric).sorted().toArray();
    int middle = values.length / 2;
    return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
  }

  /** Parses a whole number of GiB such as {@code 2g}. */
  private static long gibibytes(String size) {
    if (!size.matches("[1-9][0-9]*[gG]")) {
      throw new IllegalArgumentException("--memory takes whole GiB such as 2g, got " + size);
    }
    return Long.parseLong(size.substring(0, size.length() - 1)) << 30;
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> options = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + args[i]);
      }
      String name = args[i].substring(2);
      if (name.equals("sensitivity")) {
        options.put(name, "true");
      } else if (i + 1 < args.length) {
        options.put(name, args[++i]);
      } else {
        throw new IllegalArgumentException("--" + name + " needs a value");
      }
    }
    return options;
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
