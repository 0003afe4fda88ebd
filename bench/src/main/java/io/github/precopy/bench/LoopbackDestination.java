package io.github.precopy.bench;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.DestinationReport;
import io.github.precopy.core.transport.IncomingMigration;
import io.github.precopy.core.transport.TransportOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The destination process of {@link LoopbackThroughput}, which spawns it: receives {@code
 * --migrations} migrations in a row with {@link IncomingMigration}, each on a fresh port of
 * 127.0.0.1. It talks to the source's {@link DestinationProcess} in lines on its standard output:
 * {@code READY}, then per migration {@code PORT n} once listening and a {@link ReportLine} once it
 * replied, or {@code ERROR} if no source connected (exit status 1).
 */
@Command(
    name = "LoopbackDestination",
    sortOptions = false,
    description = "The destination process of LoopbackThroughput, which starts it.")
final class LoopbackDestination implements Callable<Integer> {

  /** What the preallocated memory holds before each migration: nothing the source sends. */
  private static final byte PREALLOC_PATTERN = 0x5A;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Print this help and exit.")
  private boolean help;

  @Option(
      names = "--memory",
      required = true,
      converter = MemorySize.class,
      paramLabel = "SIZE",
      description = "Guest RAM, as the source's.")
  private long memoryBytes;

  @Option(
      names = "--destination-memory",
      required = true,
      paramLabel = "prealloc|cold",
      description = "Memory allocated and written once, or a fresh mapping per migration.")
  private LoopbackCase.Memory kind;

  @Option(
      names = "--migrations",
      required = true,
      paramLabel = "N",
      description = "Migrations to receive, one after the other.")
  private int migrations;

  @Option(
      names = "--channels",
      defaultValue = "1",
      paramLabel = "N",
      description = "Channels per migration, as the source's (default: ${DEFAULT-VALUE}).")
  private int channels;

  @Option(
      names = "--io-timeout",
      defaultValue = "120s",
      converter = Durations.Timeout.class,
      paramLabel = "DURATION",
      description = "The transport's I/O timeout (default: ${DEFAULT-VALUE}).")
  private Duration ioTimeout;

  @Option(
      names = "--huge-pages",
      description =
          "Memory on transparent huge pages (GuestMemory.Builder.transparentHugePages, JDK 22+)"
              + " instead of /dev/shm.")
  private boolean hugePages;

  @Option(
      names = "--tls-dir",
      paramLabel = "DIR",
      description = "Mutual TLS with the destination's files of this TlsPair; plain TCP without.")
  private Path tlsDirectory;

  public static void main(String[] args) {
    Cli.exit(new LoopbackDestination(), args);
  }

  @Override
  public Integer call() throws IOException {
    TransportOptions transport =
        TransportOptions.builder()
            .channels(channels)
            .ioTimeout(ioTimeout)
            .tls(tlsDirectory == null ? null : new TlsPair(tlsDirectory).destination())
            .build();
    GuestMemory preallocated = null;
    try {
      if (kind == LoopbackCase.Memory.PREALLOC) {
        long start = System.nanoTime();
        preallocated = newMemory();
        preallocated.fill(0, memoryBytes, PREALLOC_PATTERN);
        say(
            "READY\tpreallocated %d MiB (every page written) in %d ms",
            memoryBytes >> 20, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
      } else {
        say("READY\tcold: a fresh, untouched mapping for each migration");
      }
      for (int i = 0; i < migrations; i++) {
        if (!receive(transport, preallocated)) {
          return 1;
        }
      }
      return 0;
    } finally {
      if (preallocated != null) {
        preallocated.close();
      }
    }
  }

  /** A fresh, zeroed memory of the guest's size: on {@code /dev/shm}, or on huge pages. */
  private GuestMemory newMemory() {
    GuestMemory.Builder builder = GuestMemory.builder();
    if (hugePages) {
      builder.transparentHugePages();
    }
    return builder.anonymousBlock("pc.ram", 0, memoryBytes).build();
  }

  /** Receives one migration into {@code preallocated} or a fresh mapping; false if none came. */
  private boolean receive(TransportOptions transport, GuestMemory preallocated) throws IOException {
    GuestMemory memory;
    if (preallocated != null) {
      memory = preallocated;
      memory.fill(0, memoryBytes, PREALLOC_PATTERN); // the previous migration's pages; not timed
    } else {
      memory = newMemory();
    }
    try (IncomingMigration incoming =
        IncomingMigration.listen(new InetSocketAddress("127.0.0.1", 0), transport)) {
      say("PORT %d", incoming.address().getPort());
      long start = System.nanoTime();
      DestinationReport report;
      try {
        report = incoming.receive(memory, notice -> System.err.println("destination: " + notice));
      } catch (IOException e) {
        say("ERROR\t%s", Cli.oneLine(e.toString()));
        return false;
      }
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      say("%s", new ReportLine(report, millis).format());
      return true;
    } finally {
      if (memory != preallocated) {
        memory.close();
      }
    }
  }

  private static void say(String format, Object... args) {
    System.out.println(String.format(Locale.ROOT, format, args));
    System.out.flush();
  }
}
