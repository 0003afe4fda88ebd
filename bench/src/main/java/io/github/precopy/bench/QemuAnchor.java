package io.github.precopy.bench;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * QEMU's side of {@link QemuSideBySide}: one migration per call through the QEMU anchor harness
 * ({@code bench.py} in the anchors directory, or {@code bench/qemu/tls_bench.py} for the TLS row),
 * which appends its JSON lines to one results file and takes the benchmark lock itself. The rate is
 * the anchors' own: guest RAM / {@code query-migrate}'s {@code total-time}.
 */
final class QemuAnchor {

  private static final double GIB = 1024.0 * 1024 * 1024;
  private static final Pattern TOTAL = Pattern.compile("\"total-time\": (\\d+)");
  private static final Pattern SETUP = Pattern.compile("\"setup-time\": (\\d+)");
  private static final Pattern DOWNTIME = Pattern.compile("\"downtime\": (\\d+)");
  private static final Pattern STATUS = Pattern.compile("\"status\": \"([a-z-]+)\"");
  private static final Pattern NOISY = Pattern.compile("\"noisy\": true");
  private static final Pattern SKIPPED = Pattern.compile("\"skipped\": \"([^\"]*)\"");

  /**
   * One migration as the harness measured it.
   *
   * @param gibps guest RAM / total-time, GiB/s
   * @param totalMillis total-time
   * @param setupMillis setup-time
   * @param downtimeMillis downtime
   * @param noisy whether the harness found other processes busy during the run (the last clean run
   *     is used if there is one, else the last one)
   * @param attempts runs the harness made (a noisy run is run again, once)
   */
  record Run(
      double gibps,
      long totalMillis,
      long setupMillis,
      long downtimeMillis,
      boolean noisy,
      int attempts) {}

  private final Path anchors;
  private final Path tlsScript;
  private final Path results;
  private final long memoryBytes;

  QemuAnchor(Path anchors, Path tlsScript, Path results, long memoryBytes) {
    this.anchors = anchors;
    this.tlsScript = tlsScript;
    this.results = results;
    this.memoryBytes = memoryBytes;
  }

  /** The results file: every JSON line of every run. */
  Path results() {
    return results;
  }

  /** The harness's command for a row. */
  List<String> command(SideBySideRow row) {
    List<String> command = new ArrayList<>();
    command.add("python3");
    if (row == SideBySideRow.TLS) {
      command.addAll(
          List.of(tlsScript.toString(), "--anchors", anchors.toString(), "--sizes", gib()));
    } else {
      command.addAll(
          List.of(
              anchors.resolve("bench.py").toString(),
              "--sizes",
              gib(),
              "--cases",
              row.qemuCase(),
              "--sinks",
              row.qemuSink()));
    }
    command.addAll(List.of("--accels", "tcg", "--reps", "1", "--out", results.toString()));
    return command;
  }

  /** Runs one migration of {@code row}; its log goes to this process's standard error. */
  Run run(SideBySideRow row) throws IOException, InterruptedException, BenchmarkFailure {
    long before = lines().size();
    Process process =
        new ProcessBuilder(command(row))
            .redirectOutput(ProcessBuilder.Redirect.INHERIT)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    int exit = process.waitFor();
    List<String> lines = lines();
    List<String> mine = lines.subList((int) Math.min(before, lines.size()), lines.size());
    if (exit != 0) {
      throw new BenchmarkFailure("QEMU harness exited with " + exit);
    }
    String chosen = null;
    for (String line : mine) {
      Matcher skipped = SKIPPED.matcher(line);
      if (skipped.find()) {
        throw new BenchmarkFailure("QEMU harness skipped the run: " + skipped.group(1));
      }
      Matcher status = STATUS.matcher(line);
      if (!status.find() || !status.group(1).equals("completed") || !TOTAL.matcher(line).find()) {
        continue;
      }
      if (chosen == null || NOISY.matcher(chosen).find() || !NOISY.matcher(line).find()) {
        chosen = line;
      }
    }
    if (chosen == null) {
      throw new BenchmarkFailure(
          "no completed QEMU migration among the " + mine.size() + " new lines of " + results);
    }
    long total = number(TOTAL, chosen);
    return new Run(
        memoryBytes / GIB / (Math.max(1, total) / 1000.0),
        total,
        number(SETUP, chosen),
        number(DOWNTIME, chosen),
        NOISY.matcher(chosen).find(),
        mine.size());
  }

  /** {@code qemu-system-x86_64 --version}'s first line, or null if it cannot run. */
  static String version() {
    try {
      Process process =
          new ProcessBuilder("qemu-system-x86_64", "--version").redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return process.waitFor() == 0 ? output.lines().findFirst().orElse(null) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private String gib() {
    return new BigDecimal(memoryBytes)
        .divide(BigDecimal.valueOf(1L << 30))
        .stripTrailingZeros()
        .toPlainString();
  }

  private List<String> lines() throws IOException {
    return Files.exists(results) ? Files.readAllLines(results, StandardCharsets.UTF_8) : List.of();
  }

  private static long number(Pattern pattern, String line) {
    Matcher matcher = pattern.matcher(line);
    return matcher.find() ? Long.parseLong(matcher.group(1)) : -1;
  }
}
