package io.github.precopy.bench;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.MigrationTarget;
import io.github.precopy.core.transport.TransportOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Migration throughput between two JVMs over loopback (issue #6): the source guest in this JVM, the
 * destination a {@link LoopbackDestination} in a JVM of its own ({@link DestinationProcess}), one
 * per case, receiving {@code --warmup} + {@code --repeat} migrations in a row.
 *
 * <p>The source is an {@link IdleGuest} whose every page holds seeded random bytes, so every page
 * is a data page (PAGE record, never ZERO). The destination's memory is preallocated (allocated and
 * written once, then refilled with another pattern before each migration, untimed, so that a page
 * that did not arrive fails verification) or cold (a fresh, never touched mapping per migration).
 * Each case runs over plain TCP or mutual TLS 1.3 (a throwaway {@link TlsPair}) and over 1, 2 or 4
 * channels.
 *
 * <p>Per migration, from the source's {@link MigrationStats#rounds()}: <b>bulk rate</b> = data
 * bytes sent in the bulk round / the round's time, from the setup sync (after connections, TLS
 * handshakes and stream headers) to the sync that ends the round, once the channels' writer threads
 * have handed every frame to the kernel. The downtime limit is 1 ms so that this round carries all
 * but the last few MiB. Bytes still in socket buffers count as sent, so this rate can be
 * optimistic, more so with more channels. <b>Whole rate</b> = all data bytes / {@code total-time},
 * which adds connecting, TLS handshakes, the digest, the destination's verification and its reply:
 * pessimistic. A migration that did not complete, or was not verified with every page checked, or
 * whose destination did not read every byte sent, fails the run (exit status 1).
 *
 * <p>A null-sink destination (read and discard, no decoding) is not offered: a source's TCP
 * connection needs the destination's greeting, which only {@link
 * io.github.precopy.core.transport.IncomingMigration} gives, and it decodes everything.
 */
@Command(
    name = "LoopbackThroughput",
    sortOptions = false,
    description = {
      "Migrates a guest of random data pages to a destination JVM over loopback, for each case"
          + " (destination memory × transport × channels), and prints the rates beside QEMU 7.2's."
    },
    footer = {
      "Example:",
      "  java -cp bench/target/benchmarks.jar \\",
      "      io.github.precopy.bench.LoopbackThroughput \\",
      "      --memory 1g --repeat 5 --warmup 1"
    })
public final class LoopbackThroughput implements Callable<Integer> {

