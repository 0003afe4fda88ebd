package io.github.precopy.examples.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.DestinationReport;
import io.github.precopy.core.transport.IncomingMigration;
import io.github.precopy.core.transport.RamLayout;
import io.github.precopy.core.transport.TransportOptions;
import io.github.precopy.examples.cli.Choices.Output;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code precopy incoming}: the destination of {@code migrate --transport tcp} (plain or mutual
 * TLS, one or more channels), or the restore of a snapshot written by {@code --transport file}.
 * Loads the stream into a fresh guest memory, checks the digest of the pages in use, reports and
 * exits: 0 only for a complete, verified migration.
 */
@Command(
    name = "incoming",
    sortOptions = false,
    mixinStandardHelpOptions = true,
    versionProvider = Precopy.Version.class,
    description = {
      "Waits for one 'precopy migrate --transport tcp --to HOST:PORT' and receives its guest's"
          + " memory, or restores a snapshot with --from-file.",
      "Prints 'listening on HOST:PORT' on stderr once ready. Without TLS options the connection"
          + " is plain TCP: keep it on loopback or a trusted network.",
      "Exit code 0 only for a complete migration whose pages in use all match the source's"
          + " digest. SIGINT (Ctrl-C) or SIGTERM stops it, says what was interrupted and exits"
          + " with 130 or 143."
    })
final class IncomingCommand implements Callable<Integer> {

  /**
   * The source's {@code ram} figures that a destination cannot measure: the syncs and the dirty
   * rate happen at the source, the stream does not say which bytes were sent during downtime, and
   * the source's rates are over its last 100 ms window. The JSON carries them as null, so that both
   * ends have the same {@code ram} fields; {@code remaining} is 0 once a stream completed, null if
   * it failed.
   */
  static final List<String> SOURCE_ONLY_RAM_FIELDS =
      List.of(
          "dirty-sync-count",
          "dirty-pages-rate",
          "mbps",
          "pages-per-second",
          "precopy-bytes",
          "downtime-bytes");

  @Spec private CommandSpec spec;

  @Option(
      names = "--listen",
      converter = HostPort.Converter.class,
      paramLabel = "HOST:PORT",
      description = "Address to listen on; port 0 picks a free one (default: 127.0.0.1:4444).")
  private HostPort listen;

  @Option(
      names = "--from-file",
      paramLabel = "FILE",
      description = "Restore and verify this snapshot instead of listening.")
  private Path fromFile;

  /** Without --memory and --from-file. */
  private static final long DEFAULT_MEMORY = 2L << 30;

  @Option(
      names = "--memory",
      converter = Sizes.Converter.class,
      paramLabel = "SIZE",
      description =
          "Guest RAM, the same as the source's --memory (default: 2g; with --from-file: the"
              + " snapshot's, from its header).")
  private Long memory;

  @Option(
      names = "--channels",
      defaultValue = "1",
      paramLabel = "N",
      description = "TCP connections to accept, 1 to 64; the same as the source's (default: 1).")
  private int channels;

  @Option(
      names = "--prealloc",
      description =
          "Allocate the memory before the first byte arrives, touching every page on one thread"
              + " per core, as QEMU's -mem-prealloc (default: allocated as pages arrive).")
  private boolean prealloc;

  @Option(
      names = "--huge-pages",
      description =
          "Back the memory with transparent huge pages (private anonymous memory advised"
              + " MADV_HUGEPAGE, as QEMU's memory-backend-ram) instead of /dev/shm; needs JDK 22+"
              + " and Linux transparent huge pages.")
  private boolean hugePages;

  @Mixin private TlsOptions tls;

  @Option(
      names = "--timeout",
      defaultValue = "60s",
      converter = Durations.Converter.class,
      paramLabel = "DURATION",
      description =
          "How long to wait for the source to connect, for each read and for each frame to"
              + " arrive whole; each connection's handshake gets at most 10s (default: 60s).")
  private Duration timeout;

  @Option(
      names = "--output",
      defaultValue = "text",
      converter = Choices.OutputConverter.class,
      paramLabel = "text|json",
      description = "Result format (default: text).")
  private Output output;

