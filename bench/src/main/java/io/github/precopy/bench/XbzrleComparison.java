package io.github.precopy.bench;

import io.github.precopy.core.ConvergencePolicies;
import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.PrecopyMigration;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.sim.Units;
import io.github.precopy.sim.WorkloadOptions;
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
 * XBZRLE side by side with plain precopy (issue #13) on QEMU's XBZRLE test writer, the {@code
 * sparse-writes} workload (a buffer, 64 MiB by default, whose pages get one byte per quarter
 * incremented, pass after pass, unpaced): each seed migrated without and with capability {@code
 * xbzrle} over the same rate limit, into memory in this process. Per mode whether it converged, the
 * time, the downtime, the bytes sent, the syncs and xbzrle's figures (QEMU's {@code xbzrle-cache}).
 *
 * <p>A migration that has not reached a new low of remaining bytes for {@code --stalled-syncs}
 * syncs ({@link ConvergencePolicies#untilStalled}) or still runs at {@code --timeout} "did not
 * converge"; one that completes must be verified without a mismatch; any other failure stops the
 * program.
 *
 * <pre>{@code
 * java -cp bench/target/benchmarks.jar io.github.precopy.bench.XbzrleComparison \
 *     --memory 256m --runs 3
 * }</pre>
 */
@Command(
    name = "XbzrleComparison",
    sortOptions = false,
    description = {
      "Migrates a sparse-writes guest (QEMU's XBZRLE test writer) without and with xbzrle and"
          + " prints them side by side."
    },
    footer = {
      "Example:",
      "  java -cp bench/target/benchmarks.jar io.github.precopy.bench.XbzrleComparison \\",
      "      --memory 256m --runs 3"
    })
public final class XbzrleComparison implements Callable<Integer> {

  private static final String XBZRLE = "xbzrle";
  private static final Duration WARM_UP = Duration.ofSeconds(1);
  private static final double MIB = 1 << 20;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Print this help and exit.")
  private boolean help;

  @Option(
      names = "--memory",
      defaultValue = "256m",
      converter = MemorySize.class,
      paramLabel = "SIZE",
      description = "Guest RAM (default: ${DEFAULT-VALUE}).")
  private long memoryBytes;

  @Option(
      names = "--max-bandwidth",
      defaultValue = "100000000",
      converter = Bandwidth.class,
      paramLabel = "RATE",
      description =
          "Rate limit in bytes per second, e.g. 100m (MiB) or 100000000 (default:"
              + " ${DEFAULT-VALUE}, the issue's 100 MB/s).")
  private long bandwidth;

  @Option(
      names = "--runs",
      defaultValue = "3",
      paramLabel = "N",
      description = "Runs per mode, seeds 1 to N, medians over them (default: ${DEFAULT-VALUE}).")
  private int runs;

  @Option(
      names = "--workload-option",
      split = ",",
      paramLabel = "KEY=VALUE",
      description = "A sparse-writes parameter, e.g. buffer=16m; repeatable.")
  private Map<String, String> workloadOptions = new LinkedHashMap<>();

  @Option(
      names = "--parameter",
      split = ",",
      paramLabel = "NAME=VALUE",
      description = "A migration parameter, e.g. xbzrle-cache-size=128m; repeatable.")
  private Map<String, String> parameters = new LinkedHashMap<>();

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
    Cli.exit(new XbzrleComparison(), args);
  }

  /** One migration and its figures. */
  private record Run(
      boolean converged,
      String outcome,
      long elapsedMillis,
      long downtimeMillis,
      long transferred,
      long syncs,
      Map<String, Object> xbzrle) {

    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "%s after %d ms (downtime %d ms, %.1f MiB sent, %d syncs)%s",
          outcome,
          elapsedMillis,
          downtimeMillis,
          transferred / MIB,
          syncs,
          xbzrle == null ? "" : ", xbzrle-cache " + xbzrle);
    }
  }

  @Override
  public Integer call() throws Exception {
    if (runs < 1) {
      throw new ParameterException(spec.commandLine(), "--runs must be >= 1");
    }
    System.out.printf(
        Locale.ROOT,
        "# xbzrle comparison: %s guest, sparse-writes %s, %d vCPUs, max-bandwidth %s/s, downtime"
            + " limit %d ms, parameters %s, %d runs per mode (seeds 1 to %d), give up after %d"
            + " syncs without a new low or %d s%n",
        Units.formatBytes(memoryBytes),
        workloadOptions,
        BenchGuest.VCPUS,
        Units.formatBytes(bandwidth),
        giveUp.downtimeLimit().toMillis(),
        parameters,
        runs,
        runs,
        giveUp.stalledSyncs(),
        timeout.toSeconds());
    MachineInfo.print();
    MigrationEngine engine = MigrationEngine.create();
    System.out.println();
    System.out.println(
        "| mode | converged | time median (ms) | downtime median (ms) | MiB sent median"
            + " | syncs median | xbzrle pages median | cache-miss median | overflow median |");
    System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    System.out.flush();
    try (GuestMemory destination = GuestMemory.anonymous(memoryBytes)) {
      for (boolean xbzrle : new boolean[] {false, true}) {
        List<Run> results = new ArrayList<>();
        for (int seed = 1; seed <= runs; seed++) {
          Run run = migrate(engine, destination, seed, xbzrle);
          System.err.printf(Locale.ROOT, "%s, seed %d: %s%n", xbzrle ? XBZRLE : "plain", seed, run);
          results.add(run);
        }
        long converged = results.stream().filter(Run::converged).count();
        System.out.printf(
            Locale.ROOT,
            "| %s | %d of %d | %.0f | %.0f | %.1f | %.0f | %s | %s | %s |%n",
            xbzrle ? XBZRLE : "none",
            converged,
            results.size(),
            Median.of(results, Run::elapsedMillis),
            Median.of(results, Run::downtimeMillis),
            Median.of(results, run -> run.transferred() / MIB),
            Median.of(results, Run::syncs),
            figure(results, "pages"),
            figure(results, "cache-miss"),
            figure(results, "overflow"));
        System.out.flush();
      }
    }
    System.out.printf(Locale.ROOT, "# load average at end: %s%n", MachineInfo.loadAverage());
    return 0;
  }

  private static String figure(List<Run> results, String name) {
    if (results.get(0).xbzrle() == null) {
      return "-";
    }
    return String.format(
        Locale.ROOT,
        "%.0f",
        Median.of(results, run -> ((Number) run.xbzrle().get(name)).doubleValue()));
  }

  private WorkloadOptions options() {
    WorkloadOptions options = WorkloadOptions.defaults();
    for (Map.Entry<String, String> option : workloadOptions.entrySet()) {
      options = options.with(option.getKey(), option.getValue());
    }
    return options;
  }

  private Run migrate(MigrationEngine engine, GuestMemory destination, long seed, boolean xbzrle)
      throws InterruptedException, BenchmarkFailure {
    MigrationConfig.Builder config = giveUp.config().maxBandwidth(bandwidth);
    parameters.forEach(config::option);
    if (xbzrle) {
      config.capability(XBZRLE);
    }
    try (BenchGuest running =
        BenchGuest.start(memoryBytes, seed, "sparse-writes", options(), false)) {
      Thread.sleep(WARM_UP.toMillis());
      long start = System.nanoTime();
      PrecopyMigration migration =
          engine.startInProcess(running.guest(), destination, config.build());
      MigrationCheck.Ending ending =
          MigrationCheck.awaitConvergence(
              migration, timeout, "seed " + seed + ", " + (xbzrle ? XBZRLE : "plain"));
      long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      MigrationStats stats = ending.stats();
      boolean converged = ending.converged();
      String outcome = ending.outcome();
      return new Run(
          converged,
          outcome,
          elapsedMillis,
          converged ? stats.downtimeMillis() : 0,
          stats.ram().transferred(),
          stats.ram().dirtySyncCount(),
          stats.optimizations().get(XBZRLE));
    }
  }
}
