package io.github.precopy.bench;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.MigrationTarget;
import io.github.precopy.core.transport.TransportOptions;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

/**
 * Our side of one row of {@link QemuSideBySide}, through the engine's public API only: {@link
 * #prepare} (a destination process, warm-up migrations; not timed) once, then {@link #run} once per
 * round. The rate is the one QEMU's figure uses: guest RAM / the migration's {@code total-time}
 * ({@link MigrationStats#totalTimeMillis()}).
 */
abstract class OurSide implements AutoCloseable {

  private static final double GIB = 1024.0 * 1024 * 1024;

  /**
   * A 1 ms downtime limit, as {@link LoopbackThroughput}'s, so that the bulk round carries all but
   * the last few MiB; verification on (the destination checks the digest and replies).
   */
  static final MigrationConfig TCP_CONFIG =
      MigrationConfig.builder().downtimeLimit(Duration.ofMillis(1)).build();

  /**
   * As {@link #TCP_CONFIG} without the page digest: for a stream nobody reads (the null TCP sink, a
   * null output stream), since nothing checks it, and for {@code --no-verify}, as QEMU, which
   * checks nothing. Every frame is still checksummed, as the stream format requires.
   */
  static final MigrationConfig UNVERIFIED_CONFIG =
      MigrationConfig.builder().downtimeLimit(Duration.ofMillis(1)).verify(false).build();

  /**
   * One migration.
   *
   * @param gibps guest RAM / total-time, GiB/s
   * @param bulkGibps data bytes of the bulk round / its time (NaN for zero pages)
   * @param totalMillis total-time
   * @param detail what else the log line says
   */
  record Run(double gibps, double bulkGibps, long totalMillis, String detail) {}

  final MigrationEngine engine;
  final long memoryBytes;
  final int warmup;

  OurSide(MigrationEngine engine, long memoryBytes, int warmup) {
    this.engine = engine;
    this.memoryBytes = memoryBytes;
    this.warmup = warmup;
  }

  /** How our side runs, for the log. */
  abstract String command();

  /** Untimed: starts what the row needs and runs the warm-up migrations. */
  abstract void prepare() throws Exception;

  /** One measured migration. */
  abstract Run run() throws Exception;

  @Override
  public void close() throws Exception {}

  double gibps(long millis) {
    return memoryBytes / GIB / (Math.max(1, millis) / 1000.0);
  }

  /** The bulk round's rate from the source's rounds, NaN if there is none. */
  static double bulkGibps(MigrationStats stats) {
    List<MigrationStats.Round> rounds = stats.rounds();
    if (rounds.size() < 2) {
      return Double.NaN;
    }
    long millis = rounds.get(1).endMillis() - rounds.get(0).endMillis();
    return rounds.get(1).pagesSent()
        * (double) GuestMemory.PAGE_SIZE
        / GIB
        / (Math.max(1, millis) / 1000.0);
  }

  /**
   * The prealloc, cold and TLS rows: {@link LoopbackThroughput}'s machinery, a {@link
   * LoopbackDestination} process receiving the warm-ups and then one migration per round, and the
   * source guest of random data pages in this JVM.
   */
  static final class ToDestination extends OurSide {
    private final Guest guest;
    private final LoopbackCase loopbackCase;
    private final List<String> options;
    private final TransportOptions transport;
    private final int migrations;
    private final boolean verify;
    private DestinationProcess destination;
    private int done;

    ToDestination(
        SideBySideRow row,
        MigrationEngine engine,
        Guest guest,
        long memoryBytes,
        int warmup,
        int rounds,
        int channels,
        Duration ioTimeout,
        TlsPair tls,
        SSLContext sourceTls,
        boolean hugePages,
        boolean verify) {
      super(engine, memoryBytes, warmup);
      this.guest = guest;
      this.verify = verify;
      this.migrations = warmup + rounds;
      this.loopbackCase =
          new LoopbackCase(
              row == SideBySideRow.COLD ? LoopbackCase.Memory.COLD : LoopbackCase.Memory.PREALLOC,
              row == SideBySideRow.TLS ? LoopbackCase.Transport.TLS : LoopbackCase.Transport.PLAIN,
              channels);
      this.options =
          new ArrayList<>(
              List.of(
                  "--memory",
                  Long.toString(memoryBytes),
                  "--destination-memory",
                  loopbackCase.memory().toString(),
                  "--migrations",
                  Integer.toString(migrations),
                  "--channels",
                  Integer.toString(channels),
                  // The destination waits for each round's source while QEMU's run goes on,
                  // the lock waits included: its accept deadline is its I/O timeout.
                  "--io-timeout",
                  "3600s"));
      if (row == SideBySideRow.TLS) {
        options.addAll(List.of("--tls-dir", tls.directory().toString()));
      }
      if (hugePages) {
        options.add("--huge-pages");
      }
      this.transport =
          TransportOptions.builder()
              .channels(channels)
              .ioTimeout(ioTimeout)
              .tls(row == SideBySideRow.TLS ? sourceTls : null)
              .build();
    }