  @Override
  public Integer call() throws IOException {
    PrintWriter err = spec.commandLine().getErr();
    try (Interruption interruption = Interruption.install(spec.qualifiedName(), err)) {
      validate();
      long start = System.nanoTime();
      DestinationReport report;
      String source;
      String interrupted;
      long memoryBytes;
      try (GuestMemory destination = destinationMemory()) {
        memoryBytes = destination.totalBytes();
        if (fromFile != null) {
          source = fromFile.toString();
          interrupted = "while restoring " + source;
          try (InputStream in = Files.newInputStream(fromFile)) {
            if (!interruption.whileRunning("restoring " + source, () -> closeQuietly(in))) {
              return interrupted(interruption, "before restoring " + source);
            }
            report = IncomingMigration.restore(in, destination);
          } finally {
            interruption.idle();
          }
        } else {
          TransportOptions options =
              TransportOptions.builder()
                  .channels(channels)
                  .ioTimeout(timeout)
                  .tls(tls.context(spec))
                  .build();
          HostPort address = listen == null ? new HostPort("127.0.0.1", 4444) : listen;
          try (IncomingMigration incoming =
              IncomingMigration.listen(socketAddress(address), options)) {
            source = new HostPort(address.host(), incoming.address().getPort()).toString();
            err.println("listening on " + source + (options.tls() == null ? "" : " (mutual TLS)"));
            err.flush();
            if (!interruption.whileRunning(
                "waiting for a source on " + source, () -> closeQuietly(incoming))) {
              return interrupted(interruption, "while waiting for a source on " + source);
            }
            try {
              report =
                  incoming.receive(
                      destination,
                      notice -> {
                        err.println(spec.qualifiedName() + ": " + notice);
                        err.flush();
                      });
            } catch (IOException e) {
              if (interruption.signalled()) {
                return interrupted(interruption, "while waiting for a source on " + source);
              }
              throw e;
            } finally {
              interruption.idle();
            }
            interrupted = "while receiving from a source on " + source;
            source =
                incoming
                    .source()
                    .map(peer -> new HostPort(peer.getAddress().getHostAddress(), peer.getPort()))
                    .map(HostPort::toString)
                    .orElse("an unknown source");
          }
        }
      }
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      if (interruption.signalled() && !report.completed()) {
        String what =
            String.format(
                Locale.ROOT,
                "interrupted by a signal %s, %,d bytes %s",
                interrupted,
                report.bytesRead(),
                fromFile == null ? "received" : "read");
        print(report, source, memoryBytes, millis, what);
        err.println(spec.qualifiedName() + ": " + what);
        err.flush();
        interruption.reported();
        return Interruption.EXIT_CODE;
      }
      int exitCode = print(report, source, memoryBytes, millis, null);
      interruption.reported();
      return exitCode;
    }
  }

  /** After a signal, with nothing received: one line saying what was interrupted. */
  private int interrupted(Interruption interruption, String what) {
    PrintWriter err = spec.commandLine().getErr();
    err.println(spec.qualifiedName() + ": interrupted by a signal " + what);
    err.flush();
    interruption.reported();
    return Interruption.EXIT_CODE;
  }

  private static void closeQuietly(Closeable closeable) {
    try {
      closeable.close();
    } catch (IOException ignored) {
      // Closing only stops what runs; its failure is reported by what ran.
    }
  }

  /**
   * A fresh memory of {@code --memory}, or without it of the snapshot's layout (read from its
   * header), or of the default size.
   */
  private GuestMemory destinationMemory() throws IOException {
    GuestMemory.Builder builder = GuestMemory.builder();
    if (hugePages) {
      builder.transparentHugePages();
    }
    GuestMemory fresh;
    if (memory != null || fromFile == null) {
      fresh = builder.anonymousBlock("pc.ram", 0, memory == null ? DEFAULT_MEMORY : memory).build();
    } else {
      RamLayout layout = IncomingMigration.layoutOf(fromFile);
      MemoryBudget.check("--from-file " + fromFile + ": its memory", layout.totalBytes(), 1);
      fresh = layout.newMemory(builder);
    }
    return prealloc ? fresh.preallocate() : fresh;
  }

