package io.github.precopy.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The real QEMU free-page-hint harness ({@code run.sh} of {@code ../shared/anchors/qemu-fph}) as
 * {@link GuestFidelity} runs it: one call per (size, workload, downtime limit), with the
 * environment {@code SIZES}, {@code WORKLOADS}, {@code DOWNTIMES}, {@code REPS} and {@code OUT} set
 * to match, and its JSON lines read back ({@code bench.py}'s fields: {@code derived.total_time_ms},
 * {@code derived.downtime_ms}, {@code derived.transferred_mib}, {@code derived.dirty_sync_count},
 * {@code churn.baseline_mib_s}, {@code churn.span_mib_s}). The harness takes the benchmark lock
 * itself around each pair of runs, so the caller must not hold it then.
 */
final class FphHarness {

  /**
   * Where {@code build_guest.py} puts the guest: {@code $WORK/initramfs.cpio.gz}, {@code WORK}
   * defaulting to {@code /tmp/qemu-fph} as in {@code bench.py}.
   */
  static final Path INITRAMFS =
      Path.of(System.getenv().getOrDefault("WORK", "/tmp/qemu-fph"), "initramfs.cpio.gz");

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One migration of the harness: {@code problem} is null for a completed one, else why it does not
   * count (skipped, an error, not converged).
   */
  record Run(
      boolean hinted,
      double totalMillis,
      double downtimeMillis,
      double transferredMib,
      double dirtySyncs,
      double baselineMibs,
      double duringMibs,
      String problem) {

    /** The guest's work rate during the migration / before it, NaN without churn figures. */
    double workRatio() {
      return duringMibs / baselineMibs;
    }
  }

  private final Path directory;
  private final Path results;

  FphHarness(Path directory, Path results) {
    this.directory = directory;
    this.results = results;
  }

  /** Why the harness cannot run here, or null if it can: what is missing. */
  static String missing(Path directory) {
    if (QemuAnchor.version() == null) {
      return "qemu-system-x86_64 is not installed (apt-get install -y qemu-system-x86 qemu-utils"
          + " socat busybox-static cpio gcc libc6-dev kmod)";
    }
    if (!Files.isRegularFile(directory.resolve("run.sh"))) {
      return "no run.sh in " + directory.toAbsolutePath().normalize() + " (see --qemu-harness)";
    }
    if (!Files.isRegularFile(INITRAMFS)) {
      return "no "
          + INITRAMFS
          + ": build the guest first with python3 "
          + directory.resolve("build_guest.py");
    }
    return null;
  }

  /** Where the JSON lines go, one file per call. */
  Path results() {
    return results;
  }

  /** The command and environment of one call, for the log. */
  String describe(long sizeBytes, String workload, String append, long limitMillis, int reps) {
    StringBuilder text = new StringBuilder();
    environment(sizeBytes, workload, append, limitMillis, reps, Path.of("OUT"))
        .forEach((k, v) -> text.append(k).append('=').append(v).append(' '));
    return text.append(directory.resolve("run.sh")).toString();
  }

  /**
   * Runs {@code reps} pairs of the harness for one (size, workload, limit), the guest kernel booted
   * with the arguments {@code append}; its log goes to this process's standard error.
   */
  List<Run> run(long sizeBytes, String workload, String append, long limitMillis, int reps)
      throws IOException, InterruptedException, BenchmarkFailure {
    Files.createDirectories(results);
    Path out =
        results.resolve(
            String.format(
                "fph-%dM-%s-dt%d-%d.jsonl",
                sizeBytes >> 20, workload, limitMillis, System.currentTimeMillis()));
    ProcessBuilder builder =
        new ProcessBuilder("bash", directory.resolve("run.sh").toString())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.INHERIT);
    builder.environment().putAll(environment(sizeBytes, workload, append, limitMillis, reps, out));
    int exit = builder.start().waitFor();
    if (exit != 0) {
      throw new BenchmarkFailure(
          "QEMU harness " + directory.resolve("run.sh") + " exited with " + exit);
    }
    return parse(Files.readAllLines(out, StandardCharsets.UTF_8));
  }

  private Map<String, String> environment(
      long sizeBytes, String workload, String append, long limitMillis, int reps, Path out) {
    return Map.of(
        "SIZES", Long.toString(sizeBytes >> 20),
        "WORKLOADS", workload,
        "APPEND", append,
        "DOWNTIMES", Long.toString(limitMillis),
        "REPS", Integer.toString(reps),
        "RESULTS", results.toString(),
        "OUT", out.toString());
  }

  /** The runs of {@code bench.py}'s JSON lines. */
  static List<Run> parse(List<String> lines) throws IOException {
    List<Run> runs = new ArrayList<>();
    for (String line : lines) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode rec = JSON.readTree(line);
      JsonNode derived = rec.path("derived");
      JsonNode churn = rec.path("churn");
      String problem = null;
      if (rec.hasNonNull("skipped")) {
        problem = "skipped: " + rec.get("skipped").asText();
      } else if (rec.hasNonNull("error")) {
        problem = rec.get("error").asText();
      } else if (!"completed".equals(rec.path("status").asText())) {
        problem = "status " + rec.path("status").asText("none");
      }
      runs.add(
          new Run(
              "hinted".equals(rec.path("mode").asText()),
              number(derived, "total_time_ms"),
              number(derived, "downtime_ms"),
              number(derived, "transferred_mib"),
              number(derived, "dirty_sync_count"),
              number(churn, "baseline_mib_s"),
              number(churn, "span_mib_s"),
              problem));
    }
    return runs;
  }

  private static double number(JsonNode node, String field) {
    JsonNode value = node.path(field);
    return value.isNumber() ? value.asDouble() : Double.NaN;
  }
}