    @Override
    String command() {
      return "destination JVM: "
          + String.join(" ", DestinationProcess.command(options))
          + "; source (this JVM): MigrationEngine.start(idle guest of random data pages,"
          + " downtime limit 1 ms, verify "
          + (verify ? "on" : "off")
          + ", MigrationTarget.tcp(127.0.0.1, port, "
          + loopbackCase.channels()
          + " channel(s), "
          + loopbackCase.transport().label()
          + "))";
    }

    @Override
    void prepare() throws Exception {
      destination = DestinationProcess.start(options);
      System.out.println(
          "  our destination process " + destination.pid() + ": " + destination.awaitReady());
      for (int i = 0; i < warmup; i++) {
        Run run = run();
        System.out.printf(
            Locale.ROOT, "  our warm-up %d: %.2f GiB/s, %s%n", i + 1, run.gibps(), run.detail());
      }
    }

    @Override
    Run run() throws Exception {
      MigrationTarget target = MigrationTarget.tcp("127.0.0.1", destination.awaitPort(), transport);
      MigrationConfig config = verify ? TCP_CONFIG : UNVERIFIED_CONFIG;
      MigrationStats stats = engine.start(guest, config, target, s -> {}).await();
      guest.resume();
      ReportLine reply = destination.awaitReport();
      done++;
      LoopbackRun run = LoopbackRun.of(stats, reply.report(), guest.memory().totalPages(), verify);
      return new Run(
          gibps(run.totalMillis()),
          run.bulkGibps(),
          run.totalMillis(),
          String.format(
              Locale.ROOT,
              "bulk round %.2f GiB/s, setup %d ms, %d stream bytes, %s",
              run.bulkGibps(),
              stats.setupTimeMillis(),
              run.transferred(),
              verify ? "verified by the destination" : "every page applied, no digest"));
    }

    @Override
    public void close() throws Exception {
      if (destination == null) {
        return;
      }
      try {
        if (done == migrations) {
          destination.awaitExit();
        }
      } finally {
        destination.close();
      }
    }
  }

  /**
   * The null-sink row: the stream ({@link MigrationTarget#stream}, one plain-TCP channel written on
   * the migration thread, frames checksummed, no digest) to a socket whose other end is socat
   * discarding it, as the QEMU harness's {@code tcp-null} sink (same socat command). The socket is
   * connected before the migration starts, so connecting is not in our total-time (it is in QEMU's:
   * well under 1 ms on loopback).
   */
  static final class NullSink extends OurSide {
    private final Guest guest;

    NullSink(MigrationEngine engine, Guest guest, long memoryBytes, int warmup) {
      super(engine, memoryBytes, warmup);
      this.guest = guest;
    }

    private static List<String> socat(int port) {
      return List.of(
          "socat",
          "-u",
          "-b",
          "4194304",
          "TCP-LISTEN:" + port + ",bind=127.0.0.1,reuseaddr",
          "OPEN:/dev/null");
    }

    @Override
    String command() {
      return "sink: "
          + String.join(" ", socat(0)).replace(":0,", ":PORT,")
          + "; source (this JVM): MigrationEngine.start(idle guest of random data pages,"
          + " downtime limit 1 ms, verify off, MigrationTarget.stream(socket.getOutputStream()))";
    }

    @Override
    void prepare() throws Exception {
      for (int i = 0; i < warmup; i++) {
        Run run = run();
        System.out.printf(
            Locale.ROOT, "  our warm-up %d: %.2f GiB/s, %s%n", i + 1, run.gibps(), run.detail());
      }
    }

