package io.github.precopy.examples.cli;

import io.github.precopy.core.ConvergencePolicies;
import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.DirtyTracking;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.MigrationTarget;
import io.github.precopy.core.transport.TransportOptions;
import io.github.precopy.examples.cli.Choices.GiveUp;
import io.github.precopy.examples.cli.Choices.Output;
import io.github.precopy.examples.cli.Choices.Transport;
import io.github.precopy.sim.Units;
import io.github.precopy.sim.WorkloadOptions;
import io.github.precopy.sim.Workloads;
import io.github.precopy.spi.ConvergencePolicy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code precopy migrate}: boots a simulated guest and migrates it, in this process or over TCP,
 * once or once per capability side by side ({@code --compare}).
 */
@Command(
    name = "migrate",
    sortOptions = false,
    mixinStandardHelpOptions = true,
    versionProvider = Precopy.Version.class,
    description = {
      "Boots a simulated guest, runs its workload and live-migrates it with precopy: in this"
          + " process into a fresh memory (verified page by page), or over TCP to a"
          + " 'precopy incoming'.",
      "Exit code 0 only for a completed migration with no verification mismatch. SIGINT"
          + " (Ctrl-C) or SIGTERM cancels the migration (the guest runs on), prints what it had"
          + " done and exits with 130 or 143."
    })
final class MigrateCommand implements Callable<Integer> {

  /**
   * Without --max-syncs or --timeout, a migration whose remaining bytes reach no new low for this
   * many syncs in a row fails as not converging (the library alone has no bound, as QEMU).
   */
  static final int STALLED_SYNCS = 30;

  @Spec private CommandSpec spec;

  @Option(
      names = "--memory",
      defaultValue = "2g",
      converter = Sizes.Converter.class,
      paramLabel = "SIZE",
      description = "Guest RAM, a size such as 64m, 1.5g or 2t; at least 16m (default: 2g).")
  private long memory;

  @Option(
      names = "--vcpus",
      defaultValue = "4",
      paramLabel = "N",
      description = "vCPU threads running the workload, 1 to 1024 (default: 4).")
  private int vcpus;

  @Option(
      names = "--workload",
      defaultValue = "idle",
      paramLabel = "NAME",
      completionCandidates = WorkloadNames.class,
      description = "${COMPLETION-CANDIDATES}; described below (default: idle).")
  private String workload;

