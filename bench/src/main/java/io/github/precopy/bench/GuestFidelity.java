package io.github.precopy.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.PrecopyMigration;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.DestinationReport;
import io.github.precopy.core.transport.MigrationTarget;
import io.github.precopy.core.transport.TransportOptions;
import io.github.precopy.sim.SimulatedGuest;
import io.github.precopy.sim.Units;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The simulator next to real QEMU and a real Linux guest (issue #16, point 3; DESIGN §9
 * "Fidelity"): for each guest scenario, size and downtime limit of the reference table ({@link
 * FidelityReference}, from {@code ../shared/reference/qemu-fph-anchor.md}), {@code --runs} pairs of
 * migrations of a fresh simulated guest (4 vCPUs, the balloon driver installed in both modes),
 * legacy and {@code free-page-hint} alternating which goes first, as the reference's harness does.
 * Per case it prints our total time, bytes transferred, downtime, dirty syncs and, for a busy
 * guest, the guest's own work rate, next to the reference's, and whether our median reduction lies
 * within the reference's spread ({@link FidelityReference.Range#reduction}: {@code [1 − hintedMax /
 * legacyMin, 1 − hintedMin / legacyMax]}, for 2 GiB joined with the quiet re-run's median).
 *
 * <p>The work rate is measured as the reference measures the busy guest's: baseline = bytes the
 * guest's vCPUs wrote per second over the settle period before the migration starts; during = bytes
 * written from the start of the migration to its completion / its total time (downtime included);
 * and during / baseline. Because a migration of ours lasts well under a second, during / baseline
 * mostly measures how much of it is downtime; so it also prints the work the guest lost while it
 * ran (what it would have written at its baseline rate outside the downtime, less what it wrote, in
 * milliseconds of its own time), the work lost to the migration in all (that plus the downtime),
 * and the seed's "no slowdown of the guest's own work" as the seed measured it, on a job: the work
 * rate of a 5-minute job (the seed's compile) migrated once, hinted over legacy.
 *
 * <p>Each migration runs at unlimited bandwidth with the engine's convergence rule, must complete
 * within {@code --timeout} and be verified (source digest of every page in use compared at the
 * destination, no mismatch; over TCP the destination verifies and replies too), or the case fails
 * loudly. The destination memory is cold, as QEMU's {@code -incoming}: a fresh, untouched mapping
 * per migration, on transparent huge pages when the JDK is 22+ and they work here, else on {@code
 * /dev/shm}. Over {@code tcp} (the default) the destination is a {@link LoopbackDestination} JVM on
 * 127.0.0.1, as the reference's second QEMU. This program takes the benchmark lock ({@code flock}
 * on {@code /tmp/precopy-bench.lock}) around each pair of its runs and never while the QEMU harness
 * ({@code --qemu}) runs, which takes the lock itself: do not wrap it in {@code flock(1)} with
 * {@code --qemu}.
 */
@Command(
    name = "GuestFidelity",
    sortOptions = false,
    description = {
      "Migrates simulated guests of each scenario legacy and with free-page-hint, alternating, and"
          + " prints our figures next to those of real QEMU with a real Linux guest (and,"
          + " with --qemu, of the QEMU harness run now)."
    },
    footer = {
      "Scenario labels pick the reference: idle, used, busy (or e.g. idle-fresh), seed-idle and"
          + " seed-compile (the published QEMU v7 series, 8 GiB KVM), zeroing-idle and"
          + " zeroing-used (the reference's idle and used guests with init_on_alloc=1, 2 s limit,"
          + " medians only); other labels print ours only.",
      "",
      "Example (from the repository root; a quick run):",
      "  java -cp bench/target/benchmarks.jar io.github.precopy.bench.GuestFidelity \\",
      "      --scenarios 'idle=idle:touched=10%%' --sizes 256m --runs 1"
    })
public final class GuestFidelity implements Callable<Integer> {