    @Override
    Run run() throws Exception {
      int port;
      try (ServerSocket probe = new ServerSocket(0)) {
        port = probe.getLocalPort();
      }
      Process sink =
          new ProcessBuilder(socat(port))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      try {
        Socket socket = connect(port, sink);
        MigrationStats stats =
            engine
                .start(
                    guest,
                    UNVERIFIED_CONFIG,
                    MigrationTarget.stream(socket.getOutputStream()),
                    s -> {})
                .await();
        guest.resume();
        socket.close();
        if (!sink.waitFor(30, TimeUnit.SECONDS)) {
          throw new BenchmarkFailure("socat did not exit after the stream ended");
        }
        expectSent(stats, "null-sink", guest.memory().totalPages(), 0);
        return new Run(
            gibps(stats.totalTimeMillis()),
            bulkGibps(stats),
            stats.totalTimeMillis(),
            String.format(
                Locale.ROOT,
                "bulk round %.2f GiB/s, setup %d ms, %d stream bytes, socat exit %d",
                bulkGibps(stats),
                stats.setupTimeMillis(),
                stats.ram().transferred(),
                sink.exitValue()));
      } finally {
        if (sink.isAlive()) {
          sink.destroyForcibly();
        }
      }
    }

    /** Connects to socat once it listens (the first connection it accepts is the stream). */
    private static Socket connect(int port, Process sink) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (true) {
        Socket socket = new Socket();
        try {
          socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
          return socket;
        } catch (ConnectException e) {
          socket.close();
          if (!sink.isAlive() || System.nanoTime() > deadline) {
            throw new BenchmarkFailure("socat did not listen on " + port + ": " + e.getMessage());
          }
          Thread.sleep(10);
        }
      }
    }
  }

  /**
   * The zero rows: a fresh guest per migration, every page written with zeros (resident, so the
   * scan reads and checks every page) or never touched, migrated in this process to {@link
   * OutputStream#nullOutputStream()} ({@link MigrationTarget#stream}, no digest).
   */
  static final class Zero extends OurSide {
    private final boolean resident;

    Zero(MigrationEngine engine, boolean resident, long memoryBytes, int warmup) {
      super(engine, memoryBytes, warmup);
      this.resident = resident;
    }

    @Override
    String command() {
      return "in this JVM: a fresh GuestMemory.anonymous(size)"
          + (resident ? " filled with zeros (fill(0, size, 0), not timed)" : ", never written")
          + " per migration; MigrationEngine.start(idle guest, downtime limit 1 ms, verify off,"
          + " MigrationTarget.stream(OutputStream.nullOutputStream()))";
    }

    @Override
    void prepare() throws Exception {
      for (int i = 0; i < warmup; i++) {
        Run run = run();
        System.out.printf(
            Locale.ROOT, "  our warm-up %d: %.2f GiB/s, %s%n", i + 1, run.gibps(), run.detail());
      }
    }

    @Override
    Run run() throws Exception {
      try (GuestMemory memory = GuestMemory.anonymous(memoryBytes)) {
        if (resident) {
          memory.fill(0, memoryBytes, (byte) 0);
        }
        IdleGuest guest = new IdleGuest(memory);
        long start = System.nanoTime();
        MigrationStats stats =
            engine
                .start(
                    guest,
                    UNVERIFIED_CONFIG,
                    MigrationTarget.stream(OutputStream.nullOutputStream()),
                    s -> {})
                .await();
        long wallMicros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start);
        expectSent(stats, "zero-page", 0, memory.totalPages());
        return new Run(
            gibps(stats.totalTimeMillis()),
            Double.NaN,
            stats.totalTimeMillis(),
            String.format(
                Locale.ROOT,
                "%d zero pages, %d stream bytes, wall %.1f ms (start to await)",
                stats.ram().duplicate(),
                stats.ram().transferred(),
                wallMicros / 1000.0));
      }
    }
  }

  /**
   * Fails unless the migration completed having sent exactly {@code data} data pages and {@code
   * zero} zero pages: what a migration to a sink that reads nothing back can be checked by.
   */
  static void expectSent(MigrationStats stats, String what, long data, long zero)
      throws BenchmarkFailure {
    if (stats.status() != MigrationStatus.COMPLETED
        || stats.ram().normal() != data
        || stats.ram().duplicate() != zero) {
      throw new BenchmarkFailure(
          what
              + " migration: status "
              + stats.status()
              + " ("
              + stats.errorDescription()
              + "), "
              + stats.ram().normal()
              + " data and "
              + stats.ram().duplicate()
              + " zero pages sent, expected "
              + data
              + " data and "
              + zero
              + " zero pages");
    }
  }
}
