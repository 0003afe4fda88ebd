package io.github.precopy.bench;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.PrecopyMigration;
import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.DestinationReport;
import io.github.precopy.core.transport.IncomingMigration;
import io.github.precopy.core.transport.MigrationTarget;
import io.github.precopy.core.transport.Tls;
import io.github.precopy.core.transport.TransportOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * Migration throughput between two JVMs over loopback (issue #6): the source guest in this JVM, the
 * destination in a separate JVM process that this one spawns ({@code java -cp <the same class path>
 * io.github.precopy.bench.LoopbackThroughput --role destination ...}), which tells its port on its
 * standard output.
 *
 * <p>The source is a guest that nothing runs (pause and resume do nothing) over a {@link
 * GuestMemory} whose every page holds seeded random bytes, so every page is a data page (PAGE
 * record, never ZERO). Each case is one destination process that receives {@code --warmup} + {@code
 * --repeat} migrations in a row, one at a time, each on a fresh port:
 *
 * <ul>
 *   <li>{@code prealloc}: the destination memory is allocated once and every page written once
 *       before the first migration (as QEMU's {@code -mem-prealloc} pre-faults it), then filled
 *       with a pattern unlike the source's before each migration (not timed), so that a page that
 *       did not arrive fails verification;
 *   <li>{@code cold}: each migration goes into a fresh {@link GuestMemory#anonymous} mapping that
 *       was never touched, so the first-touch page faults are part of the transfer;
 *   <li>{@code null}: a null sink that answers the precopy HELLO with the GREETING on each
 *       connection, reads and discards every byte until the source half-closes, and replies a
 *       completed {@link DestinationReport} carrying the byte count but no verification (it decodes
 *       nothing). Its runs are checked by byte count instead: the sink must have read exactly the
 *       stream bytes the source reports ({@code ram.transferred}).
 * </ul>
 *
 * <p>Each case runs over plain TCP or mutual TLS 1.3 and over 1, 2 or 4 channels. For TLS, a
 * throwaway pair of self-signed EC P-256 certificates (source and destination, each trusting the
 * other) is made at start with the JDK's {@code keytool} in a temporary directory, deleted at the
 * end.
 *
 * <p>What is measured, per migration: <b>bulk rate</b> = data bytes (pages × 4096) sent in the bulk
 * round / the round's time, from the source's {@link MigrationStats#rounds()}: from the setup sync
 * (after the connections, TLS handshakes and stream headers) to the sync that ends the first round,
 * which the source takes once its channels' writer threads have handed every frame to the kernel.
 * The downtime limit is set to 1 ms so that this round carries all but the last few MiB of the
 * guest (the share is printed). Bytes still in the kernel's socket buffers when the round ends are
 * counted as sent, so this rate can be optimistic, the more so with more channels. <b>Whole
 * rate</b> = all data bytes / {@code total-time}, which adds connecting, TLS handshakes, the digest
 * (a CRC32C of every page at each end), the destination's verification and its reply, so it is
 * pessimistic. Every migration must end {@code completed}, the destination's report must be {@code
 * verified()} with every page checked, and the bytes it read must equal the bytes sent; anything
 * else fails the run loudly (exit status 1).
 *
 * <p>Run (about 5 minutes for 1 GiB and 5 repeats on 2 cores, most of it in the cold and TLS
 * cases):
 *
 * <pre>{@code
 * java -cp bench/target/benchmarks.jar io.github.precopy.bench.LoopbackThroughput \
 *     --memory 1g --repeat 5 --warmup 1
 * }</pre>
 *
 * <p>Options: {@code --memory SIZE} (k, m or g suffix; default 1g), {@code --repeat N} (5), {@code
 * --warmup N} (1, migrations per case not counted), {@code --channels 1,2,4}, {@code --transports
 * plain,tls}, {@code --destinations prealloc,cold,null}, {@code --io-timeout-seconds N} (120),
 * {@code --seed N} (1).
 */
public final class LoopbackThroughput {

  /** {@code "PRECOPYH"}, IncomingMigration.HELLO: what the source sends first on a connection. */
  private static final long HELLO = 0x505245434F505948L;

  /** {@code "PRECOPYA"}, IncomingMigration.GREETING: the destination's answer. */
  private static final long GREETING = 0x505245434F505941L;

  private static final char[] PASSWORD = "loopback-throughput".toCharArray();
  private static final double GIB = 1024.0 * 1024 * 1024;
  private static final byte PREALLOC_PATTERN = 0x5A;

  /** QEMU 7.2 → QEMU 7.2 over loopback, 2 cores, GiB/s: the figures of issue #6. */
  private static final Map<String, double[]> QEMU =
      Map.of(
          "prealloc", new double[] {2.5, 2.75},
          "cold", new double[] {0.4, 0.8},
          "null", new double[] {2.0, 2.3});

  private LoopbackThroughput() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> options = parse(args);
    String role = options.getOrDefault("role", "source");
    switch (role) {
      case "source" -> System.exit(source(options));
      case "destination" -> destination(options);
      case "null-sink" -> nullSink(options);
      default -> throw new IllegalArgumentException("unknown --role " + role);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Source (this JVM): the guest, the cases, the table.

  private record Case(String destination, boolean tls, int channels) {
    String label() {
      return destination + " / " + (tls ? "tls" : "plain") + " / " + channels + " ch";
    }
  }

  private record Run(
      double bulkGibps,
      double wholeGibps,
      long bulkPages,
      long bulkMillis,
      long totalMillis,
      long transferred) {}

  private static int source(Map<String, String> options) throws Exception {
    long memoryBytes = size(options.getOrDefault("memory", "1g"));
    int repeat = Integer.parseInt(options.getOrDefault("repeat", "5"));
    int warmup = Integer.parseInt(options.getOrDefault("warmup", "1"));
    long seed = Long.parseLong(options.getOrDefault("seed", "1"));
    Duration ioTimeout =
        Duration.ofSeconds(Long.parseLong(options.getOrDefault("io-timeout-seconds", "120")));
    List<Integer> channelCounts =
        Arrays.stream(options.getOrDefault("channels", "1,2,4").split(","))
            .map(Integer::parseInt)
            .toList();
    List<String> transports = List.of(options.getOrDefault("transports", "plain,tls").split(","));
    List<String> destinations =
        List.of(options.getOrDefault("destinations", "prealloc,cold,null").split(","));
    for (String transport : transports) {
      if (!transport.equals("plain") && !transport.equals("tls")) {
        throw new IllegalArgumentException("--transports takes plain,tls, got " + transport);
      }
    }
    for (String destination : destinations) {
      if (!QEMU.containsKey(destination)) {
        throw new IllegalArgumentException(
            "--destinations takes prealloc,cold,null, got " + destination);
      }
    }
    if (repeat < 1 || warmup < 0) {
      throw new IllegalArgumentException("--repeat must be ≥ 1 and --warmup ≥ 0");
    }

    printMachine(memoryBytes, repeat, warmup, seed);
    Path tlsDir = transports.contains("tls") ? makeTlsMaterial() : null;
    try (GuestMemory memory = randomMemory(memoryBytes, seed)) {
      IdleGuest guest = new IdleGuest(memory);
      MigrationEngine engine = MigrationEngine.create();
      MigrationConfig config =
          MigrationConfig.builder().downtimeLimit(Duration.ofMillis(1)).build();
      SSLContext sourceTls =
          tlsDir == null
              ? null
              : Tls.pkcs12(
                  tlsDir.resolve("source.p12"),
                  PASSWORD,
                  tlsDir.resolve("source-trust.p12"),
                  PASSWORD);
      Map<Case, List<Run>> results = new LinkedHashMap<>();
      for (String destination : destinations) {
        for (String transport : transports) {
          for (int channels : channelCounts) {
            Case c = new Case(destination, transport.equals("tls"), channels);
            TransportOptions transportOptions =
                TransportOptions.builder()
                    .channels(channels)
                    .ioTimeout(ioTimeout)
                    .tls(c.tls() ? sourceTls : null)
                    .build();
            try {
              results.put(
                  c,
                  runCase(
                      c, guest, engine, config, transportOptions, tlsDir, warmup, repeat, options));
            } catch (BenchmarkFailure e) {
              System.out.println();
              System.out.println("FAILED: " + c.label() + ": " + e.getMessage());
              System.out.flush();
              printTable(results, memoryBytes, repeat);
              return 1;
            }
          }
        }
      }
      printTable(results, memoryBytes, repeat);
      System.out.printf(Locale.ROOT, "# load average at end: %s%n", loadAverage());
      return 0;
    } finally {
      if (tlsDir != null) {
        deleteTree(tlsDir);
      }
    }
  }

  private static final class BenchmarkFailure extends Exception {
    private static final long serialVersionUID = 1L;

    BenchmarkFailure(String message) {
      super(message);
    }
  }

  private static List<Run> runCase(
      Case c,
      Guest guest,
      MigrationEngine engine,
      MigrationConfig config,
      TransportOptions transportOptions,
      Path tlsDir,
      int warmup,
      int repeat,
      Map<String, String> options)
      throws Exception {
    long memoryBytes = guest.memory().totalBytes();
    long totalPages = guest.memory().totalPages();
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(LoopbackThroughput.class.getName());
    command.addAll(
        List.of(
            "--role",
            c.destination().equals("null") ? "null-sink" : "destination",
            "--memory",
            Long.toString(memoryBytes),
            "--channels",
            Integer.toString(c.channels()),
            "--runs",
            Integer.toString(warmup + repeat),
            "--destination-memory",
            c.destination(),
            "--io-timeout-seconds",
            options.getOrDefault("io-timeout-seconds", "120")));
    if (c.tls()) {
      command.add("--tls-dir");
      command.add(tlsDir.toString());
    }
    System.out.printf(Locale.ROOT, "%n## %s%n", c.label());
    System.out.flush();
    Process process =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    List<Run> runs = new ArrayList<>();
    try (BufferedReader child =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String ready = expect(child, "READY", process);
      System.out.println("  destination process " + process.pid() + ": " + ready);
      for (int i = 0; i < warmup + repeat; i++) {
        int port = Integer.parseInt(expect(child, "PORT ", process).substring(5).trim());
        PrecopyMigration migration =
            engine.start(
                guest,
                config,
                MigrationTarget.tcp("127.0.0.1", port, transportOptions),
                stats -> {});
        MigrationStats stats = migration.await();
        Map<String, String> reply = fields(expect(child, "RESULT ", process));
        Run run = check(c, stats, reply, totalPages);
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
            reply.get("summary"));
        System.out.flush();
      }
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        throw new BenchmarkFailure("destination process did not exit");
      }
      if (process.exitValue() != 0) {
        throw new BenchmarkFailure("destination process exited with " + process.exitValue());
      }
    } finally {
      if (process.isAlive()) {
        process.destroyForcibly();
      }
    }
    return runs;
  }

  /** Checks that the migration completed and was verified; computes its rates. */
  private static Run check(Case c, MigrationStats stats, Map<String, String> reply, long totalPages)
      throws BenchmarkFailure {
    List<String> problems = new ArrayList<>();
    if (stats.status() != MigrationStatus.COMPLETED) {
      problems.add("source status " + stats.status() + ": " + stats.errorDescription());
    }
    if (!"true".equals(reply.get("completed"))) {
      problems.add("destination did not complete: " + reply.get("failure"));
    }
    long transferred = stats.ram().transferred();
    if (Long.parseLong(reply.getOrDefault("bytesRead", "-1")) != transferred) {
      problems.add(
          "destination read "
              + reply.get("bytesRead")
              + " stream bytes, source sent "
              + transferred);
    }
    if (stats.ram().normal() != totalPages || stats.ram().duplicate() != 0) {
      problems.add(
          "source sent "
              + stats.ram().normal()
              + " data and "
              + stats.ram().duplicate()
              + " zero pages, expected "
              + totalPages
              + " data pages");
    }
    if (!c.destination().equals("null")) {
      if (!"true".equals(reply.get("verified"))) {
        problems.add("destination report not verified: " + reply.get("failure"));
      }
      if (Long.parseLong(reply.getOrDefault("pagesVerified", "-1")) != totalPages
          || Long.parseLong(reply.getOrDefault("mismatches", "-1")) != 0
          || Long.parseLong(reply.getOrDefault("normal", "-1")) != totalPages) {
        problems.add(
            "destination applied "
                + reply.get("normal")
                + " pages, verified "
                + reply.get("pagesVerified")
                + " with "
                + reply.get("mismatches")
                + " mismatches; expected "
                + totalPages);
      }
      MigrationStats.Verification verification = stats.verification();
      if (verification == null
          || verification.pagesChecked() != totalPages
          || verification.mismatches() != 0) {
        problems.add("source verification " + verification + ", expected " + totalPages);
      }
    }
    List<MigrationStats.Round> rounds = stats.rounds();
    if (rounds.size() < 2 || !rounds.get(1).guestRunning()) {
      problems.add("no bulk round in " + rounds);
    }
    if (!problems.isEmpty()) {
      throw new BenchmarkFailure(String.join("; ", problems));
    }
    MigrationStats.Round bulk = rounds.get(1);
    long bulkMillis = bulk.endMillis() - rounds.get(0).endMillis();
    long bulkPages = bulk.pagesSent();
    return new Run(
        bulkPages * (double) GuestMemory.PAGE_SIZE / GIB / (Math.max(1, bulkMillis) / 1000.0),
        stats.ram().normal()
            * (double) GuestMemory.PAGE_SIZE
            / GIB
            / (Math.max(1, stats.totalTimeMillis()) / 1000.0),
        bulkPages,
        bulkMillis,
        stats.totalTimeMillis(),
        transferred);
  }

  private static void printTable(Map<Case, List<Run>> results, long memoryBytes, int repeat) {
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "# %d MiB guest of data pages; medians of %d runs (min–max); GiB = 2^30 bytes%n",
        memoryBytes >> 20,
        repeat);
    System.out.println(
        "| destination | transport | channels | bulk round GiB/s | whole migration GiB/s"
            + " | total time ms | QEMU 7.2 GiB/s | bulk / QEMU |");
    System.out.println("|---|---|---:|---:|---:|---:|---:|---:|");
    for (Map.Entry<Case, List<Run>> entry : results.entrySet()) {
      Case c = entry.getKey();
      List<Run> runs = entry.getValue();
      double[] qemu = QEMU.get(c.destination());
      double bulk = median(runs, Run::bulkGibps);
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %d | %s | %s | %.0f | %.2f–%.2f | %.2f–%.2f× |%n",
          c.destination(),
          c.tls() ? "TLS 1.3" : "plain TCP",
          c.channels(),
          withRange(runs, Run::bulkGibps),
          withRange(runs, Run::wholeGibps),
          median(runs, run -> run.totalMillis()),
          qemu[0],
          qemu[1],
          bulk / qemu[1],
          bulk / qemu[0]);
    }
    System.out.flush();
  }

  private static String withRange(List<Run> runs, ToDoubleFunction<Run> metric) {
    double[] values = runs.stream().mapToDouble(metric).sorted().toArray();
    return String.format(
        Locale.ROOT,
        "%.2f (%.2f–%.2f)",
        median(runs, metric),
        values[0],
        values[values.length - 1]);
  }

  private static double median(List<Run> runs, ToDoubleFunction<Run> metric) {
    double[] values = runs.stream().mapToDouble(metric).sorted().toArray();
    int middle = values.length / 2;
    return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
  }

  private static void printMachine(long memoryBytes, int repeat, int warmup, long seed) {
    String cpu = "unknown CPU";
    String memTotal = "unknown";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          cpu = line.substring(line.indexOf(':') + 1).trim();
          break;
        }
      }
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal")) {
          memTotal = line.substring(line.indexOf(':') + 1).trim();
          break;
        }
      }
    } catch (IOException e) {
      // Not Linux: the JVM's own figures below still say enough.
    }
    System.out.printf(
        Locale.ROOT,
        "# loopback migration throughput: %d MiB guest, %d warm-up + %d measured migrations per"
            + " case, seed %d%n",
        memoryBytes >> 20,
        warmup,
        repeat,
        seed);
    System.out.printf(
        Locale.ROOT,
        "# machine: %s, %d CPUs available, MemTotal %s, %s %s%n",
        cpu,
        Runtime.getRuntime().availableProcessors(),
        memTotal,
        System.getProperty("os.name"),
        System.getProperty("os.version"));
    System.out.printf(
        Locale.ROOT,
        "# JDK: %s %s (%s), %s%n",
        System.getProperty("java.vm.name"),
        System.getProperty("java.vm.version"),
        System.getProperty("java.vendor"),
        System.getProperty("java.home"));
    System.out.printf(Locale.ROOT, "# load average at start: %s%n", loadAverage());
    System.out.flush();
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** Reads the child's lines until one starts with {@code prefix}; fails if the child ends. */
  private static String expect(BufferedReader child, String prefix, Process process)
      throws IOException, BenchmarkFailure, InterruptedException {
    String line;
    while ((line = child.readLine()) != null) {
      if (line.startsWith(prefix)) {
        return line;
      }
      if (line.startsWith("ERROR")) {
        throw new BenchmarkFailure("destination process: " + line);
      }
      System.out.println("  destination says: " + line);
    }
    process.waitFor(10, TimeUnit.SECONDS);
    throw new BenchmarkFailure(
        "destination process ended (exit "
            + (process.isAlive() ? "none yet" : Integer.toString(process.exitValue()))
            + ") while waiting for "
            + prefix.trim());
  }

  /** {@code KEY=VALUE} fields separated by tabs, after the first word. */
  private static Map<String, String> fields(String line) {
    Map<String, String> fields = new LinkedHashMap<>();
    String[] parts = line.split("\t");
    for (int i = 1; i < parts.length; i++) {
      int equals = parts[i].indexOf('=');
      fields.put(parts[i].substring(0, equals), parts[i].substring(equals + 1));
    }
    fields.put("summary", line.substring(line.indexOf(' ') + 1).replace('\t', ' '));
    return fields;
  }

  /**
   * Makes a throwaway mutual-TLS pair with the JDK's keytool: a self-signed EC P-256 key and
   * certificate for each end ({@code source.p12}, {@code destination.p12}) and for each end a trust
   * store holding the other's certificate.
   */
  private static Path makeTlsMaterial() throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("precopy-loopback-tls-");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    String password = new String(PASSWORD);
    for (String end : List.of("source", "destination")) {
      keytool(
          keytool,
          dir,
          "-genkeypair",
          "-alias",
          end,
          "-keyalg",
          "EC",
          "-groupname",
          "secp256r1",
          "-dname",
          "CN=precopy-" + end,
          "-validity",
          "2",
          "-storetype",
          "PKCS12",
          "-keystore",
          end + ".p12",
          "-storepass",
          password,
          "-keypass",
          password);
      keytool(
          keytool,
          dir,
          "-exportcert",
          "-alias",
          end,
          "-keystore",
          end + ".p12",
          "-storepass",
          password,
          "-file",
          end + ".crt");
    }
    keytool(keytool, dir, trustArgs("destination", "source-trust.p12", password));
    keytool(keytool, dir, trustArgs("source", "destination-trust.p12", password));
    System.out.println("# TLS: throwaway EC P-256 self-signed pair made with keytool in " + dir);
    return dir;
  }

  private static String[] trustArgs(String end, String store, String password) {
    return new String[] {
      "-importcert",
      "-noprompt",
      "-alias",
      end,
      "-file",
      end + ".crt",
      "-storetype",
      "PKCS12",
      "-keystore",
      store,
      "-storepass",
      password
    };
  }

  private static void keytool(String keytool, Path dir, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(keytool);
    command.addAll(List.of(args));
    Process process =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.waitFor() != 0) {
      throw new IOException("keytool " + String.join(" ", args) + " failed: " + output);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      System.err.println("could not delete " + dir + ": " + e.getMessage());
    }
  }

  /** Memory whose every page holds random (non-zero) bytes, for a guest that does not run. */
  private static GuestMemory randomMemory(long bytes, long seed) {
    long start = System.nanoTime();
    GuestMemory memory = GuestMemory.anonymous(bytes);
    SplittableRandom random = new SplittableRandom(seed);
    byte[] page = new byte[GuestMemory.PAGE_SIZE];
    for (long address = 0; address < bytes; address += page.length) {
      random.nextBytes(page);
      page[0] |= 1; // never a zero page
      memory.write(address, page, 0, page.length);
    }
    System.out.printf(
        Locale.ROOT,
        "# source guest: %d pages of random bytes written in %d ms%n",
        memory.totalPages(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    System.out.flush();
    return memory;
  }

  // ---------------------------------------------------------------------------------------------
  // Destination process: IncomingMigration into preallocated or cold memory.

  private static void destination(Map<String, String> options) throws Exception {
    long bytes = Long.parseLong(options.get("memory"));
    int runs = Integer.parseInt(options.get("runs"));
    boolean prealloc = options.get("destination-memory").equals("prealloc");
    TransportOptions transport = childTransport(options);
    GuestMemory preallocated = null;
    if (prealloc) {
      long start = System.nanoTime();
      preallocated = GuestMemory.anonymous(bytes);
      preallocated.fill(0, bytes, PREALLOC_PATTERN);
      say(
          "READY\tpreallocated %d MiB (every page written) in %d ms",
          bytes >> 20, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    } else {
      say("READY\tcold: a fresh, untouched mapping for each migration");
    }
    for (int run = 0; run < runs; run++) {
      GuestMemory memory;
      if (prealloc) {
        memory = preallocated;
        memory.fill(0, bytes, PREALLOC_PATTERN); // overwrite the previous run's pages; not timed
      } else {
        memory = GuestMemory.anonymous(bytes);
      }
      try (IncomingMigration incoming =
          IncomingMigration.listen(new InetSocketAddress("127.0.0.1", 0), transport)) {
        say("PORT %d", incoming.address().getPort());
        long start = System.nanoTime();
        DestinationReport report;
        try {
          report = incoming.receive(memory, notice -> System.err.println("destination: " + notice));
        } catch (IOException e) {
          say("ERROR\t%s", oneLine(e.toString()));
          System.exit(2);
          return;
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        say(
            "RESULT %s\tcompleted=%b\tverified=%b\tnormal=%d\tzero=%d\tbytesRead=%d"
                + "\tpagesVerified=%d\tmismatches=%d\treceiveMillis=%d\tfailure=%s",
            report.verified() ? "verified" : "NOT VERIFIED",
            report.completed(),
            report.verified(),
            report.normalPages(),
            report.zeroPages(),
            report.bytesRead(),
            report.pagesVerified(),
            report.mismatches(),
            millis,
            oneLine(String.valueOf(report.failure())));
      } finally {
        if (!prealloc) {
          memory.close();
        }
      }
    }
    if (preallocated != null) {
      preallocated.close();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Null sink process: the precopy handshake, then read and discard.

  private static void nullSink(Map<String, String> options) throws Exception {
    int runs = Integer.parseInt(options.get("runs"));
    int channels = Integer.parseInt(options.get("channels"));
    TransportOptions transport = childTransport(options);
    int ioMillis = (int) transport.ioTimeout().toMillis();
    say("READY\tnull sink: handshake, then read and discard (TLS decrypted, nothing decoded)");
    for (int run = 0; run < runs; run++) {
      try (ServerSocketChannel server = ServerSocketChannel.open()) {
        server.bind(new InetSocketAddress("127.0.0.1", 0), channels);
        say("PORT %d", ((InetSocketAddress) server.getLocalAddress()).getPort());
        List<SinkConnection> connections = new ArrayList<>();
        try {
          long start = 0;
          for (int i = 0; i < channels; i++) {
            SocketChannel accepted = server.accept();
            if (i == 0) {
              start = System.nanoTime();
            }
            accepted.socket().setTcpNoDelay(true);
            accepted.socket().setSoTimeout(ioMillis);
            SinkConnection connection = SinkConnection.open(accepted, transport.tls());
            connections.add(connection);
            connection.handshake();
          }
          AtomicLong total = new AtomicLong();
          List<Thread> readers = new ArrayList<>();
          List<Throwable> failures = new ArrayList<>();
          for (SinkConnection connection : connections) {
            Thread reader =
                new Thread(
                    () -> {
                      try {
                        total.addAndGet(connection.discardToEnd());
                      } catch (Throwable e) {
                        synchronized (failures) {
                          failures.add(e);
                        }
                      }
                    },
                    "null-sink-reader");
            reader.start();
            readers.add(reader);
          }
          for (Thread reader : readers) {
            reader.join();
          }
          String failure = failures.isEmpty() ? null : oneLine(failures.get(0).toString());
          DestinationReport report =
              new DestinationReport(failure == null, 0, 0, total.get(), 0, 0, failure);
          for (SinkConnection connection : connections) {
            connection.reply(report);
          }
          long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
          say(
              "RESULT discarded\tcompleted=%b\tbytesRead=%d\treceiveMillis=%d\tfailure=%s",
              failure == null, total.get(), millis, failure);
        } catch (IOException e) {
          say("ERROR\t%s", oneLine(e.toString()));
          System.exit(2);
        } finally {
          for (SinkConnection connection : connections) {
            connection.close();
          }
        }
      }
    }
  }

  /** One accepted connection of the null sink: plain socket channel, or TLS over its socket. */
  private static final class SinkConnection {
    private final SocketChannel channel;
    private final SSLSocket tls;

    private SinkConnection(SocketChannel channel, SSLSocket tls) {
      this.channel = channel;
      this.tls = tls;
    }

    static SinkConnection open(SocketChannel channel, SSLContext context) throws IOException {
      if (context == null) {
        return new SinkConnection(channel, null);
      }
      Socket socket = channel.socket();
      SSLSocket tls =
          (SSLSocket) context.getSocketFactory().createSocket(socket, (InputStream) null, true);
      SSLParameters parameters = tls.getSSLParameters();
      parameters.setProtocols(new String[] {"TLSv1.3"});
      parameters.setNeedClientAuth(true);
      tls.setSSLParameters(parameters);
      tls.setUseClientMode(false);
      tls.startHandshake();
      return new SinkConnection(channel, tls);
    }

    void handshake() throws IOException {
      ByteBuffer hello = ByteBuffer.allocate(Long.BYTES);
      if (tls == null) {
        while (hello.hasRemaining()) {
          if (channel.read(hello) < 0) {
            throw new IOException("closed before saying hello");
          }
        }
      } else {
        InputStream in = tls.getInputStream();
        while (hello.hasRemaining()) {
          int read = in.read(hello.array(), hello.position(), hello.remaining());
          if (read < 0) {
            throw new IOException("closed before saying hello");
          }
          hello.position(hello.position() + read);
        }
      }
      if (hello.flip().getLong() != HELLO) {
        throw new IOException("not a precopy source");
      }
      ByteBuffer greeting = ByteBuffer.allocate(Long.BYTES).putLong(GREETING).flip();
      if (tls == null) {
        while (greeting.hasRemaining()) {
          channel.write(greeting);
        }
      } else {
        OutputStream out = tls.getOutputStream();
        out.write(greeting.array());
        out.flush();
      }
    }

    /** Reads until the source half-closes; returns the bytes read. */
    long discardToEnd() throws IOException {
      long total = 0;
      if (tls == null) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        int read;
        while ((read = channel.read(buffer)) >= 0) {
          total += read;
          buffer.clear();
        }
      } else {
        byte[] buffer = new byte[1 << 20];
        InputStream in = tls.getInputStream();
        int read;
        while ((read = in.read(buffer)) >= 0) {
          total += read;
        }
      }
      return total;
    }

    void reply(DestinationReport report) {
      try {
        report.writeTo(
            tls == null
                ? new OutputStream() {
                  @Override
                  public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                  }

                  @Override
                  public void write(byte[] b, int off, int len) throws IOException {
                    ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
                    while (buffer.hasRemaining()) {
                      channel.write(buffer);
                    }
                  }
                }
                : tls.getOutputStream());
      } catch (IOException ignored) {
        // Only channel 0's reply is read; the source may have closed the others already.
      }
    }

    void close() {
      try {
        if (tls != null) {
          tls.close();
        }
        channel.close();
      } catch (IOException ignored) {
        // Nothing more goes through it.
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Shared helpers.

  private static TransportOptions childTransport(Map<String, String> options) {
    TransportOptions.Builder builder =
        TransportOptions.builder()
            .channels(Integer.parseInt(options.get("channels")))
            .ioTimeout(
                Duration.ofSeconds(
                    Long.parseLong(options.getOrDefault("io-timeout-seconds", "120"))));
    String tlsDir = options.get("tls-dir");
    if (tlsDir != null) {
      Path dir = Path.of(tlsDir);
      builder.tls(
          Tls.pkcs12(
              dir.resolve("destination.p12"),
              PASSWORD,
              dir.resolve("destination-trust.p12"),
              PASSWORD));
    }
    return builder.build();
  }

  private static void say(String format, Object... args) {
    System.out.println(String.format(Locale.ROOT, format, args));
    System.out.flush();
  }

  private static String oneLine(String text) {
    return text.replace('\n', ' ').replace('\r', ' ').replace('\t', ' ');
  }

  /** A size in bytes, with an optional binary k, m or g suffix. */
  private static long size(String text) {
    String lower = text.trim().toLowerCase(Locale.ROOT);
    int shift = 0;
    if (lower.endsWith("k")) {
      shift = 10;
    } else if (lower.endsWith("m")) {
      shift = 20;
    } else if (lower.endsWith("g")) {
      shift = 30;
    }
    long value = Long.parseLong(shift == 0 ? lower : lower.substring(0, lower.length() - 1));
    long bytes = value << shift;
    if (value <= 0 || bytes >>> shift != value || bytes % GuestMemory.PAGE_SIZE != 0) {
      throw new IllegalArgumentException("--memory must be a positive multiple of 4k, got " + text);
    }
    return bytes;
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> options = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --NAME VALUE pairs, got " + args[i]);
      }
      options.put(args[i].substring(2), args[++i]);
    }
    return options;
  }
}