  private static final String CAPABILITY = "free-page-hint";
  private static final String TCP = "tcp";
  private static final String IN_PROCESS = "in-process";
  private static final double MIB = 1 << 20;
  private static final long GIB = 1L << 30;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Print this help and exit.")
  private boolean help;

  @Option(
      names = "--scenarios",
      split = ";",
      defaultValue = FidelityScenario.DEFAULTS,
      converter = FidelityScenario.Converter.class,
      paramLabel = "LABEL=WORKLOAD[:OPTIONS]",
      description =
          "Guest scenarios separated by ';' (or the option repeated): a label, the workload and"
              + " its options key=value, comma separated (default: ${DEFAULT-VALUE}).")
  private List<FidelityScenario> scenarios;

  @Option(
      names = "--sizes",
      split = ",",
      defaultValue = "2g,8g",
      converter = MemorySize.class,
      paramLabel = "SIZE",
      description = "Guest RAM sizes (default: ${DEFAULT-VALUE}).")
  private List<Long> sizes;

  @Option(
      names = "--downtimes",
      split = ",",
      defaultValue = "2000,300",
      converter = Durations.DowntimeLimit.class,
      paramLabel = "MS",
      description = "Downtime limits; a bare number is milliseconds (default: ${DEFAULT-VALUE}).")
  private List<Duration> downtimes;

  @Option(
      names = "--runs",
      defaultValue = "3",
      paramLabel = "N",
      description = "Pairs of runs (legacy and hinted) per case (default: ${DEFAULT-VALUE}).")
  private int runs;

  @Option(
      names = "--seed",
      defaultValue = "1",
      paramLabel = "N",
      description =
          "Seed of the first pair; pair i uses seed + i, the same for both modes (default:"
              + " ${DEFAULT-VALUE}).")
  private long seed;

  @Option(
      names = "--settle",
      defaultValue = "5s",
      converter = Durations.Timeout.class,
      paramLabel = "DURATION",
      description =
          "How long the guest runs its workload before the migration starts; the baseline work"
              + " rate is measured over it (default: ${DEFAULT-VALUE}).")
  private Duration settle;

  @Option(
      names = "--transport",
      defaultValue = TCP,
      paramLabel = "tcp|in-process",
      description =
          "A destination JVM over loopback TCP, as the reference's second QEMU, or one in this"
              + " JVM (default: ${DEFAULT-VALUE}).")
  private String transport;

  @Option(
      names = "--timeout",
      defaultValue = "10m",
      converter = Durations.Timeout.class,
      paramLabel = "DURATION",
      description =
          "A migration not completed by then is cancelled and fails its case (default:"
              + " ${DEFAULT-VALUE}).")
  private Duration timeout;

  @Option(
      names = "--json",
      paramLabel = "FILE",
      description = "Also write every run of ours to FILE, one JSON object a line.")
  private Path json;

  @Option(
      names = "--qemu",
      description =
          "Also run the real QEMU harness (run.sh of --qemu-harness) for each case and print its"
              + " figures as a third column; needs qemu-system-x86_64 and "
              + "/tmp/qemu-fph/initramfs.cpio.gz (its build_guest.py).")
  private boolean qemu;

  @Option(
      names = "--qemu-harness",
      defaultValue = "../shared/anchors/qemu-fph",
      paramLabel = "DIR",
      description =
          "The QEMU free-page-hint harness, relative to the working directory (default:"
              + " ${DEFAULT-VALUE}).")
  private Path harnessDirectory;

  @Option(
      names = "--qemu-results",
      paramLabel = "DIR",
      description =
          "Where the harness writes its JSON lines (default:"
              + " /tmp/qemu-fph-results/fidelity-<time>).")
  private Path harnessResults;

  @Option(
      names = "--lock",
      defaultValue = "/tmp/precopy-bench.lock",
      paramLabel = "FILE",
      description =
          "The benchmark lock held around each pair of our runs (default: ${DEFAULT-VALUE}).")
  private Path lock;

