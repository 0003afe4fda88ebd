package io.github.precopy.bench;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.ConvergencePolicies;
import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.PrecopyMigration;
import io.github.precopy.core.memory.DirtyTracker;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.sim.SimulatedGuest;
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
 * Auto-converge side by side with plain precopy (issue #12): a {@code hot-set} guest over links
 * that its dirty rate outpaces 2 and 5 times ({@code --ratios}), each migrated without and with
 * capability {@code auto-converge}, with the same seeds; per case whether it converged, the time,
 * the downtime, the bytes sent, the throttle reached and the guest's own work rate during the
 * migration against its rate unthrottled.
 *
 * <p>The link comes from a dirty rate measured first, on a guest of seed 1 running alone for 2 s:
 * by default the dirty-log rate (distinct pages written per 1 s window, as QEMU's {@code
 * calc-dirty-rate} in dirty-bitmap mode), on which convergence depends; with {@code --rate-from
 * work} the work rate ({@code workDone()} per second, which counts every rewrite of a page: for
 * {@code hot-set} GiB/s, a link that limits nothing). Both are printed.
 *
 * <p>Each run boots a fresh guest of 4 vCPUs, lets it run 2 s (its unthrottled work rate) and
 * migrates it into memory in this process, allocated and written once. A migration that gives up
 * ({@link ConvergencePolicies#untilStalled}, {@code --stalled-syncs}) or is cancelled at {@code
 * --timeout} "did not converge"; one that completes must be verified without a mismatch; any other
 * failure stops the program. The work rate during a migration is the guest's work from its start to
 * its end over that time less the downtime.
 *
 * <pre>{@code
 * java -cp bench/target/benchmarks.jar io.github.precopy.bench.AutoConvergeComparison \
 *     --memory 512m --runs 3
 * }</pre>
 */
@Command(
    name = "AutoConvergeComparison",
    sortOptions = false,
    description = {
      "Migrates a hot-set guest over links its dirty rate outpaces, without and with"
          + " auto-converge, and prints them side by side."
    },
    footer = {
      "Example:",
      "  java -cp bench/target/benchmarks.jar \\",
      "      io.github.precopy.bench.AutoConvergeComparison \\",
      "      --memory 512m --runs 3"
    })
public final class AutoConvergeComparison implements Callable<Integer> {

  private static final String AUTO_CONVERGE = "auto-converge";
  private static final String DIRTY_LOG = "dirty-log";
  private static final String WORK = "work";
  private static final Duration WARM_UP = Duration.ofSeconds(2);
  private static final Duration SETTLE = Duration.ofSeconds(1);
  private static final Duration WINDOW = Duration.ofSeconds(1);
  private static final int WINDOWS = 2;
  private static final double MIB = 1 << 20;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Print this help and exit.")
  private boolean help;

  @Option(
      names = "--memory",
      defaultValue = "512m",
      converter = MemorySize.class,
      paramLabel = "SIZE",
      description = "Guest RAM, e.g. 512m or 1.5g (default: ${DEFAULT-VALUE}).")
  private long memoryBytes;

  @Option(
      names = "--runs",
      defaultValue = "3",
      paramLabel = "N",
      description =
          "Runs per case and mode, with seeds 1 to N, medians over them (default:"
              + " ${DEFAULT-VALUE}).")
  private int runs;

  @Option(
      names = "--ratios",
      split = ",",
      defaultValue = "2,5",
      paramLabel = "X",
      description =
          "Dirty rate / link: each case's link is the measured rate divided by this (default:"
              + " ${DEFAULT-VALUE}).")
  private List<Double> ratios;

  @Option(
      names = "--rate-from",
      defaultValue = DIRTY_LOG,
      paramLabel = "dirty-log|work",
      description =
          "The measured rate the link is set from: distinct pages dirtied per second, or work"
              + " done per second (default: ${DEFAULT-VALUE}).")
  private String rateFrom;

  @Option(
      names = "--workload",
      defaultValue = "hot-set",
      paramLabel = "NAME",
      description = "Workload of the guest (default: ${DEFAULT-VALUE}).")
  private String workload;

  @Option(
      names = "--workload-option",
      split = ",",
      paramLabel = "KEY=VALUE",
      description =
          "A workload parameter, e.g. dirty-rate=256m for a hot-set paced below memory speed;"
              + " repeatable.")
  private Map<String, String> workloadOptions = new LinkedHashMap<>();

  @Mixin private GiveUpOptions giveUp;

  @Option(
      names = "--timeout",
      defaultValue = "10m",
      converter = Durations.Timeout.class,
      paramLabel = "DURATION",
      description =
          "A migration still running after this is cancelled (default: ${DEFAULT-VALUE}).")
  private Duration timeout;

  @Spec private CommandSpec spec;

  private MigrationEngine engine;
  private GuestMemory destination;

  public static void main(String[] args) {
    Cli.exit(new AutoConvergeComparison(), args);
  }

  /** The guest's rates, running alone. */
  private record Rates(double workBytesPerSecond, double dirtyLogBytesPerSecond) {}

  /**
   * One migration.
   *
   * @param outcome "completed", or why it did not converge
   * @param converged whether it completed
   * @param elapsedMillis from start to end, by this program's clock
   * @param downtimeMillis {@code downtime}; 0 if it did not complete
   * @param transferred {@code transferred}
   * @param syncs {@code dirty-sync-count}
   * @param throttleMax the highest {@code cpu-throttle-percentage} of its rounds
   * @param workDuring the guest's work per second while it ran during the migration
   * @param workUnthrottled the guest's work per second in the 2 s before, no migration running
   */
  private record Run(
      String outcome,
      boolean converged,
      long elapsedMillis,
      long downtimeMillis,
      long transferred,
      long syncs,
      long throttleMax,
      double workDuring,
      double workUnthrottled) {

    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "%s after %d ms (downtime %d ms, %.0f MiB sent, %d syncs), throttle max %d %%, work %.0f"
              + " MiB/s against %.0f unthrottled",
          outcome,
          elapsedMillis,
          downtimeMillis,
          transferred / MIB,
          syncs,
          throttleMax,
          workDuring / MIB,
          workUnthrottled / MIB);
    }
  }

  @Override
  public Integer call() throws Exception {
    check(runs >= 1, "--runs must be at least 1");
    check(
        rateFrom.equals(DIRTY_LOG) || rateFrom.equals(WORK),
        "--rate-from takes dirty-log or work, got " + rateFrom);
    check(
        Workloads.names().contains(workload),
        "--workload takes " + String.join(", ", Workloads.names()) + ", got " + workload);
    for (double ratio : ratios) {
      check(ratio > 0 && Double.isFinite(ratio), "--ratios must be positive, got " + ratio);
    }
    System.out.printf(
        Locale.ROOT,
        "# auto-converge comparison: %s guest, %s, %d vCPUs, downtime limit %d ms, %d runs per"
            + " case and mode (seeds 1 to %d), give up after %d syncs without a new low or %s%n",
        Units.formatBytes(memoryBytes),
        workload,
        BenchGuest.VCPUS,
        giveUp.downtimeLimit().toMillis(),
        runs,
        runs,
        giveUp.stalledSyncs(),
        timeout.toSeconds() + " s");
    MachineInfo.print();
    engine = MigrationEngine.create();
    Rates rates = measureRates();
    System.out.printf(
        Locale.ROOT,
        "# %s alone (seed 1, %d s): work rate %.1f MiB/s (workDone, every page write counted);"
            + " dirty-log rate %.1f MiB/s (distinct pages dirtied per %d s window); links from"
            + " the %s rate%n",
        workload,
        WINDOWS * WINDOW.toSeconds(),
        rates.workBytesPerSecond() / MIB,
        rates.dirtyLogBytesPerSecond() / MIB,
        WINDOW.toSeconds(),
        rateFrom);
    double basis =
        rateFrom.equals(DIRTY_LOG) ? rates.dirtyLogBytesPerSecond() : rates.workBytesPerSecond();
    System.out.println();
    System.out.println(
        "| rate / link | link (MiB/s) | auto-converge | converged | time median (ms)"
            + " | downtime median (ms) | MiB sent median | syncs median | throttle reached (%)"
            + " | work during (MiB/s) | work unthrottled (MiB/s) | during / unthrottled |");
    System.out.println("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    System.out.flush();
    try (GuestMemory preallocated = preallocate()) {
      destination = preallocated;
      for (double ratio : ratios) {
        long link = Math.max(MigrationConfig.MIN_BANDWIDTH, Math.round(basis / ratio));
        for (boolean autoConverge : new boolean[] {false, true}) {
          List<Run> results = new ArrayList<>();
          for (int seed = 1; seed <= runs; seed++) {
            Run run = migrate(seed, link, autoConverge);
            System.err.printf(
                Locale.ROOT,
                "ratio %s, link %.1f MiB/s, %s, seed %d: %s%n",
                format(ratio),
                link / MIB,
                autoConverge ? AUTO_CONVERGE : "plain",
                seed,
                run);
            results.add(run);
          }
          printRow(ratio, link, autoConverge, results);
        }
      }
    }
    System.out.printf(Locale.ROOT, "# load average at end: %s%n", MachineInfo.loadAverage());
    return 0;
  }

  private void check(boolean valid, String message) {
    if (!valid) {
      throw new ParameterException(spec.commandLine(), message);
    }
  }

  /** The destination memory, every page written once (as QEMU's preallocation). */
  private GuestMemory preallocate() {
    GuestMemory memory = GuestMemory.anonymous(memoryBytes);
    byte[] page = new byte[GuestMemory.PAGE_SIZE];
    for (long address = 0; address < memoryBytes; address += page.length) {
      memory.write(address, page, 0, page.length);
    }
    return memory;
  }

  private WorkloadOptions options() {
    WorkloadOptions options = WorkloadOptions.defaults();
    for (Map.Entry<String, String> option : workloadOptions.entrySet()) {
      options = options.with(option.getKey(), option.getValue());
    }
    return options;
  }

  /** The work rate and the dirty-log rate of a guest of seed 1 running alone. */
  private Rates measureRates() throws InterruptedException {
    try (BenchGuest running = BenchGuest.start(memoryBytes, 1, workload, options(), false);
        DirtyTracker tracker = running.guest().memory().startDirtyTracking()) {
      SimulatedGuest guest = running.guest();
      Thread.sleep(SETTLE.toMillis());
      List<RamBlock> blocks = guest.memory().blocks();
      PageBitmap[] dirty = new PageBitmap[blocks.size()];
      for (int i = 0; i < dirty.length; i++) {
        dirty[i] = new PageBitmap(blocks.get(i).pageCount());
      }
      drain(tracker, blocks, dirty); // whatever was written before: not counted
      long start = System.nanoTime();
      long workStart = guest.workDone();
      long distinctPages = 0;
      for (int window = 0; window < WINDOWS; window++) {
        Thread.sleep(WINDOW.toMillis());
        distinctPages += drain(tracker, blocks, dirty);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      return new Rates(
          (guest.workDone() - workStart) / seconds,
          distinctPages * GuestMemory.PAGE_SIZE / seconds);
    }
  }

  /** The pages written since the last drain, counted once each. */
  private static long drain(DirtyTracker tracker, List<RamBlock> blocks, PageBitmap[] dirty) {
    long pages = 0;
    for (int i = 0; i < dirty.length; i++) {
      dirty[i].clear();
      pages += tracker.drainInto(blocks.get(i), dirty[i]);
    }
    return pages;
  }

  /** One migration of a fresh guest over a link of {@code link} bytes per second. */
  private Run migrate(long seed, long link, boolean autoConverge)
      throws InterruptedException, BenchmarkFailure {
    MigrationConfig.Builder config = giveUp.config().maxBandwidth(link);
    if (autoConverge) {
      config.capability(AUTO_CONVERGE);
    }
    try (BenchGuest running = BenchGuest.start(memoryBytes, seed, workload, options(), false)) {
      SimulatedGuest guest = running.guest();
      long warmUpStart = System.nanoTime();
      long workBefore = guest.workDone();
      Thread.sleep(WARM_UP.toMillis());
      long start = System.nanoTime();
      long workStart = guest.workDone();
      double unthrottled = (workStart - workBefore) * 1e9 / (start - warmUpStart);
      PrecopyMigration migration = engine.startInProcess(guest, destination, config.build());
      MigrationCheck.Ending ending =
          MigrationCheck.awaitConvergence(
              migration, timeout, "seed " + seed + ", " + (autoConverge ? AUTO_CONVERGE : "plain"));
      long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      long work = guest.workDone() - workStart;
      MigrationStats stats = ending.stats();
      String outcome = ending.outcome();
      long ranMillis = Math.max(1, elapsedMillis - stats.downtimeMillis());
      return new Run(
          outcome,
          ending.converged(),
          elapsedMillis,
          stats.downtimeMillis(),
          stats.ram().transferred(),
          stats.ram().dirtySyncCount(),
          stats.rounds().stream()
              .mapToLong(MigrationStats.Round::cpuThrottlePercentage)
              .max()
              .orElse(0),
          work * 1000.0 / ranMillis,
          unthrottled);
    }
  }

  private void printRow(double ratio, long link, boolean autoConverge, List<Run> results) {
    List<Run> converged = results.stream().filter(Run::converged).toList();
    double during = Median.of(results, Run::workDuring);
    double unthrottled = Median.of(results, Run::workUnthrottled);
    System.out.printf(
        Locale.ROOT,
        "| %s | %.1f | %s | %d / %d | %.0f | %s | %.0f | %.0f | %d | %.0f | %.0f | %.2f |%n",
        format(ratio),
        link / MIB,
        autoConverge ? "yes" : "no",
        converged.size(),
        results.size(),
        Median.of(results, Run::elapsedMillis),
        converged.isEmpty()
            ? "-"
            : String.format(Locale.ROOT, "%.0f", Median.of(converged, Run::downtimeMillis)),
        Median.of(results, Run::transferred) / MIB,
        Median.of(results, Run::syncs),
        results.stream().mapToLong(Run::throttleMax).max().orElse(0),
        during / MIB,
        unthrottled / MIB,
        during / unthrottled);
    System.out.flush();
  }

  /** A ratio as written: {@code 2}, {@code 2.5}. */
  private static String format(double ratio) {
    return ratio == Math.rint(ratio)
        ? Long.toString((long) ratio)
        : String.format(Locale.ROOT, "%s", ratio);
  }
}
