package io.github.precopy.bench;

import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.TransportOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * QEMU 7.2 and this engine side by side (issue #15): for each row, {@code --rounds} rounds of one
 * QEMU → QEMU migration through the QEMU anchor harness ({@link QemuAnchor}) and then one of ours
 * ({@link OurSide}) of the same size and content, alternating, and per row the medians, the spread
 * and the ratio. Both rates are guest RAM / the migration's total-time (QEMU's {@code
 * query-migrate} {@code total-time}, ours {@code MigrationStats.totalTimeMillis()}), the rate the
 * anchors state.
 *
 * <p>The QEMU harness takes the benchmark lock ({@code flock(2)} on {@code
 * /tmp/precopy-bench.lock}) itself around each of its runs; this program takes the same lock around
 * each of ours (the preparation and warm-ups of a row included) and never holds it while QEMU's run
 * goes on. Not in CI: it needs {@code qemu-system-x86_64}, {@code socat}, {@code python3}, {@code
 * openssl} and {@code flock}. Without {@code qemu-system-x86_64} it says so and exits 2, unless
 * {@code --ours-only}.
 */
@Command(
    name = "QemuSideBySide",
    sortOptions = false,
    description = {
      "Runs, alternately, QEMU 7.2's migration (through the QEMU anchor harness) and ours of the"
          + " same size and content for each row, and prints medians, spread and ratios."
    },
    footer = {
      "Rows: prealloc (data pages into preallocated destination RAM, loopback TCP), cold (into"
          + " never touched destination RAM), null-sink (to socat discarding the stream),"
          + " zero-resident and zero-untouched (zero pages scanned, ours in process to a null"
          + " stream, QEMU to exec:cat > /dev/null), tls (mutual TLS, preallocated destination).",
      "",
      "Example (from the repository root):",
      "  java -cp bench/target/benchmarks.jar \\",
      "      io.github.precopy.bench.QemuSideBySide --memory 1g --rounds 3"
    })
public final class QemuSideBySide implements Callable<Integer> {