  @Option(names = "--no-lock", description = "Run ours without taking the lock.")
  private boolean noLock;

  @Spec private CommandSpec spec;

  private MigrationEngine engine;
  private boolean hugePages;
  private Writer jsonOut;
  private final ObjectMapper mapper = new ObjectMapper();

  /** One migration of ours. */
  record Run(
      boolean hinted,
      long seed,
      long totalMillis,
      long setupMillis,
      long downtimeMillis,
      long transferred,
      long dirtySyncs,
      long hintedPages,
      double baselineBytesPerSecond,
      double duringBytesPerSecond,
      long pagesChecked) {

    double workRatio() {
      return duringBytesPerSecond / baselineBytesPerSecond;
    }

    /**
     * The guest's work lost while it ran during the migration, in milliseconds of its own baseline
     * rate: what it would have done at that rate outside the downtime, less what it did.
     */
    double workLostWhileRunningMillis() {
      double done = duringBytesPerSecond * totalMillis / 1000;
      return (totalMillis - downtimeMillis) - done / baselineBytesPerSecond * 1000;
    }
  }

  public static void main(String[] args) {
    Cli.exit(new GuestFidelity(), args);
  }

  @Override
  public Integer call() throws Exception {
    check(runs >= 1, "--runs must be >= 1");
    check(
        transport.equals(TCP) || transport.equals(IN_PROCESS),
        "--transport takes tcp or in-process, got " + transport);
    HashSet<String> labels = new HashSet<>();
    for (FidelityScenario scenario : scenarios) {
      check(labels.add(scenario.label()), "--scenarios: label '" + scenario.label() + "' twice");
      try {
        scenario.validate();
      } catch (IllegalArgumentException e) {
        check(false, "--scenarios: " + e.getMessage());
      }
    }
    FphHarness harness = null;
    if (qemu) {
      String missing = FphHarness.missing(harnessDirectory);
      if (missing != null) {
        spec.commandLine().getErr().println("GuestFidelity: --qemu: " + missing);
        spec.commandLine().getErr().flush();
        return 2;
      }
      for (long size : sizes) {
        check(size % (1 << 20) == 0, "--sizes must be whole MiB for the QEMU harness (--qemu)");
      }
      Path results =
          harnessResults != null
              ? harnessResults
              : Path.of(
                  "/tmp/qemu-fph-results",
                  "fidelity-"
                      + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
      harness = new FphHarness(harnessDirectory.toAbsolutePath().normalize(), results);
    }
    hugePages = hugePagesWork();
    checkMemory();

    System.out.printf(
        Locale.ROOT,
        "# guest fidelity (issue #16): %d pair(s) per case, legacy and free-page-hint"
            + " alternating, seeds from %d, %d vCPUs, workload settles %d ms before migrate,"
            + " unlimited bandwidth; destination %s, cold (a fresh mapping per migration) on %s%n",
        runs,
        seed,
        BenchGuest.VCPUS,
        settle.toMillis(),
        transport.equals(TCP) ? "JVM over loopback TCP" : "in this JVM",
        hugePages ? "transparent huge pages" : "/dev/shm");
    System.out.println(
        "# reference: ../shared/reference/qemu-fph-anchor.md ("
            + FidelityReference.DATE
            + ", QEMU 7.2 TCG, 4 vCPUs, Linux 6.1 guest, 3 runs each); seed: the published QEMU"
            + " v7 series, 8 GiB KVM guest");
    System.out.println(
        "# spread of a reduction: [1 − hinted max / legacy min, 1 − hinted min / legacy max];"
            + " 2 GiB: joined with the quiet re-run's median; verdicts in whole percentage points");
    System.out.println(
        "# lock: "
            + (noLock ? "none (--no-lock)" : "flock " + lock + " around each pair of our runs")
            + (harness == null ? "" : "; the QEMU harness takes it itself"));
    if (harness != null) {
      System.out.println(
          "# QEMU now: "
              + QemuAnchor.version()
              + ", harness "
              + harnessDirectory.toAbsolutePath().normalize()
              + ", JSON lines in "
              + harness.results());
    }
    MachineInfo.print();
    System.out.flush();

    engine = MigrationEngine.create();
    Map<String, List<FphHarness.Run>> harnessRuns = new HashMap<>();
    List<String> failures = new ArrayList<>();
    try (Writer out = json == null ? null : Files.newBufferedWriter(json, StandardCharsets.UTF_8)) {
      jsonOut = out;
      for (FidelityScenario scenario : scenarios) {
        Optional<FidelityReference.Guest> guest = scenario.reference();
        System.out.printf(
            Locale.ROOT,
            "%n## %s; reference: %s%n",
            scenario,
            guest
                .map(
                    g ->
                        g.inTable()
                            ? g.label + " guest"
                            : g.published.get(0).name() + " (" + g.published.get(0).setting() + ")")
                .orElse("none (label names no reference guest)"));
        FidelityTable table = new FidelityTable(harness != null);
        table.printHeader(transport);
        for (long size : sizes) {
          for (Duration downtime : downtimes) {
            long limit = downtime.toMillis();
            String label =
                scenario.label() + ", " + Units.formatSize(size) + ", limit " + limit + " ms";
            try {
              List<Run> ours = runCase(scenario, size, limit);
              List<FphHarness.Run> now = null;
              if (harness != null && guest.isPresent()) {
                String workload = guest.get().harnessWorkload;
                String append = guest.get().harnessAppend;
                String key = size + "/" + workload + "/" + append + "/" + limit;
                if (!harnessRuns.containsKey(key)) {
                  System.err.println(
                      "QEMU: " + harness.describe(size, workload, append, limit, runs));
                  harnessRuns.put(key, harness.run(size, workload, append, limit, runs));
                }
                now = harnessRuns.get(key);
              }
              table.printCase(scenario, guest, size, limit, ours, now);
            } catch (BenchmarkFailure e) {
              failures.add(label + ": " + e.getMessage());
              table.printFailure(size, limit, e.getMessage());
            }
            System.out.flush();
          }
        }
      }
    }
    System.out.printf(Locale.ROOT, "%n# load average at end: %s%n", MachineInfo.loadAverage());
    if (!failures.isEmpty()) {
      throw new BenchmarkFailure(
          failures.size() + " case(s) failed; the first: " + failures.get(0));
    }
    return 0;
  }

  /** The runs of one case: pairs alternating which mode goes first; fails on any bad run. */
  private List<Run> runCase(FidelityScenario scenario, long size, long limit) throws Exception {
    List<Run> results = new ArrayList<>();
    DestinationProcess process = null;
    try {
      if (transport.equals(TCP)) {
        List<String> options =
            new ArrayList<>(
                List.of(
                    "--memory",
                    Long.toString(size),
                    "--destination-memory",
                    LoopbackCase.Memory.COLD.toString(),
                    "--migrations",
                    Integer.toString(2 * runs),
                    // It waits for each run's guest to boot and settle, the lock included.
                    "--io-timeout",
                    "3600s"));
        if (hugePages) {
          options.add("--huge-pages");
        }
        process = DestinationProcess.start(options);
        System.err.println("  destination process " + process.pid() + ": " + process.awaitReady());
      }
      for (int i = 0; i < runs; i++) {
        boolean hintedFirst = i % 2 == 1;
        try (BenchLock held = BenchLock.acquire(noLock ? null : lock)) {
          for (boolean hinted : new boolean[] {hintedFirst, !hintedFirst}) {
            Run run = run(scenario, size, limit, seed + i, hinted, process);
            results.add(run);
            log(scenario, size, limit, i, run);
          }
        }
      }
      if (process != null) {
        process.awaitExit();
      }
    } finally {
      if (process != null) {
        process.close();
      }
    }
    return results;
  }

  /** One migration of a fresh guest; fails unless it completed and was verified. */
  private Run run(
      FidelityScenario scenario,
      long size,
      long limit,
      long seed,
      boolean hinted,
      DestinationProcess process)
      throws Exception {
    MigrationConfig.Builder config =
        MigrationConfig.builder().downtimeLimit(Duration.ofMillis(limit));
    if (hinted) {
      config.capability(CAPABILITY);
    }
    String what = (hinted ? "hinted" : "legacy") + " run with seed " + seed;
    try (BenchGuest booted =
            BenchGuest.start(size, seed, scenario.workload(), scenario.options(), true);
        GuestMemory cold = process == null ? destinationMemory(size) : null) {
      SimulatedGuest guest = booted.guest();
      long work0 = guest.workDone();
      long t0 = System.nanoTime();
      Thread.sleep(settle.toMillis());
      long work1 = guest.workDone();
      long t1 = System.nanoTime();
      MigrationTarget target =
          process == null
              ? MigrationTarget.inProcess(cold)
              : MigrationTarget.tcp(
                  "127.0.0.1",
                  process.awaitPort(),
                  TransportOptions.builder().ioTimeout(Duration.ofSeconds(120)).build());
      PrecopyMigration migration = engine.start(guest, config.build(), target);
      MigrationStats stats = migration.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (stats == null) {
        migration.cancel();
        migration.await();
        throw new BenchmarkFailure(
            what + ": not completed within " + timeout.toSeconds() + " s, cancelled");
      }
      long work2 = guest.workDone();
      if (guest.failure().isPresent()) {
        throw new BenchmarkFailure(what + ": the guest failed: " + guest.failure().get());
      }
      DestinationReport report = null;
      if (process != null && stats.status() == MigrationStatus.COMPLETED) {
        report = process.awaitReport().report();
      }
      try {
        MigrationCheck.completedAndVerified(stats, report);
      } catch (BenchmarkFailure e) {
        throw new BenchmarkFailure(what + ": " + e.getMessage());
      }
      Object hintedPages =
          stats.optimizations().getOrDefault(CAPABILITY, Map.of()).getOrDefault("hinted-pages", 0L);
      return new Run(
          hinted,
          seed,
          stats.totalTimeMillis(),
          stats.setupTimeMillis(),
          stats.downtimeMillis(),
          stats.ram().transferred(),
          stats.ram().dirtySyncCount(),
          ((Number) hintedPages).longValue(),
          (work1 - work0) / ((t1 - t0) / 1e9),
          (work2 - work1) / (Math.max(1, stats.totalTimeMillis()) / 1000.0),
          stats.verification().pagesChecked());
    }
  }

  /** The in-process destination: a fresh, cold mapping of the guest's layout. */
  private GuestMemory destinationMemory(long size) {
    GuestMemory.Builder builder = GuestMemory.builder();
    if (hugePages) {
      builder.transparentHugePages();
    }
    return builder.anonymousBlock("pc.ram", 0, size).build();
  }

  /** Whether destination memory can be on transparent huge pages here (JDK 22+, Linux, module). */
  private static boolean hugePagesWork() {
    if (Runtime.version().feature() < 22) {
      return false;
    }
    try (GuestMemory probe =
        GuestMemory.builder().transparentHugePages().anonymousBlock("probe", 0, 2 << 20).build()) {
      return true;
    } catch (RuntimeException e) {
      System.out.println("# transparent huge pages unavailable: " + Cli.oneLine(e.getMessage()));
      return false;
    }
  }

  /**
   * Says what the largest size needs (its source guest, its destination and 1 GiB for the JVMs)
   * against MemAvailable and /dev/shm's free space; fails before anything runs if it does not fit.
   */
  private void checkMemory() throws IOException {
    long size = sizes.stream().mapToLong(Long::longValue).max().orElseThrow();
    long need = 2 * size + GIB;
    long shmNeed = hugePages ? size : 2 * size;
    long available = memAvailable();
    Path shm = Path.of("/dev/shm");
    long shmFree = Files.isDirectory(shm) ? Files.getFileStore(shm).getUsableSpace() : -1;
    System.out.printf(
        Locale.ROOT,
        "# memory: the largest guest, %s, needs ~%s (%s source + %s destination + 1 GiB), %s of"
            + " it on /dev/shm; MemAvailable %s, /dev/shm free %s%n",
        Units.formatBytes(size),
        Units.formatBytes(need),
        Units.formatBytes(size),
        Units.formatBytes(size),
        Units.formatBytes(shmNeed),
        available < 0 ? "unknown" : Units.formatBytes(available),
        shmFree < 0 ? "none" : Units.formatBytes(shmFree));
    if (available >= 0 && available < need) {
      check(
          false,
          String.format(
              Locale.ROOT,
              "--sizes %s needs ~%s of memory (source + destination + 1 GiB), MemAvailable is %s",
              Units.formatSize(size),
              Units.formatBytes(need),
              Units.formatBytes(available)));
    }
    if (shmFree >= 0 && shmFree < shmNeed) {
      check(
          false,
          String.format(
              Locale.ROOT,
              "--sizes %s needs %s on /dev/shm, which has %s free",
              Units.formatSize(size),
              Units.formatBytes(shmNeed),
              Units.formatBytes(shmFree)));
    }
  }

  private static long memAvailable() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemAvailable:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // Not Linux: nothing to check against.
    }
    return -1;
  }

  /** The run on stderr, and in the JSON file. */
  private void log(FidelityScenario scenario, long size, long limit, int pair, Run run)
      throws IOException {
    System.err.printf(
        Locale.ROOT,
        "%s, %s, limit %d ms, pair %d, %s: total %d ms, downtime %d ms, %.1f MiB sent, %d syncs,"
            + " %d pages hinted, work %.0f → %.0f MiB/s, %d pages verified%n",
        scenario.label(),
        Units.formatSize(size),
        limit,
        pair,
        run.hinted() ? "hinted" : "legacy",
        run.totalMillis(),
        run.downtimeMillis(),
        run.transferred() / MIB,
        run.dirtySyncs(),
        run.hintedPages(),
        run.baselineBytesPerSecond() / MIB,
        run.duringBytesPerSecond() / MIB,
        run.pagesChecked());
    if (jsonOut == null) {
      return;
    }
    ObjectNode node = mapper.createObjectNode();
    node.put("scenario", scenario.label())
        .put("workload", scenario.workload())
        .put("options", scenario.options().toString())
        .put("size_mib", size >> 20)
        .put("downtime_limit_ms", limit)
        .put("transport", transport)
        .put("mode", run.hinted() ? "hinted" : "legacy")
        .put("pair", pair)
        .put("seed", run.seed())
        .put("total_time_ms", run.totalMillis())
        .put("setup_time_ms", run.setupMillis())
        .put("downtime_ms", run.downtimeMillis())
        .put("transferred_bytes", run.transferred())
        .put("dirty_sync_count", run.dirtySyncs())
        .put("hinted_pages", run.hintedPages())
        .put("baseline_work_mib_s", run.baselineBytesPerSecond() / MIB)
        .put("during_work_mib_s", run.duringBytesPerSecond() / MIB)
        .put("pages_verified", run.pagesChecked())
        .put("mismatches", 0);
    jsonOut.write(mapper.writeValueAsString(node));
    jsonOut.write('\n');
    jsonOut.flush();
  }

  private void check(boolean valid, String message) {
    if (!valid) {
      throw new ParameterException(spec.commandLine(), message);
    }
  }

  /** The median and range of {@code metric} over the runs {@code which} selects. */
  static <T> FidelityReference.Figure figure(
      List<T> runs, Predicate<T> which, ToDoubleFunction<T> metric) {
    List<Double> values = new ArrayList<>();
    for (T run : runs) {
      if (which.test(run)) {
        values.add(metric.applyAsDouble(run));
      }
    }
    return values.isEmpty() ? null : FidelityReference.Figure.of(values);
  }
}
