package io.github.precopy.examples.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.DestinationReport;
import io.github.precopy.core.transport.IncomingMigration;
import io.github.precopy.core.transport.TransportOptions;
import io.github.precopy.examples.cli.Choices.Output;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
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
          + " digest."
    })
final class IncomingCommand implements Callable<Integer> {

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

  @Option(
      names = "--memory",
      defaultValue = "2g",
      converter = Sizes.Converter.class,
      paramLabel = "SIZE",
      description = "Guest RAM, the same as the source's --memory (default: 2g).")
  private long memory;

  @Option(
      names = "--channels",
      defaultValue = "1",
      paramLabel = "N",
      description = "TCP connections to accept, 1 to 64; the same as the source's (default: 1).")
  private int channels;

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
    validate();
    long start = System.nanoTime();
    DestinationReport report;
    String source;
    try (GuestMemory destination = GuestMemory.anonymous(memory)) {
      if (fromFile != null) {
        source = fromFile.toString();
        report = IncomingMigration.restore(fromFile, destination);
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
          PrintWriter err = spec.commandLine().getErr();
          err.println(
              "listening on "
                  + new HostPort(address.host(), incoming.address().getPort())
                  + (options.tls() == null ? "" : " (mutual TLS)"));
          err.flush();
          report =
              incoming.receive(
                  destination,
                  notice -> {
                    err.println(spec.qualifiedName() + ": " + notice);
                    err.flush();
                  });
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
    return print(report, source, millis);
  }

  private void validate() {
    require(
        fromFile == null || (listen == null && channels == 1 && !tls.enabled()),
        "--from-file restores a snapshot; leave out --listen, --channels and the TLS options");
    require(
        fromFile == null || Files.isRegularFile(fromFile),
        "--from-file " + fromFile + ": no such file");
    Flag.check(spec, "--channels", () -> TransportOptions.builder().channels(channels));
    try {
      MemoryBudget.check("--memory", memory, 1);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
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

  private int print(DestinationReport report, String source, long millis) {
    String problem = problem(report);
    PrintWriter out = spec.commandLine().getOut();
    if (output == Output.JSON) {
      out.println(StatsJson.write(json(report, source, millis, problem)));
    } else {
      out.print(text(report, source, millis, problem));
    }
    out.flush();
    if (problem != null) {
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

  private ObjectNode json(DestinationReport report, String source, long millis, String problem) {
    ObjectNode node = StatsJson.mapper().createObjectNode();
    node.put("status", report.completed() ? "completed" : "failed");
    node.put("total-time", millis);
    ObjectNode ram = node.putObject("ram");
    ram.put("transferred", report.bytesRead());
    ram.put("total", memory);
    ram.put("duplicate", report.zeroPages());
    ram.put("normal", report.normalPages());
    ram.put("normal-bytes", report.normalPages() * GuestMemory.PAGE_SIZE);
    ObjectNode verification = node.putObject("verification");
    verification.put("pages-checked", report.pagesVerified());
    verification.put("mismatches", report.mismatches());
    node.put("verified", report.verified());
    node.put("source", source);
    node.put("error-desc", problem);
    return node;
  }

  private String text(DestinationReport report, String source, long millis, String problem) {
    StringBuilder text = new StringBuilder();
    String separator = System.lineSeparator();
    text.append("incoming: ").append(Sizes.format(memory)).append(" from ").append(source);
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