  /** How much faster than QEMU ours must be for the row's verdict. */
  private static final double TARGET_RATIO = 1.2;

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
      description =
          "Guest RAM of both sides, a multiple of 16m for QEMU's RAM image (default:"
              + " ${DEFAULT-VALUE}).")
  private long memoryBytes;

  @Option(
      names = "--rows",
      split = ",",
      defaultValue = "prealloc,cold,null-sink,zero-resident,zero-untouched,tls",
      converter = SideBySideRow.Converter.class,
      completionCandidates = SideBySideRow.Candidates.class,
      paramLabel = "ROW",
      description = "Rows, from: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  private List<SideBySideRow> rows;

  @Option(
      names = "--rounds",
      defaultValue = "3",
      paramLabel = "N",
      description =
          "Rounds per row, each one QEMU migration then one of ours (default:"
              + " ${DEFAULT-VALUE}).")
  private int rounds;

  @Option(
      names = "--warmup",
      defaultValue = "1",
      paramLabel = "N",
      description =
          "Our untimed migrations per row before its first round, to warm our JVMs (default:"
              + " ${DEFAULT-VALUE}).")
  private int warmup;

  @Option(
      names = "--channels",
      defaultValue = "1",
      paramLabel = "N",
      description = "Our channels in the prealloc, cold and tls rows (default: ${DEFAULT-VALUE}).")
  private int channels;

  @Option(
      names = "--anchors",
      defaultValue = "../shared/anchors/qemu",
      paramLabel = "DIR",
      description =
          "The QEMU anchor harness (bench.py, qmp.py), relative to the working directory"
              + " (default: ${DEFAULT-VALUE}).")
  private Path anchors;

  @Option(
      names = "--tls-script",
      defaultValue = "bench/qemu/tls_bench.py",
      paramLabel = "FILE",
      description = "QEMU's TLS row, which wraps the harness (default: ${DEFAULT-VALUE}).")
  private Path tlsScript;

  @Option(
      names = "--qemu-out",
      paramLabel = "FILE",
      description =
          "Where the harness appends its JSON lines, one per QEMU run (default:"
              + " /tmp/qemu-anchor/side-by-side-<time>.jsonl).")
  private Path qemuOut;

  @Option(
      names = "--lock",
      defaultValue = "/tmp/precopy-bench.lock",
      paramLabel = "FILE",
      description = "The benchmark lock held around each of our runs (default: ${DEFAULT-VALUE}).")
  private Path lock;

  @Option(
      names = "--huge-pages",
      description =
          "Our destination's memory on transparent huge pages, as QEMU's anonymous RAM (JDK 22+);"
              + " default: /dev/shm.")
  private boolean hugePages;

  @Option(
      names = "--no-verify",
      description =
          "Our prealloc, cold and tls rows without the page digest (QEMU checks nothing; every"
              + " frame is still checksummed); default: the destination verifies every page.")
  private boolean noVerify;

  @Option(names = "--no-lock", description = "Run ours without taking the lock.")
  private boolean noLock;

  @Option(
      names = "--ours-only",
      description = "Run our side alone (no QEMU needed); the QEMU columns stay empty.")
  private boolean oursOnly;

  @Option(
      names = "--io-timeout",
      defaultValue = "120s",
      converter = Durations.Timeout.class,
      paramLabel = "DURATION",
      description = "Our source's transport I/O timeout (default: ${DEFAULT-VALUE}).")
  private Duration ioTimeout;

  @Option(
      names = "--seed",
      defaultValue = "1",
      paramLabel = "N",
      description = "Seed of our guest's random bytes (default: ${DEFAULT-VALUE}).")
  private long seed;

  @Spec private CommandSpec spec;

  /** One engine for every row of ours. */
  private MigrationEngine engine;

  /** A row's runs, both sides, and the failure that ended it if one did. */
  private static final class RowResult {
    final List<QemuAnchor.Run> qemu = new ArrayList<>();
    final List<OurSide.Run> ours = new ArrayList<>();
    String failure;
  }

  public static void main(String[] args) {
    Cli.exit(new QemuSideBySide(), args);
  }

  @Override
  public Integer call() throws Exception {
    check(rounds >= 1, "--rounds must be >= 1");
    check(warmup >= 0, "--warmup must be >= 0");
    check(
        channels >= 1 && channels <= TransportOptions.MAX_CHANNELS,
        "--channels takes 1 to " + TransportOptions.MAX_CHANNELS + ", got " + channels);
    check(!rows.isEmpty(), "--rows names no row");
    String qemuVersion = null;
    if (!oursOnly) {
      check(
          memoryBytes % (16L << 20) == 0,
          "--memory must be a multiple of 16m for QEMU's RAM image (or use --ours-only)");
      qemuVersion = QemuAnchor.version();
      if (qemuVersion == null) {
        spec.commandLine()
            .getErr()
            .println(
                "QemuSideBySide: qemu-system-x86_64 is not installed (apt-get install -y"
                    + " qemu-system-x86 qemu-utils socat), or run our side alone with"
                    + " --ours-only");
        spec.commandLine().getErr().flush();
        return 2;
      }
      check(
          Files.exists(anchors.resolve("bench.py")),
          "--anchors: no bench.py in " + anchors.toAbsolutePath().normalize());
      check(
          !rows.contains(SideBySideRow.TLS) || Files.exists(tlsScript),
          "--tls-script: no " + tlsScript.toAbsolutePath().normalize());
    }
    Path lockFile = noLock ? null : lock;
    engine = MigrationEngine.create();
    QemuAnchor qemu = null;
    if (!oursOnly) {
      Path out = qemuOut;
      if (out == null) {
        out =
            Path.of(
                "/tmp/qemu-anchor",
                "side-by-side-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                    + ".jsonl");
      }
      Files.createDirectories(out.toAbsolutePath().getParent());
      qemu =
          new QemuAnchor(
              anchors.toAbsolutePath().normalize(),
              tlsScript.toAbsolutePath().normalize(),
              out.toAbsolutePath(),
              memoryBytes);
    }

    System.out.printf(
        Locale.ROOT,
        "# QEMU side by side (issue #15): %d MiB guest, %d round(s) per row (one QEMU migration"
            + " then one of ours), %d untimed warm-up(s) of ours per row, our channels %d, our"
            + " destination memory %s, our page digest %s%n",
        memoryBytes >> 20,
        rounds,
        warmup,
        channels,
        hugePages ? "on transparent huge pages" : "on /dev/shm",
        noVerify ? "off (--no-verify)" : "on");
    MachineInfo.print();
    System.out.println("# QEMU: " + (oursOnly ? "not run (--ours-only)" : qemuVersion));
    System.out.println(
        "# rate, both sides: guest RAM / total-time of the migration (QEMU: query-migrate"
            + " total-time; ours: MigrationStats.totalTimeMillis()); GiB = 2^30 bytes");
    System.out.println(
        "# lock: "
            + (lockFile == null ? "none (--no-lock)" : "flock " + lockFile)
            + " around each of our runs; the QEMU harness takes it around each of its own");
    if (qemu != null) {
      System.out.println("# QEMU JSON lines: " + qemu.results());
    }
    System.out.flush();

    Map<SideBySideRow, RowResult> results = new LinkedHashMap<>();
    boolean needsData = rows.stream().anyMatch(SideBySideRow::dataPages);
    boolean needsTls = rows.contains(SideBySideRow.TLS);
    GuestMemory dataMemory = null;
    try (TlsPair tls = needsTls ? TlsPair.create() : null) {
      SSLContext sourceTls = tls == null ? null : tls.source();
      if (needsData) {
        try (BenchLock held = BenchLock.acquire(lockFile)) {
          dataMemory = randomMemory();
        }
      }
      Guest dataGuest = dataMemory == null ? null : new IdleGuest(dataMemory);
      for (SideBySideRow row : rows) {
        RowResult result = new RowResult();
        results.put(row, result);
        try (OurSide ours = ourSide(row, dataGuest, tls, sourceTls)) {
          runRow(row, qemu, ours, lockFile, result);
        } catch (Exception e) {
          result.failure = Cli.oneLine(String.valueOf(e.getMessage() == null ? e : e.getMessage()));
          System.out.println("FAILED: " + row + ": " + result.failure);
        }
        System.out.flush();
      }
    } finally {
      if (dataMemory != null) {
        dataMemory.close();
      }
    }
    printTable(results);
    System.out.printf(Locale.ROOT, "# load average at end: %s%n", MachineInfo.loadAverage());
    return results.values().stream().anyMatch(r -> r.failure != null) ? 1 : 0;
  }

  private void runRow(
      SideBySideRow row, QemuAnchor qemu, OurSide ours, Path lockFile, RowResult result)
      throws Exception {
    System.out.printf(Locale.ROOT, "%n## %s: %s%n", row, row.description());
    if (qemu != null) {
      System.out.println("  QEMU: " + String.join(" ", qemu.command(row)));
    }
    System.out.println("  ours: " + ours.command());
    System.out.flush();
    try (BenchLock held = BenchLock.acquire(lockFile)) {
      ours.prepare();
    }
    for (int round = 1; round <= rounds; round++) {
      if (qemu != null) {
        QemuAnchor.Run q = qemu.run(row);
        result.qemu.add(q);
        System.out.printf(
            Locale.ROOT,
            "  round %d QEMU: %.2f GiB/s (total-time %d ms, setup %d ms, downtime %d ms%s)%n",
            round,
            q.gibps(),
            q.totalMillis(),
            q.setupMillis(),
            q.downtimeMillis(),
            q.noisy() ? ", NOISY: others busy during every attempt" : "");
        System.out.flush();
      }
      OurSide.Run o;
      long waited;
      try (BenchLock held = BenchLock.acquire(lockFile)) {
        waited = held.waitedMillis();
        o = ours.run();
      }
      result.ours.add(o);
      System.out.printf(
          Locale.ROOT,
          "  round %d ours: %.2f GiB/s (total-time %d ms; %s; lock waited %d ms; load %s)%n",
          round,
          o.gibps(),
          o.totalMillis(),
          o.detail(),
          waited,
          MachineInfo.loadAverage());
      System.out.flush();
    }
  }

  private OurSide ourSide(SideBySideRow row, Guest dataGuest, TlsPair tls, SSLContext sourceTls) {
    return switch (row) {
      case PREALLOC, COLD, TLS ->
          new OurSide.ToDestination(
              row,
              engine,
              dataGuest,
              memoryBytes,
              warmup,
              rounds,
              channels,
              ioTimeout,
              tls,
              sourceTls,
              hugePages,
              !noVerify);
      case NULL_SINK -> new OurSide.NullSink(engine, dataGuest, memoryBytes, warmup);
      case ZERO_RESIDENT -> new OurSide.Zero(engine, true, memoryBytes, warmup);
      case ZERO_UNTOUCHED -> new OurSide.Zero(engine, false, memoryBytes, warmup);
    };
  }

  private void printTable(Map<SideBySideRow, RowResult> results) {
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "# %d MiB guest; medians of %d round(s) (min–max), GiB of guest RAM per second over the"
            + " whole migration; ratio = our median / QEMU's median; target: ours ≥ %.1f× QEMU%n",
        memoryBytes >> 20,
        rounds,
        TARGET_RATIO);
    System.out.println(
        "| row | QEMU 7.2 GiB/s | ours GiB/s | ours / QEMU | ≥ 1.2× | ours, bulk round GiB/s"
            + " | QEMU runs noisy |");
    System.out.println("|---|---:|---:|---:|---|---:|---:|");
    for (Map.Entry<SideBySideRow, RowResult> entry : results.entrySet()) {
      RowResult r = entry.getValue();
      String qemuCell = r.qemu.isEmpty() ? "–" : withRange(r.qemu, QemuAnchor.Run::gibps);
      String oursCell = r.ours.isEmpty() ? "–" : withRange(r.ours, OurSide.Run::gibps);
      String ratio = "–";
      String verdict = "–";
      if (!r.qemu.isEmpty() && !r.ours.isEmpty()) {
        double x = Median.of(r.ours, OurSide.Run::gibps) / Median.of(r.qemu, QemuAnchor.Run::gibps);
        ratio = String.format(Locale.ROOT, "%.2f×", x);
        verdict = x >= TARGET_RATIO ? "yes" : "no";
      }
      String bulk =
          r.ours.isEmpty() || Double.isNaN(r.ours.get(0).bulkGibps())
              ? "–"
              : withRange(r.ours, OurSide.Run::bulkGibps);
      long noisy = r.qemu.stream().filter(QemuAnchor.Run::noisy).count();
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %s | %s | %s | %s | %s |%n",
          entry.getKey(),
          qemuCell,
          oursCell,
          ratio,
          verdict,
          bulk,
          r.qemu.isEmpty() ? "–" : noisy + " of " + r.qemu.size());
      if (r.failure != null) {
        System.out.println(
            "|   ↳ FAILED after " + r.ours.size() + " round(s): " + r.failure + " | | | | | | |");
      }
    }
    System.out.flush();
  }

  private static <T> String withRange(List<T> runs, ToDoubleFunction<T> metric) {
    double[] values = runs.stream().mapToDouble(metric).sorted().toArray();
    return String.format(
        Locale.ROOT,
        "%.2f (%.2f–%.2f)",
        Median.of(runs, metric),
        values[0],
        values[values.length - 1]);
  }

  private void check(boolean valid, String message) {
    if (!valid) {
      throw new ParameterException(spec.commandLine(), message);
    }
  }

  /** Memory whose every page holds seeded random, never all-zero bytes. */
  private GuestMemory randomMemory() {
    long start = System.nanoTime();
    GuestMemory memory = IdleGuest.randomData(memoryBytes, seed);
    System.out.printf(
        Locale.ROOT,
        "# our source guest of data pages: %d pages of random bytes written in %d ms%n",
        memory.totalPages(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    System.out.flush();
    return memory;
  }
}
