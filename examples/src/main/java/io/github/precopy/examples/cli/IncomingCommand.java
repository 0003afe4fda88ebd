package io.github.precopy.examples.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.precopy.core.GuestMemory;
import io.github.precopy.core.stream.Destination;
import io.github.precopy.core.stream.DestinationReport;
import io.github.precopy.examples.cli.Choices.Output;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code precopy incoming}: the destination of {@code migrate --transport tcp}. Listens on one
 * address, accepts one connection, loads the stream into a fresh guest memory, reports and exits.
 * Plain TCP, one connection, no TLS.
 */
@Command(
    name = "incoming",
    sortOptions = false,
    mixinStandardHelpOptions = true,
    versionProvider = Precopy.Version.class,
    description = {
      "Waits for one 'precopy migrate --transport tcp --to HOST:PORT' and receives its guest's"
          + " memory over plain TCP (no TLS: keep it on loopback or a trusted network).",
      "Prints 'listening on HOST:PORT' on stderr once ready. Exit code 0 only for a completed"
          + " stream."
    })
final class IncomingCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Option(
      names = "--listen",
      defaultValue = "127.0.0.1:4444",
      converter = HostPort.Converter.class,
      paramLabel = "HOST:PORT",
      description = "Address to listen on; port 0 picks a free one (default: 127.0.0.1:4444).")
  private HostPort listen;

  @Option(
      names = "--memory",
      defaultValue = "2g",
      converter = Sizes.Converter.class,
      paramLabel = "SIZE",
      description = "Guest RAM, the same as the source's --memory (default: 2g).")
  private long memory;

  @Option(
      names = "--timeout",
      defaultValue = "60s",
      converter = Durations.Converter.class,
      paramLabel = "DURATION",
      description = "How long to wait for the source to connect, and for each read (default: 60s).")
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
    try {
      MemoryBudget.check("--memory", memory, 1);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    InetAddress address;
    try {
      address = InetAddress.getByName(listen.host());
    } catch (UnknownHostException e) {
      throw new ParameterException(
          spec.commandLine(), "--listen " + listen + ": unknown host " + listen.host());
    }
    try (Socket socket = acceptOne(address);
        GuestMemory destination = GuestMemory.anonymous(memory)) {
      socket.setSoTimeout((int) timeout.toMillis());
      return receive(socket, destination);
    }
  }

  /** Listens, announces the address on stderr, accepts one connection and stops listening. */
  private Socket acceptOne(InetAddress address) throws IOException {
    try (ServerSocket server = new ServerSocket()) {
      try {
        server.bind(new InetSocketAddress(address, listen.port()), 1);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot listen on " + listen + ": " + e.getMessage(), e);
      }
      HostPort bound = new HostPort(listen.host(), server.getLocalPort());
      PrintWriter err = spec.commandLine().getErr();
      err.println("listening on " + bound);
      err.flush();
      server.setSoTimeout((int) timeout.toMillis());
      try {
        return server.accept();
      } catch (SocketTimeoutException e) {
        throw new UncheckedIOException(
            "no source connected to " + bound + " within " + Durations.describe(timeout), e);
      }
    }
  }

  private int receive(Socket socket, GuestMemory memory) throws IOException {
    String source = socket.getRemoteSocketAddress().toString().replaceFirst("^[^/]*/", "");
    Destination destination = new Destination(memory);
    long start = System.nanoTime();
    String failure = null;
    DestinationReport report;
    try {
      report = destination.receive(socket.getInputStream());
    } catch (SocketTimeoutException e) {
      report = destination.report().orElseThrow();
      failure = "the source sent nothing for " + Durations.describe(timeout);
    } catch (IOException e) {
      report = destination.report().orElseThrow();
      failure = report.failure();
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    PrintWriter out = spec.commandLine().getOut();
    if (output == Output.JSON) {
      out.println(StatsJson.write(json(report, source, millis, failure)));
    } else {
      out.print(text(report, source, millis, failure));
    }
    out.flush();
    if (failure != null) {
      PrintWriter err = spec.commandLine().getErr();
      err.println(spec.qualifiedName() + ": stream from " + source + " failed: " + failure);
      err.flush();
      return ExitCode.SOFTWARE;
    }
    return ExitCode.OK;
  }

  private ObjectNode json(DestinationReport report, String source, long millis, String failure) {
    ObjectNode node = StatsJson.mapper().createObjectNode();
    node.put("status", failure == null ? "completed" : "failed");
    node.put("total-time", millis);
    ObjectNode ram = node.putObject("ram");
    ram.put("transferred", report.bytesRead());
    ram.put("total", memory);
    ram.put("duplicate", report.zeroPages());
    ram.put("normal", report.normalPages());
    ram.put("normal-bytes", report.normalPages() * GuestMemory.PAGE_SIZE);
    node.put("source", source);
    node.put("error-desc", failure);
    return node;
  }

  private String text(DestinationReport report, String source, long millis, String failure) {
    StringBuilder text = new StringBuilder();
    String separator = System.lineSeparator();
    text.append("incoming: ").append(Sizes.format(memory)).append(" from ").append(source);
    text.append(separator);
    text.append("status       ").append(failure == null ? "completed" : "failed").append(separator);
    text.append("connected    ").append(String.format(Locale.ROOT, "%,d ms", millis));
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
    if (failure != null) {
      text.append("error        ").append(failure).append(separator);
    }
    return text.toString();
  }
}