  /** The built-in workloads' names, for the help. */
  static final class WorkloadNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Workloads.names().iterator();
    }
  }

  @Option(
      names = "--workload-option",
      split = ",",
      paramLabel = "KEY=VALUE",
      description =
          "A workload parameter, e.g. touched=40%%; repeat or separate with commas. Each"
              + " workload's options are listed below.")
  private Map<String, String> workloadOptions = new LinkedHashMap<>();

  @Option(
      names = "--parameter",
      paramLabel = "NAME=VALUE",
      description =
          "A migration parameter with QEMU's migrate-set-parameters name, e.g."
              + " cpu-throttle-initial=30 for auto-converge; repeatable. downtime-limit and"
              + " max-bandwidth are the options of those names.")
  private Map<String, String> parameters = new LinkedHashMap<>();

  @Option(
      names = "--capabilities",
      split = ",",
      paramLabel = "NAME",
      description =
          "Capabilities to enable, e.g. free-page-hint (default: none; with --compare: every one"
              + " available).")
  private List<String> capabilities = new ArrayList<>();

  @Option(
      names = "--max-bandwidth",
      converter = Sizes.RateConverter.class,
      paramLabel = "BYTES/S",
      description =
          "Bandwidth limit while the guest runs, a rate such as 100m or 1g/s (default:"
              + " unlimited).")
  private Long maxBandwidth;

  @Option(
      names = "--downtime-limit",
      defaultValue = "300ms",
      converter = Durations.DowntimeConverter.class,
      paramLabel = "DURATION",
      description =
          "Longest pause for the final copy, up to 2000s, e.g. 300ms or 2s; a bare number is"
              + " milliseconds (default: 300ms).")
  private Duration downtimeLimit;

  @Option(
      names = "--dirty-tracking",
      defaultValue = DirtyTracking.SOFTWARE,
      paramLabel = "software|kernel",
      description =
          "How the migration learns which pages the guest wrote: software, each vCPU write marks"
              + " a log; kernel, the kernel write-protects guest RAM (userfaultfd and PAGEMAP_SCAN,"
              + " Linux 6.7+ and JDK 22+) and the vCPUs write with plain stores (default:"
              + " software).")
  private String dirtyTracking;

  @Option(
      names = "--huge-pages",
      description =
          "Back guest RAM (and an in-process destination's) with transparent huge pages (private"
              + " anonymous memory advised MADV_HUGEPAGE, as QEMU's memory-backend-ram) instead of"
              + " /dev/shm; needs JDK 22+ and Linux transparent huge pages.")
  private boolean hugePages;

  @Option(
      names = "--transport",
      defaultValue = "in-process",
      converter = Choices.TransportConverter.class,
      paramLabel = "in-process|tcp|file",
      description = "Where the stream goes (default: in-process).")
  private Transport transport;

  @Option(
      names = "--to",
      paramLabel = "HOST:PORT|FILE",
      description =
          "With --transport tcp, the 'precopy incoming' to send to; with --transport file, the"
              + " snapshot to write (replaced once complete).")
  private String to;

  @Option(
      names = "--channels",
      defaultValue = "1",
      paramLabel = "N",
      description =
          "TCP connections the pages are split across, 1 to 64; the same as incoming's"
              + " (default: 1).")
  private int channels;

  @Mixin private TlsOptions tls;

  @Option(
      names = "--connect-timeout",
      defaultValue = "10s",
      converter = Durations.Converter.class,
      paramLabel = "DURATION",
      description = "How long to try to connect to --to, e.g. 500ms or 1m (default: 10s).")
  private Duration connectTimeout;

  @Option(
      names = "--io-timeout",
      defaultValue = "60s",
      converter = Durations.Converter.class,
      paramLabel = "DURATION",
      description =
          "Fail once the destination takes no data, or does not reply, for this long"
              + " (default: 60s).")
  private Duration ioTimeout;

  @Option(
      names = "--seed",
      defaultValue = "0",
      paramLabel = "N",
      description = "Seed of the guest's random sources (default: 0).")
  private long seed;

  @Option(
      names = "--output",
      defaultValue = "text",
      converter = Choices.OutputConverter.class,
      paramLabel = "text|json",
      description = "Result format; json uses QEMU's query-migrate names (default: text).")
  private Output output;

  @Option(
      names = "--settle",
      converter = Durations.Converter.class,
      paramLabel = "DURATION",
      description =
          "Let the workload run this long after boot before each migration starts, e.g. 5s, so"
              + " that a busy or compiling guest has reached its working set (default: migrate"
              + " at once).")
  private Duration settle = Duration.ZERO;

  @Option(
      names = "--guest-buddyinfo",
      description =
          "Also print the guest's free memory blocks just before each migration, as Linux's"
              + " /proc/buddyinfo (json: field guest-buddyinfo).")
  private boolean guestBuddyInfo;

  @Option(
      names = "--compare",
      description =
          "Migrate the same guest without any capability, then with each capability, and print"
              + " them side by side.")
  private boolean compare;

  @Option(
      names = "--chart",
      paramLabel = "FILE.png",
      description = "Also draw remaining bytes over time and bytes per round into a PNG.")
  private Path chart;

  @Option(
      names = "--max-syncs",
      paramLabel = "N",
      description = "Give up once this many dirty-log syncs did not converge (default: no limit).")
  private Long maxSyncs;

  @Option(
      names = "--timeout",
      converter = Durations.Converter.class,
      paramLabel = "DURATION",
      description = "Give up once precopy has run this long, e.g. 60s (default: no limit).")
  private Duration timeout;

  @Option(
      names = "--give-up",
      converter = Choices.GiveUpConverter.class,
      paramLabel = "fail|switch-over",
      description =
          "At --max-syncs or --timeout: fail (the guest runs on) or switch over anyway"
              + " (default: fail).")
  private GiveUp giveUp;

  @Override
  public Integer call() throws IOException, InterruptedException {
    try (Interruption interruption =
        Interruption.install(spec.qualifiedName(), spec.commandLine().getErr())) {
      int exitCode = run(interruption);
      interruption.reported();
      return exitCode;
    }
  }

  /** Checks the options, runs the migrations and prints them; a signal cuts it short. */
  private int run(Interruption interruption) throws IOException, InterruptedException {
    MigrationEngine engine = MigrationEngine.create();
    GuestSpec guest = validate(engine);
    MigrationTarget target = Flag.check(spec, "--to " + to, this::target);
    List<Set<String>> runs = plannedRuns(engine);
    PrintWriter out = spec.commandLine().getOut();
    ProgressBar progress = new ProgressBar(spec.commandLine().getErr(), ProgressBar.onTerminal());
    List<RunResult> results = new ArrayList<>();
    boolean[] headerPrinted = {false};
    GuestMigration migration =
        new GuestMigration(
            engine,
            guest,
            interruption,
            () -> {
              // Once the first guest runs, so that even a run cut short has its header.
              if (output == Output.TEXT && !headerPrinted[0]) {
                headerPrinted[0] = true;
                out.println(header(guest));
                out.flush();
              }
            },
            guestBuddyInfo);
    for (Set<String> enabled : transport == Transport.IN_PROCESS ? runs : runs.subList(0, 1)) {
      RunResult result =
          transport == Transport.IN_PROCESS
              ? migration.inProcess(label(enabled), config(enabled), progress)
              : migration.toTarget(label(enabled), config(enabled), target, progress);
      if (result != null) {
        results.add(result);
      }
      if (interruption.signalled()) {
        return interrupted(guest, results, headerPrinted[0]);
      }
    }
    if (output == Output.JSON) {
      out.println(
          compare
              ? StatsJson.of(results, guest, transport.cliName)
              : StatsJson.of(results.get(0), guest, transport.cliName));
    } else {
      if (!headerPrinted[0]) {
        out.println(header(guest));
      }
      for (RunResult result : guestBuddyInfo ? results : List.<RunResult>of()) {
        out.println("guest /proc/buddyinfo before migrating (" + result.label() + "):");
        out.print(result.guestBuddyInfo());
      }
      out.print(compare ? TextReport.compare(results) : TextReport.of(results.get(0)));
    }
    out.flush();
    if (chart != null) {
      ChartWriter.write(chart, results);
      if (output == Output.TEXT) {
        out.println("chart: " + chart);
        out.flush();
      }
    }
    return verdict(results);
  }

  /** E.g. "migrate: 64.00 MiB guest, idle workload, 2 vCPUs, seed 7, tcp to 127.0.0.1:4444". */
  private String header(GuestSpec guest) {
    return (compare ? "compare: " : "migrate: ")
        + guest.describe()
        + ", "
        + transport.cliName
        + (to == null ? "" : " to " + to)
        + (DirtyTracking.SOFTWARE.equals(dirtyTracking)
            ? ""
            : ", " + dirtyTracking + " dirty tracking");
  }

  /**
   * After a signal: prints what ran, the cancelled run as far as it went, then one line saying what
   * was interrupted; the JVM then exits with 130 for SIGINT, 143 for SIGTERM.
   */
  private int interrupted(GuestSpec guest, List<RunResult> results, boolean headerPrinted) {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (output == Output.JSON) {
      if (!results.isEmpty()) {
        out.println(
            compare
                ? StatsJson.of(results, guest, transport.cliName)
                : StatsJson.of(results.get(0), guest, transport.cliName));
      }
    } else {
      if (!headerPrinted) {
        out.println(header(guest));
      }
      if (!results.isEmpty()) {
        out.print(compare ? TextReport.compare(results) : TextReport.of(results.get(0)));
      }
    }
    out.flush();
    String what;
    if (results.isEmpty()) {
      what = " before the migration started";
    } else {
      RunResult last = results.get(results.size() - 1);
      MigrationStats stats = last.stats();
      what =
          ": "
              + (stats.status() == MigrationStatus.CANCELLED
                  ? "migration " + (compare ? "(" + last.label() + ") " : "") + "cancelled"
                  : "migration " + stats.status().qemuName())
              + String.format(
                  Locale.ROOT,
                  " after %,d ms, %s sent, %s still dirty",
                  stats.totalTimeMillis(),
                  Sizes.format(stats.ram().transferred()),
                  Sizes.format(stats.ram().remaining()))
              + (stats.status() == MigrationStatus.COMPLETED
                  ? ""
                  : "; the guest ran on at the source"
                      + (transport == Transport.TCP ? " and the destination was dropped" : ""));
    }
    err.println(
        spec.qualifiedName()
            + ": interrupted by a signal"
            + what
            + (to == null ? "" : " (sending to " + to + ")"));
    err.flush();
    return Interruption.EXIT_CODE;
  }

  /** Where the stream goes, for tcp and file; null in process. */
  private MigrationTarget target() {
    if (transport == Transport.FILE) {
      return MigrationTarget.file(Path.of(to));
    }
    if (transport == Transport.TCP) {
      HostPort address = HostPort.parse(to);
      return MigrationTarget.tcp(
          address.host(),
          address.port(),
          TransportOptions.builder()
              .channels(channels)
              .connectTimeout(connectTimeout)
              .ioTimeout(ioTimeout)
              .tls(tls.context(spec))
              .build());
    }
    return null;
  }

  /** 0 if every run completed and, in process, verified without mismatch; otherwise 1. */
  private int verdict(List<RunResult> results) {
    PrintWriter err = spec.commandLine().getErr();
    for (RunResult result : results) {
      MigrationStats stats = result.stats();
      String problem = null;
      if (stats.status() != MigrationStatus.COMPLETED) {
        problem =
            "migration "
                + stats.status().qemuName()
                + (stats.errorDescription() == null ? "" : ": " + stats.errorDescription());
        if (stats.errorDescription() != null
            && stats.errorDescription().startsWith("convergence policy gave up")) {
          problem +=
              result.capabilities().contains("auto-converge")
                  ? "; it does not converge even with the guest throttled to "
                      + stats.cpuThrottlePercentage()
                      + " %: allow --give-up switch-over with --max-syncs or --timeout, or raise"
                      + " --max-bandwidth"
                  : "; it does not converge: enable --capabilities auto-converge, allow --give-up"
                      + " switch-over with --max-syncs or --timeout, or raise --max-bandwidth";
        }
      } else if (transport != Transport.FILE && stats.verification() == null) {
        problem = "migration completed but was not verified";
      } else if (stats.verification() != null && stats.verification().mismatches() > 0) {
        problem =
            "migration completed but "
                + stats.verification().mismatches()
                + " of "
                + stats.verification().pagesChecked()
                + " pages differ at the destination";
      }
      if (problem != null) {
        err.println(
            spec.qualifiedName()
                + ": "
                + (compare ? result.label() + ": " : "")
                + problem
                + (to == null ? "" : " (sending to " + to + ")"));
        err.flush();
        return ExitCode.SOFTWARE;
      }
    }
    return ExitCode.OK;
  }

  /** Checks what picocli cannot check alone; every message is one line naming what is valid. */
  private GuestSpec validate(MigrationEngine engine) {
    takeShorthand(
        "max-bandwidth", maxBandwidth != null, value -> maxBandwidth = Units.parseRate(value));
    takeShorthand(
        "downtime-limit",
        downtimeLimitGiven(),
        value -> downtimeLimit = Units.parseDurationOrMillis(value));
    require(vcpus >= 1 && vcpus <= 1024, "--vcpus " + vcpus + " is outside 1 to 1024");
    Flag.check(
        spec, "--downtime-limit", () -> MigrationConfig.builder().downtimeLimit(downtimeLimit));
    if (maxBandwidth != null) {
      Flag.check(
          spec, "--max-bandwidth", () -> MigrationConfig.builder().maxBandwidth(maxBandwidth));
    }
    if (maxSyncs != null || timeout != null) {
      Flag.check(spec, maxSyncs != null ? "--max-syncs" : "--timeout", this::convergencePolicy);
    }
    require(
        giveUp == null || maxSyncs != null || timeout != null,
        "--give-up needs --max-syncs or --timeout");
    require(
        to == null || transport != Transport.IN_PROCESS,
        "--to " + to + " needs --transport tcp or file (the default transport is in-process)");
    require(
        to != null || transport == Transport.IN_PROCESS,
        "--transport "
            + transport.cliName
            + " needs --to "
            + (transport == Transport.TCP ? "HOST:PORT" : "FILE"));
    if (transport == Transport.FILE) {
      Path file = Path.of(to);
      Path directory = file.toAbsolutePath().getParent();
      require(
          directory != null && Files.isDirectory(directory),
          "--to " + to + ": directory " + directory + " does not exist");
      require(!Files.isDirectory(file), "--to " + to + " is a directory, not a file");
    }
    Optional<String> trackingProblem = DirtyTracking.unavailableReason(dirtyTracking);
    require(
        trackingProblem.isEmpty(),
        "--dirty-tracking " + dirtyTracking + ": " + trackingProblem.orElse(""));
    Flag.check(spec, "--channels", () -> TransportOptions.builder().channels(channels));
    require(channels == 1 || transport == Transport.TCP, "--channels needs --transport tcp");
    require(!tls.enabled() || transport == Transport.TCP, "TLS options need --transport tcp");
    require(
        !compare || transport == Transport.IN_PROCESS,
        "--compare runs in process only; leave out --transport " + transport.cliName);
    Flag.check(
        spec,
        "--capabilities",
        () -> {
          engine.check(
              MigrationConfig.builder().capabilities(new LinkedHashSet<>(capabilities)).build());
          return null;
        });
    // Every run's parameters, before the first starts: --compare enables capabilities that
    // --capabilities did not name, whose parameters would otherwise be checked only in their run.
    for (Set<String> run : plannedRuns(engine)) {
      Flag.check(
          spec,
          "--parameter",
          () -> {
            engine.check(config(run));
            return null;
          });
    }
    if (chart != null) {
      Path directory = chart.toAbsolutePath().getParent();
      require(
          directory != null && Files.isDirectory(directory),
          "--chart " + chart + ": directory " + directory + " does not exist");
      require(!Files.isDirectory(chart), "--chart " + chart + " is a directory, not a file");
    }
    WorkloadOptions options = WorkloadOptions.defaults();
    try {
      for (Map.Entry<String, String> option : workloadOptions.entrySet()) {
        options = options.with(option.getKey(), option.getValue());
      }
      Workloads.create(workload, options);
      MemoryBudget.check("--memory", memory, transport == Transport.IN_PROCESS ? 2 : 1);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    if (hugePages) {
      Optional<String> problem = GuestMemory.Builder.transparentHugePagesUnavailableReason();
      require(problem.isEmpty(), "--huge-pages: " + problem.orElse(""));
    }
    return new GuestSpec(memory, vcpus, workload, options, seed, hugePages, settle);
  }

  /** The capability sets to run: one, or with --compare none and then each capability alone. */
  private List<Set<String>> plannedRuns(MigrationEngine engine) {
    Set<String> named = new LinkedHashSet<>(capabilities);
    if (!compare) {
      return List.of(named);
    }
    List<Set<String>> runs = new ArrayList<>();
    runs.add(Set.of());
    for (String capability : named.isEmpty() ? engine.capabilities() : named) {
      runs.add(Set.of(capability));
    }
    return runs;
  }

  private MigrationConfig config(Set<String> enabled) {
    MigrationConfig.Builder config =
        MigrationConfig.builder()
            .capabilities(enabled)
            .downtimeLimit(downtimeLimit)
            .dirtyTracking(dirtyTracking);
    if (maxBandwidth != null) {
      config.maxBandwidth(maxBandwidth);
    }
    if (maxSyncs != null || timeout != null) {
      config.convergencePolicy(convergencePolicy());
    } else {
      config.convergencePolicy(
          ConvergencePolicies.untilStalled(STALLED_SYNCS, ConvergencePolicies.GiveUp.FAIL));
    }
    parameters.forEach(config::option);
    return config.build();
  }

  private ConvergencePolicy convergencePolicy() {
    return ConvergencePolicies.bounded(
        maxSyncs == null ? Long.MAX_VALUE : maxSyncs,
        timeout == null ? Duration.ofMillis(Long.MAX_VALUE) : timeout,
        giveUp == null ? ConvergencePolicies.GiveUp.FAIL : giveUp.policy);
  }

  private static String label(Set<String> enabled) {
    return enabled.isEmpty() ? "legacy" : String.join("+", enabled);
  }

  /**
   * Moves {@code --parameter NAME=VALUE} of a parameter that has an option of its own into that
   * option.
   */
  private void takeShorthand(String name, boolean optionGiven, Consumer<String> set) {
    String value = parameters.remove(name);
    if (value == null) {
      return;
    }
    require(!optionGiven, "--parameter " + name + " and --" + name + " both set it; give one");
    try {
      set.accept(value);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(), "--parameter " + name + ": " + e.getMessage(), e);
    }
  }

  private boolean downtimeLimitGiven() {
    return spec.commandLine().getParseResult().hasMatchedOption("--downtime-limit");
  }

  private void require(boolean valid, String message) {
    if (!valid) {
      throw new ParameterException(spec.commandLine(), message);
    }
  }
}
