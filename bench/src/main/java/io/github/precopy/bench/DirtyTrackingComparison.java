package io.github.precopy.bench;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.PrecopyMigration;
import io.github.precopy.core.memory.DirtyTracking;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.sim.Units;
import io.github.precopy.sim.WorkloadOptions;
import io.github.precopy.sim.Workloads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Software and kernel dirty tracking side by side (issue #14) on the same simulated guests: for
 * each workload, runs alternate between the two trackings, seed by seed, each migrating in process
 * (unlimited bandwidth and QEMU's 300 ms downtime limit unless told otherwise). Per tracking the
 * medians of total time, downtime, bytes sent, syncs and the guest's own work rate while it was
 * migrated (vCPU work units per second, the cost of tracking seen from the guest). Every completed
 * migration must be verified without a mismatch. Needs JDK 22+ with {@code precopy-kernel} on the
 * class path, as {@code benchmarks.jar} has it when built on such a JDK.
 *
 * <pre>{@code
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     io.github.precopy.bench.DirtyTrackingComparison --memory 1g --runs 3
 * }</pre>
 */
@Command(
    name = "DirtyTrackingComparison",
    sortOptions = false,
    description = {
      "Migrates the same guests with software and with kernel dirty tracking, alternating, and"
          + " prints them side by side."
    },
    footer = {
      "Example:",
      "  java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \\",
      "      io.github.precopy.bench.DirtyTrackingComparison --memory 1g --runs 3"
    })
public final class DirtyTrackingComparison implements Callable<Integer> {

  private static final List<String> TRACKINGS =
      List.of(DirtyTracking.SOFTWARE, DirtyTracking.KERNEL);
  private static final Duration WARM_UP = Duration.ofSeconds(1);
  private static final double MIB = 1 << 20;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Print this help and exit.")
  private boolean help;

  @Option(
      names = "--memory",
      defaultValue = "1g",
      converter = MemorySize.class,
      paramLabel = "SIZE",
      description = "Guest RAM (default: ${DEFAULT-VALUE}).")
  private long memoryBytes;

  @Option(
      names = "--workloads",
      split = ",",
      defaultValue = "idle,compile,hot-set",
      paramLabel = "NAME",
      description = "Workloads to migrate (default: ${DEFAULT-VALUE}).")
  private List<String> workloads;

  @Option(
      names = "--workload-option",
      split = ",",
      paramLabel = "KEY=VALUE",
      description =
          "A parameter of every workload given, e.g. working-set=2% for hot-set; repeatable.")
  private Map<String, String> workloadOptions = new LinkedHashMap<>();

  @Option(
      names = "--runs",
      defaultValue = "3",
      paramLabel = "N",
      description =
          "Runs per workload and tracking, seeds 1 to N, medians over them (default:"
              + " ${DEFAULT-VALUE}).")
  private int runs;

  @Mixin private GiveUpOptions giveUp;

  @Option(
      names = "--timeout",
      defaultValue = "5m",
      converter = Durations.Timeout.class,
      paramLabel = "DURATION",
      description =
          "A migration still running after this is cancelled (default: ${DEFAULT-VALUE}).")
  private Duration timeout;

  @Spec private CommandSpec spec;

  public static void main(String[] args) {
    Cli.exit(new DirtyTrackingComparison(), args);
  }

  /** One migration and its figures. */
  private record Run(
      boolean converged,
      String outcome,
      long totalMillis,
      long downtimeMillis,
      long transferred,
      long syncs,
      double workPerSecond) {

    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "%s in %d ms (downtime %d ms, %.1f MiB sent, %d syncs, guest %.0f work/s)",
          outcome,
          totalMillis,
          downtimeMillis,
          transferred / MIB,
          syncs,
          workPerSecond);
    }
  }

  @Override
  public Integer call() throws Exception {
    if (runs < 1) {
      throw new ParameterException(spec.commandLine(), "--runs must be >= 1");
    }
    WorkloadOptions options = WorkloadOptions.defaults();
    try {
      for (Map.Entry<String, String> option : workloadOptions.entrySet()) {
        options = options.with(option.getKey(), option.getValue());
      }
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--workload-option: " + e.getMessage());
    }
    for (String workload : workloads) {
      try {
        Workloads.create(workload, options);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "--workloads: " + e.getMessage());
      }
    }
    DirtyTracking.unavailableReason(DirtyTracking.KERNEL)
        .ifPresent(
            reason -> {
              throw new ParameterException(spec.commandLine(), reason);
            });
    System.out.printf(
        Locale.ROOT,
        "# dirty tracking comparison: %s guest, %d vCPUs, workloads %s %s, unlimited bandwidth,"
            + " downtime limit %d ms, %d runs per workload and tracking (seeds 1 to %d,"
            + " alternating), give up after %d syncs without a new low or %d s%n",
        Units.formatBytes(memoryBytes),
        BenchGuest.VCPUS,
        workloads,
        workloadOptions,
        giveUp.downtimeLimit().toMillis(),
        runs,
        runs,
        giveUp.stalledSyncs(),
        timeout.toSeconds());
    MachineInfo.print();
    MigrationEngine engine = MigrationEngine.create();
    System.out.println();
    System.out.println(
        "| workload | tracking | converged | total time median (ms) | downtime median (ms)"
            + " | MiB sent median | syncs median | guest work units/s median |");
    System.out.println("|---|---|---|---:|---:|---:|---:|---:|");
    System.out.flush();
    try (GuestMemory destination = GuestMemory.anonymous(memoryBytes)) {
      for (String workload : workloads) {
        Map<String, List<Run>> results = new LinkedHashMap<>();
        for (int seed = 1; seed <= runs; seed++) {
          for (String tracking : TRACKINGS) {
            Run run = migrate(engine, destination, workload, options, seed, tracking);
            System.err.printf(Locale.ROOT, "%s, %s, seed %d: %s%n", workload, tracking, seed, run);
            results.computeIfAbsent(tracking, t -> new ArrayList<>()).add(run);
          }
        }
        results.forEach((tracking, list) -> printRow(workload, tracking, list));
      }
    }
    System.out.printf(Locale.ROOT, "# load average at end: %s%n", MachineInfo.loadAverage());
    return 0;
  }

  private static void printRow(String workload, String tracking, List<Run> results) {
    List<Run> converged = results.stream().filter(Run::converged).toList();
    List<Run> measured = converged.isEmpty() ? results : converged;
    System.out.printf(
        Locale.ROOT,
        "| %s | %s | %d of %d | %.0f | %.0f | %.1f | %.0f | %.0f |%n",
        workload,
        tracking,
        converged.size(),
        results.size(),
        Median.of(measured, Run::totalMillis),
        Median.of(measured, Run::downtimeMillis),
        Median.of(measured, run -> run.transferred() / MIB),
        Median.of(measured, Run::syncs),
        Median.of(results, Run::workPerSecond));
    System.out.flush();
  }

  private Run migrate(
      MigrationEngine engine,
      GuestMemory destination,
      String workload,
      WorkloadOptions options,
      long seed,
      String tracking)
      throws InterruptedException, BenchmarkFailure {
    MigrationConfig config = giveUp.config().dirtyTracking(tracking).build();
    try (BenchGuest running = BenchGuest.start(memoryBytes, seed, workload, options, false)) {
      Thread.sleep(WARM_UP.toMillis());
      long workBefore = running.guest().workDone();
      long start = System.nanoTime();
      PrecopyMigration migration = engine.startInProcess(running.guest(), destination, config);
      MigrationCheck.Ending ending =
          MigrationCheck.awaitConvergence(
              migration, timeout, workload + ", seed " + seed + ", " + tracking);
      long nanos = System.nanoTime() - start;
      long work = running.guest().workDone() - workBefore;
      MigrationStats stats = ending.stats();
      return new Run(
          ending.converged(),
          ending.outcome(),
          stats.totalTimeMillis(),
          ending.converged() ? stats.downtimeMillis() : 0,
          stats.ram().transferred(),
          stats.ram().dirtySyncCount(),
          work * 1e9 / Math.max(1, nanos - TimeUnit.MILLISECONDS.toNanos(stats.downtimeMillis())));
    }
  }
}