  private void validate() {
    if (hugePages) {
      Optional<String> problem = GuestMemory.Builder.transparentHugePagesUnavailableReason();
      require(problem.isEmpty(), "--huge-pages: " + problem.orElse(""));
    }
    require(
        fromFile == null || (listen == null && channels == 1 && !tls.enabled()),
        "--from-file restores a snapshot; leave out --listen, --channels and the TLS options");
    require(
        fromFile == null || Files.isRegularFile(fromFile),
        "--from-file " + fromFile + ": no such file");
    Flag.check(spec, "--channels", () -> TransportOptions.builder().channels(channels));
    if (memory != null || fromFile == null) {
      try {
        MemoryBudget.check("--memory", memory == null ? DEFAULT_MEMORY : memory, 1);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage(), e);
      }
    }
  }

  private InetSocketAddress socketAddress(HostPort address) {
    try {
      return new InetSocketAddress(InetAddress.getByName(address.host()), address.port());
    } catch (UnknownHostException e) {
      throw new ParameterException(
          spec.commandLine(), "--listen " + address + ": unknown host " + address.host());
    }
  }

  private void require(boolean valid, String message) {
    if (!valid) {
      throw new ParameterException(spec.commandLine(), message);
    }
  }

  /**
   * Prints the report and returns the exit code; {@code interruption}, if not null, is the problem
   * to report instead of the stream's, and no line goes to stderr.
   */
  private int print(
      DestinationReport report, String source, long memoryBytes, long millis, String interruption) {
    String problem = interruption != null ? interruption : problem(report);
    PrintWriter out = spec.commandLine().getOut();
    if (output == Output.JSON) {
      out.println(StatsJson.write(json(report, source, memoryBytes, millis, problem)));
    } else {
      out.print(text(report, source, memoryBytes, millis, problem));
    }
    out.flush();
    if (problem != null && interruption == null) {
      PrintWriter err = spec.commandLine().getErr();
      err.println(spec.qualifiedName() + ": stream from " + source + " " + problem);
      err.flush();
      return ExitCode.SOFTWARE;
    }
    return ExitCode.OK;
  }

  /** Why the migration is not complete and verified, or null. */
  private static String problem(DestinationReport report) {
    if (!report.completed()) {
      return "failed: " + report.failure();
    }
    if (report.pagesVerified() == 0) {
      return "completed but carried no digest, so it cannot be verified";
    }
    if (report.mismatches() > 0) {
      return String.format(
          Locale.ROOT,
          "completed but %,d of %,d pages differ from the source (first: %s)",
          report.mismatches(),
          report.pagesVerified(),
          report.failure());
    }
    return null;
  }

  private ObjectNode json(
      DestinationReport report, String source, long memoryBytes, long millis, String problem) {
    ObjectNode node = StatsJson.mapper().createObjectNode();
    node.put("status", report.completed() ? "completed" : "failed");
    node.put("total-time", millis);
    ObjectNode ram = node.putObject("ram");
    ram.put("transferred", report.bytesRead());
    if (report.completed()) {
      ram.put("remaining", 0L);
    } else {
      ram.putNull("remaining");
    }
    ram.put("total", memoryBytes);
    ram.put("duplicate", report.zeroPages());
    ram.put("normal", report.normalPages());
    ram.put("normal-bytes", report.normalPages() * GuestMemory.PAGE_SIZE);
    for (String sourceOnly : SOURCE_ONLY_RAM_FIELDS) {
      ram.putNull(sourceOnly);
    }
    // Pages a plugin's page codec encoded (e.g. xbzrle's deltas): no QEMU name, and not in ram,
    // whose fields are the source's.
    node.put("encoded-pages", report.encodedPages());
    ObjectNode verification = node.putObject("verification");
    verification.put("pages-checked", report.pagesVerified());
    verification.put("mismatches", report.mismatches());
    node.put("verified", report.verified());
    node.put("source", source);
    if (problem != null) {
      node.put("error-desc", problem);
    }
    return node;
  }

  private String text(
      DestinationReport report, String source, long memoryBytes, long millis, String problem) {
    StringBuilder text = new StringBuilder();
    String separator = System.lineSeparator();
    text.append("incoming: ").append(Sizes.format(memoryBytes)).append(" from ").append(source);
    text.append(separator);
    text.append("status       ")
        .append(
            !report.completed()
                ? "failed"
                : report.verified() ? "completed, verified" : "completed, not verified")
        .append(separator);
    text.append("time         ").append(String.format(Locale.ROOT, "%,d ms", millis));
    text.append(separator);
    text.append("received     ")
        .append(Sizes.format(report.bytesRead()))
        .append(String.format(Locale.ROOT, " (%,d bytes)", report.bytesRead()))
        .append(separator);
    text.append("pages        ")
        .append(
            String.format(
                Locale.ROOT, "normal %,d, zero %,d", report.normalPages(), report.zeroPages()))
        .append(
            report.encodedPages() == 0
                ? ""
                : String.format(Locale.ROOT, ", encoded %,d", report.encodedPages()))
        .append(separator);
    text.append("verification ")
        .append(
            String.format(
                Locale.ROOT,
                "%,d pages checked, %,d mismatches",
                report.pagesVerified(),
                report.mismatches()))
        .append(separator);
    if (problem != null) {
      text.append("error        ").append(problem).append(separator);
    }
    return text.toString();
  }
}
