package io.github.precopy.bench;

import io.github.precopy.core.transport.DestinationReport;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a {@link LoopbackDestination} received, as the line it prints for {@link
 * DestinationProcess}: {@code RESULT} and tab-separated {@code KEY=VALUE} fields.
 *
 * @param report the destination's report, as it replied to the source
 * @param receiveMillis from listening until the reply, at the destination
 */
record ReportLine(DestinationReport report, long receiveMillis) {

  static final String PREFIX = "RESULT";

  String format() {
    return String.format(
        Locale.ROOT,
        "%s\tcompleted=%b\tnormal=%d\tzero=%d\tencoded=%d\tbytesRead=%d\tpagesVerified=%d\tmismatches=%d"
            + "\treceiveMillis=%d\tfailure=%s",
        PREFIX,
        report.completed(),
        report.normalPages(),
        report.zeroPages(),
        report.encodedPages(),
        report.bytesRead(),
        report.pagesVerified(),
        report.mismatches(),
        receiveMillis,
        report.failure() == null ? "" : Cli.oneLine(report.failure()));
  }

  /**
   * Reads a line written by {@link #format()}.
   *
   * @throws IllegalArgumentException if a field is missing or malformed
   */
  static ReportLine parse(String line) {
    Map<String, String> fields = new HashMap<>();
    String[] parts = line.split("\t", -1);
    for (int i = 1; i < parts.length; i++) {
      int equals = parts[i].indexOf('=');
      if (equals < 0) {
        throw new IllegalArgumentException("not KEY=VALUE: " + parts[i]);
      }
      fields.put(parts[i].substring(0, equals), parts[i].substring(equals + 1));
    }
    String failure = field(fields, "failure");
    return new ReportLine(
        new DestinationReport(
            Boolean.parseBoolean(field(fields, "completed")),
            number(fields, "normal"),
            number(fields, "zero"),
            number(fields, "encoded"),
            number(fields, "bytesRead"),
            number(fields, "pagesVerified"),
            number(fields, "mismatches"),
            failure.isEmpty() ? null : failure),
        number(fields, "receiveMillis"));
  }

  private static String field(Map<String, String> fields, String key) {
    String value = fields.get(key);
    if (value == null) {
      throw new IllegalArgumentException("no " + key + " field");
    }
    return value;
  }

  private static long number(Map<String, String> fields, String key) {
    return Long.parseLong(field(fields, key));
  }

  /** For the log: e.g. {@code verified, 16384 pages applied, 16384 verified, 0 mismatches, ...}. */
  @Override
  public String toString() {
    return String.format(
        Locale.ROOT,
        "%s, %d pages applied, %d verified, %d mismatches, %d bytes read in %d ms%s",
        report.verified() ? "verified" : report.completed() ? "NOT VERIFIED" : "FAILED",
        report.normalPages(),
        report.pagesVerified(),
        report.mismatches(),
        report.bytesRead(),
        receiveMillis,
        report.failure() == null ? "" : ": " + report.failure());
  }
}
