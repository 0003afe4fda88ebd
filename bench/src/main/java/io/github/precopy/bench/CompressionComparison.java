package io.github.precopy.bench;

import com.sun.management.OperatingSystemMXBean;
import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.transport.MigrationTarget;
import io.github.precopy.core.transport.TransportOptions;
import io.github.precopy.sim.Units;
import io.github.precopy.sim.WorkloadOptions;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Multifd compression side by side (issue #13): an idle guest whose boot wrote half its memory with
 * the given {@code content} ({@code text} or {@code mixed}, the rest never touched) migrated over
 * loopback TCP to a destination process ({@link LoopbackDestination}, preallocated memory), with 1
 * and 4 channels, unlimited or at a rate limit, with {@code multifd-compression} none, zlib, zstd
 * and lz4 (levels 1), the codecs alternating within each run so that they see the same machine. Per
 * case the medians of the total time, the bytes that travelled, the bytes before compression and
 * the source's CPU time (this process, all threads) during the migration. Every migration must
 * complete and verify.
 *
 * <pre>{@code
 * java -cp bench/target/benchmarks.jar io.github.precopy.bench.CompressionComparison \
 *     --memory 512m --runs 3
 * }</pre>
 */
@Command(
    name = "CompressionComparison",
    sortOptions = false,
    description = {
      "Migrates a guest over loopback TCP with each multifd-compression codec and prints them"
          + " side by side."
    },
    footer = {
      "Example:",
      "  java -cp bench/target/benchmarks.jar io.github.precopy.bench.CompressionComparison \\",
      "      --memory 512m --runs 3"
    })
public final class CompressionComparison implements Callable<Integer> {

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
      description = "Guest RAM (default: ${DEFAULT-VALUE}).")
  private long memoryBytes;

  @Option(
      names = "--runs",
      defaultValue = "3",
      paramLabel = "N",
      description = "Runs per case, seeds 1 to N, medians over them (default: ${DEFAULT-VALUE}).")
  private int runs;

  @Option(
      names = "--contents",
      split = ",",
      defaultValue = "text,mixed",
      paramLabel = "CONTENT",
      description = "Page contents of the guest (default: ${DEFAULT-VALUE}).")
  private List<String> contents;

  @Option(
      names = "--channels",
      split = ",",
      defaultValue = "1,4",
      paramLabel = "N",
      description = "Channel counts (default: ${DEFAULT-VALUE}).")
  private List<Integer> channelCounts;

  @Option(
      names = "--links",
      split = ",",
      defaultValue = "0,125000000",
      paramLabel = "RATE",
      description =
          "Rate limits in bytes per second, 0 for none (default: ${DEFAULT-VALUE}: unlimited and"
              + " 1 Gbit/s).")
  private List<Long> links;

  @Option(
      names = "--codecs",
      split = ",",
      defaultValue = "none,zlib,zstd,lz4",
      paramLabel = "NAME",
      description = "multifd-compression values (default: ${DEFAULT-VALUE}).")
  private List<String> codecs;

  @Spec private CommandSpec spec;

  public static void main(String[] args) {
    Cli.exit(new CompressionComparison(), args);
  }

  private record Run(long millis, long transferred, long uncompressed, long cpuMillis) {}

  @Override
  public Integer call() throws Exception {
    if (runs < 1) {
      throw new ParameterException(spec.commandLine(), "--runs must be at least 1");
    }
    MigrationEngine engine = MigrationEngine.create();
    for (String codec : codecs) {
      try {
        engine.check(MigrationConfig.builder().option("multifd-compression", codec).build());
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "--codecs: " + e.getMessage());
      }
    }
    System.out.printf(
        Locale.ROOT,
        "# multifd-compression comparison: %s idle guest (boot wrote half of it), %d vCPUs,"
            + " loopback TCP to a destination process with preallocated memory, %d runs per"
            + " case (seeds 1 to %d), codecs alternating within each run%n",
        Units.formatBytes(memoryBytes),
        BenchGuest.VCPUS,
        runs,
        runs);
    MachineInfo.print();
    System.out.println();
    System.out.println(
        "| content | channels | link | codec | time median (ms) | MiB sent median"
            + " | MiB before compression | ratio | source CPU median (ms) |");
    System.out.println("|---|---:|---|---|---:|---:|---:|---:|---:|");
    System.out.flush();
    for (String content : contents) {
      for (int channels : channelCounts) {
        for (long link : links) {
          runCase(engine, content, channels, link);
        }
      }
    }
    System.out.printf(Locale.ROOT, "# load average at end: %s%n", MachineInfo.loadAverage());
    return 0;
  }

  private void runCase(MigrationEngine engine, String content, int channels, long link)
      throws Exception {
    List<List<Run>> byCodec = new ArrayList<>();
    codecs.forEach(codec -> byCodec.add(new ArrayList<>()));
    int migrations = runs * codecs.size();
    try (DestinationProcess destination =
        DestinationProcess.start(
            List.of(
                "--memory",
                Long.toString(memoryBytes),
                "--destination-memory",
                "prealloc",
                "--migrations",
                Integer.toString(migrations),
                "--channels",
                Integer.toString(channels)))) {
      destination.awaitReady();
      for (int seed = 1; seed <= runs; seed++) {
        for (int c = 0; c < codecs.size(); c++) {
          Run run = migrate(engine, destination, content, channels, link, codecs.get(c), seed);
          System.err.printf(
              Locale.ROOT,
              "%s, %d channels, link %s, %s, seed %d: %s%n",
              content,
              channels,
              link == 0 ? "unlimited" : Units.formatBytes(link) + "/s",
              codecs.get(c),
              seed,
              run);
          byCodec.get(c).add(run);
        }
      }
      destination.awaitExit();
    }
    for (int c = 0; c < codecs.size(); c++) {
      List<Run> results = byCodec.get(c);
      double sent = Median.of(results, run -> run.transferred() / MIB);
      double before = Median.of(results, run -> run.uncompressed() / MIB);
      System.out.printf(
          Locale.ROOT,
          "| %s | %d | %s | %s | %.0f | %.1f | %.1f | %.2f | %.0f |%n",
          content,
          channels,
          link == 0 ? "unlimited" : String.format(Locale.ROOT, "%.0f MB/s", link / 1e6),
          codecs.get(c),
          Median.of(results, Run::millis),
          sent,
          before,
          before / sent,
          Median.of(results, Run::cpuMillis));
    }
    System.out.flush();
  }

  private Run migrate(
      MigrationEngine engine,
      DestinationProcess destination,
      String content,
      int channels,
      long link,
      String codec,
      long seed)
      throws Exception {
    int port = destination.awaitPort();
    MigrationConfig.Builder config =
        MigrationConfig.builder()
            .option("multifd-compression", codec)
            .downtimeLimit(Duration.ofMillis(300));
    if (link > 0) {
      config.maxBandwidth(link);
    }
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    try (BenchGuest running =
        BenchGuest.start(
            memoryBytes,
            seed,
            "idle",
            WorkloadOptions.defaults().with("content", content),
            false)) {
      TransportOptions transport = TransportOptions.builder().channels(channels).build();
      long cpuBefore = os.getProcessCpuTime();
      long start = System.nanoTime();
      MigrationStats stats =
          engine
              .start(
                  running.guest(),
                  config.build(),
                  MigrationTarget.tcp("127.0.0.1", port, transport))
              .await();
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      long cpuMillis = TimeUnit.NANOSECONDS.toMillis(os.getProcessCpuTime() - cpuBefore);
      ReportLine report = destination.awaitReport();
      MigrationCheck.completedAndVerified(stats, report.report());
      Map<String, Object> compression = stats.optimizations().get("multifd-compression");
      long uncompressed =
          compression == null
              ? stats.ram().transferred()
              : ((Number) compression.get("uncompressed-bytes")).longValue();
      return new Run(millis, stats.ram().transferred(), uncompressed, cpuMillis);
    }
  }
}