  /** A 1 ms downtime limit, so that the bulk round carries all but the last few MiB. */
  private static final MigrationConfig CONFIG =
      MigrationConfig.builder().downtimeLimit(Duration.ofMillis(1)).build();

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
      description = "Guest RAM, e.g. 512m or 1.5g (default: ${DEFAULT-VALUE}).")
  private long memoryBytes;

  @Option(
      names = "--repeat",
      defaultValue = "5",
      paramLabel = "N",
      description = "Measured migrations per case (default: ${DEFAULT-VALUE}).")
  private int repeat;

  @Option(
      names = "--warmup",
      defaultValue = "1",
      paramLabel = "N",
      description = "Migrations per case before those, not counted (default: ${DEFAULT-VALUE}).")
  private int warmup;

  @Option(
      names = "--channels",
      split = ",",
      defaultValue = "1,2,4",
      paramLabel = "N",
      description = "Channel counts, 1 to 64 (default: ${DEFAULT-VALUE}).")
  private List<Integer> channelCounts;

  @Option(
      names = "--transports",
      split = ",",
      defaultValue = "plain,tls",
      paramLabel = "plain|tls",
      description = "Plain TCP, mutual TLS 1.3 (default: ${DEFAULT-VALUE}).")
  private List<LoopbackCase.Transport> transports;

  @Option(
      names = "--destinations",
      split = ",",
      defaultValue = "prealloc,cold",
      paramLabel = "prealloc|cold",
      description = "Destination memory (default: ${DEFAULT-VALUE}).")
  private List<LoopbackCase.Memory> destinations;

  @Option(
      names = "--io-timeout",
      defaultValue = "120s",
      converter = Durations.Timeout.class,
      paramLabel = "DURATION",
      description = "The transport's I/O timeout at both ends (default: ${DEFAULT-VALUE}).")
  private Duration ioTimeout;

  @Option(
      names = "--seed",
      defaultValue = "1",
      paramLabel = "N",
      description = "Seed of the guest's random bytes (default: ${DEFAULT-VALUE}).")
  private long seed;

  @Spec private CommandSpec spec;

  public static void main(String[] args) {
    Cli.exit(new LoopbackThroughput(), args);
  }

  @Override
  public Integer call() throws Exception {
    check(repeat >= 1, "--repeat must be at least 1");
    check(warmup >= 0, "--warmup must be at least 0");
    for (int channels : channelCounts) {
      check(
          channels >= 1 && channels <= TransportOptions.MAX_CHANNELS,
          "--channels takes 1 to " + TransportOptions.MAX_CHANNELS + ", got " + channels);
    }
    System.out.printf(
        Locale.ROOT,
        "# loopback migration throughput: %d MiB guest, %d warm-up + %d measured migrations per"
            + " case, seed %d%n",
        memoryBytes >> 20,
        warmup,
        repeat,
        seed);
    MachineInfo.print();
    Map<LoopbackCase, List<LoopbackRun>> results = new LinkedHashMap<>();
    try (TlsPair tls = transports.contains(LoopbackCase.Transport.TLS) ? TlsPair.create() : null;
        GuestMemory memory = randomMemory()) {
      SSLContext sourceTls = null;
      if (tls != null) {
        System.out.println(
            "# TLS: throwaway EC P-256 self-signed pair made with keytool in " + tls.directory());
        sourceTls = tls.source();
      }
      Guest guest = new IdleGuest(memory);
      MigrationEngine engine = MigrationEngine.create();
      for (LoopbackCase.Memory destination : destinations) {
        for (LoopbackCase.Transport transport : transports) {
          for (int channels : channelCounts) {
            LoopbackCase c = new LoopbackCase(destination, transport, channels);
            try {
              results.put(c, runCase(c, guest, engine, tls, sourceTls));
            } catch (BenchmarkFailure e) {
              System.out.println();
              System.out.println("FAILED: " + c.label() + ": " + e.getMessage());
              LoopbackTable.print(results, memoryBytes, repeat);
              return 1;
            }
          }
        }
      }
    }
    LoopbackTable.print(results, memoryBytes, repeat);
    System.out.printf(Locale.ROOT, "# load average at end: %s%n", MachineInfo.loadAverage());
    return 0;
  }

  private void check(boolean valid, String message) {
    if (!valid) {
      throw new ParameterException(spec.commandLine(), message);
    }
  }

  /** Runs one case against a destination process of its own. */
  private List<LoopbackRun> runCase(
      LoopbackCase c, Guest guest, MigrationEngine engine, TlsPair tls, SSLContext sourceTls)
      throws Exception {
    List<String> options =
        new ArrayList<>(
            List.of(
                "--memory",
                Long.toString(memoryBytes),
                "--destination-memory",
                c.memory().toString(),
                "--migrations",
                Integer.toString(warmup + repeat),
                "--channels",
                Integer.toString(c.channels()),
                "--io-timeout",
                ioTimeout.toMillis() + "ms"));
    boolean useTls = c.transport() == LoopbackCase.Transport.TLS;
    if (useTls) {
      options.addAll(List.of("--tls-dir", tls.directory().toString()));
    }
    TransportOptions transport =
        TransportOptions.builder()
            .channels(c.channels())
            .ioTimeout(ioTimeout)
            .tls(useTls ? sourceTls : null)
            .build();
    long totalPages = guest.memory().totalPages();
    System.out.printf(Locale.ROOT, "%n## %s%n", c.label());
    System.out.flush();
    List<LoopbackRun> runs = new ArrayList<>();
    try (DestinationProcess destination = DestinationProcess.start(options)) {
      System.out.println(
          "  destination process " + destination.pid() + ": " + destination.awaitReady());
      for (int i = 0; i < warmup + repeat; i++) {
        MigrationTarget target =
            MigrationTarget.tcp("127.0.0.1", destination.awaitPort(), transport);
        MigrationStats stats = engine.start(guest, CONFIG, target, s -> {}).await();
        ReportLine reply = destination.awaitReport();
        LoopbackRun run = LoopbackRun.of(stats, reply.report(), totalPages, true);
        boolean counted = i >= warmup;
        if (counted) {
          runs.add(run);
        }
        System.out.printf(
            Locale.ROOT,
            "  %-7s %d: bulk %.3f GiB/s (%d pages = %.1f %% in %d ms), whole %.3f GiB/s"
                + " (total %d ms, %d stream bytes), destination: %s%n",
            counted ? "run" : "warm-up",
            counted ? i - warmup + 1 : i + 1,
            run.bulkGibps(),
            run.bulkPages(),
            100.0 * run.bulkPages() / totalPages,
            run.bulkMillis(),
            run.wholeGibps(),
            run.totalMillis(),
            run.transferred(),
            reply);
        System.out.flush();
      }
      destination.awaitExit();
    }
    return runs;
  }

  /** Memory whose every page holds seeded random, never all-zero bytes. */
  private GuestMemory randomMemory() {
    long start = System.nanoTime();
    GuestMemory memory = IdleGuest.randomData(memoryBytes, seed);
    System.out.printf(
        Locale.ROOT,
        "# source guest: %d pages of random bytes written in %d ms%n",
        memory.totalPages(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    System.out.flush();
    return memory;
  }
}
