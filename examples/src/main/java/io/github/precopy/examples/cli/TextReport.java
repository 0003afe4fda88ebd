package io.github.precopy.examples.cli;

import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The human-readable results of migrate: one run, or a side-by-side comparison. */
final class TextReport {

  /** The figures of capability xbzrle, as {@link MigrationStats#optimizations()} keys them. */
  static final String XBZRLE = "xbzrle";

  /** The frame codec's figures, under the parameter's name. */
  static final String COMPRESSION = "multifd-compression";

  private TextReport() {}

  /**
   * E.g. "1,234 pages encoded (2.50 MiB), 56 cache misses, 7 overflows, 64.00 MiB cache"; null if a
   * figure is missing, so that the figures are printed as they are.
   */
  private static String xbzrle(Map<String, Object> figures) {
    Long pages = number(figures, "pages");
    Long bytes = number(figures, "bytes");
    Long misses = number(figures, "cache-miss");
    Long overflow = number(figures, "overflow");
    Long cacheSize = number(figures, "cache-size");
    if (pages == null || bytes == null || misses == null || overflow == null) {
      return null;
    }
    return count(pages)
        + " pages encoded ("
        + Sizes.format(bytes)
        + "), "
        + count(misses)
        + (misses == 1 ? " cache miss, " : " cache misses, ")
        + count(overflow)
        + (overflow == 1 ? " overflow" : " overflows")
        + (cacheSize == null ? "" : ", " + Sizes.format(cacheSize) + " cache");
  }

  /**
   * E.g. "zstd, 1.00 GiB -> 250.00 MiB (ratio 4.10)"; null if a figure is missing, so that the
   * figures are printed as they are.
   */
  private static String compression(Map<String, Object> figures) {
    Object codec = figures.get("codec");
    Long before = number(figures, "uncompressed-bytes");
    Long after = number(figures, "compressed-bytes");
    if (codec == null || before == null || after == null) {
      return null;
    }
    return codec
        + ", "
        + Sizes.format(before)
        + " -> "
        + Sizes.format(after)
        + (after > 0 ? String.format(Locale.ROOT, " (ratio %.2f)", (double) before / after) : "");
  }

  /** A whole-number figure, or null if absent or not a number. */
  private static Long number(Map<String, Object> figures, String key) {
    return figures.get(key) instanceof Number value ? value.longValue() : null;
  }

  /** The figures of one run, one per line. */
  static String of(RunResult run) {
    MigrationStats stats = run.stats();
    MigrationStats.Ram ram = stats.ram();
    List<String[]> rows = new ArrayList<>();
    rows.add(row("status", stats.status().qemuName()));
    rows.add(row("total time", millis(stats.totalTimeMillis())));
    rows.add(row("downtime", downtime(stats)));
    rows.add(row("setup time", millis(stats.setupTimeMillis())));
    rows.add(
        row(
            "transferred",
            Sizes.format(ram.transferred()) + " (" + count(ram.transferred()) + " bytes)"));
    rows.add(
        row(
            "pages",
            "normal "
                + count(ram.normal())
                + ", zero "
                + count(ram.duplicate())
                + ", hinted "
                + count(run.hintedPages())));
    rows.add(row("syncs", count(ram.dirtySyncCount())));
    rows.add(
        row(
            "mbps",
            String.format(
                Locale.ROOT,
                "%,.1f in the last 100 ms, %,.1f on average",
                ram.mbps(),
                averageMbps(stats))));
    rows.add(row("verification", verification(stats)));
    for (Map.Entry<String, Map<String, Object>> optimization : stats.optimizations().entrySet()) {
      Map<String, Object> figures = optimization.getValue();
      if (figures.isEmpty()) {
        continue; // An optimisation with nothing to report, e.g. capability compression's.
      }
      String line =
          switch (optimization.getKey()) {
            case XBZRLE -> xbzrle(figures);
            case COMPRESSION -> compression(figures);
            default -> null;
          };
      rows.add(
          row(
              optimization.getKey(),
              line != null
                  ? line
                  : figures.entrySet().stream()
                      .sorted(Map.Entry.comparingByKey())
                      .map(e -> e.getKey() + "=" + e.getValue())
                      .collect(Collectors.joining(" "))));
    }
    if (stats.errorDescription() != null) {
      rows.add(row("error", stats.errorDescription()));
    }
    return table(rows);
  }

  /** The downtime, marked when it broke the limit. */
  private static String downtime(MigrationStats stats) {
    return millis(stats.downtimeMillis())
        + (stats.downtimeLimitExceeded() ? " (over the limit)" : "");
  }

  /** Runs side by side, the first being the legacy run the others are compared with. */
  static String compare(List<RunResult> runs) {
    RunResult legacy = runs.get(0);
    List<String[]> rows = new ArrayList<>();
    rows.add(header(runs));
    rows.add(line(runs, "status", r -> r.stats().status().qemuName()));
    rows.add(line(runs, "total time", r -> millis(r.stats().totalTimeMillis())));
    rows.add(line(runs, "downtime", r -> downtime(r.stats())));
    rows.add(line(runs, "bytes sent", r -> Sizes.format(r.stats().ram().transferred())));
    rows.add(line(runs, "pages sent (normal)", r -> count(r.stats().ram().normal())));
    rows.add(line(runs, "zero pages", r -> count(r.stats().ram().duplicate())));
    rows.add(line(runs, "hinted pages", r -> count(r.hintedPages())));
    if (runs.stream().anyMatch(r -> r.stats().optimizations().containsKey(XBZRLE))) {
      rows.add(
          line(
              runs,
              "xbzrle pages",
              r -> {
                Map<String, Object> figures = r.stats().optimizations().get(XBZRLE);
                Long pages = figures == null ? null : number(figures, "pages");
                return pages == null ? "-" : count(pages);
              }));
    }
    rows.add(line(runs, "syncs", r -> count(r.stats().ram().dirtySyncCount())));
    rows.add(
        line(
            runs,
            "time reduction",
            r ->
                r == legacy
                    ? "-"
                    : reduction(legacy.stats().totalTimeMillis(), r.stats().totalTimeMillis())));
    rows.add(
        line(
            runs,
            "bytes reduction",
            r ->
                r == legacy
                    ? "-"
                    : reduction(
                        legacy.stats().ram().transferred(), r.stats().ram().transferred())));
    rows.add(line(runs, "verification", r -> verificationShort(r.stats())));
    return table(rows);
  }

  private static String[] header(List<RunResult> runs) {
    String[] cells = new String[runs.size() + 1];
    cells[0] = "";
    for (int i = 0; i < runs.size(); i++) {
      cells[i + 1] = runs.get(i).label();
    }
    return cells;
  }

  private static String[] line(
      List<RunResult> runs, String name, Function<RunResult, String> cell) {
    String[] cells = new String[runs.size() + 1];
    cells[0] = name;
    for (int i = 0; i < runs.size(); i++) {
      cells[i + 1] = cell.apply(runs.get(i));
    }
    return cells;
  }

  private static String[] row(String name, String value) {
    return new String[] {name, value};
  }

  /** Left-aligned columns two spaces apart; no trailing blanks. */
  private static String table(List<String[]> rows) {
    int columns = rows.get(0).length;
    int[] widths = new int[columns];
    for (String[] cells : rows) {
      for (int i = 0; i < columns; i++) {
        widths[i] = Math.max(widths[i], cells[i].length());
      }
    }
    StringBuilder text = new StringBuilder();
    for (String[] cells : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        line.append(cells[i]);
        if (i < columns - 1) {
          line.append(" ".repeat(widths[i] - cells[i].length() + 2));
        }
      }
      text.append(line.toString().stripTrailing()).append(System.lineSeparator());
    }
    return text.toString();
  }

  private static String verification(MigrationStats stats) {
    MigrationStats.Verification verification = stats.verification();
    if (verification == null) {
      return stats.status() == MigrationStatus.COMPLETED
          ? "at the destination (a snapshot is verified by 'incoming --from-file')"
          : "not done";
    }
    return count(verification.pagesChecked())
        + " pages checked, "
        + count(verification.mismatches())
        + " mismatches";
  }

  private static String verificationShort(MigrationStats stats) {
    MigrationStats.Verification verification = stats.verification();
    if (verification == null) {
      return "not done";
    }
    return verification.mismatches() == 0
        ? "ok (" + count(verification.pagesChecked()) + " pages)"
        : count(verification.mismatches()) + " mismatches";
  }

  private static double averageMbps(MigrationStats stats) {
    long millis = stats.totalTimeMillis();
    return millis <= 0 ? 0 : stats.ram().transferred() * 8.0 / 1000.0 / millis;
  }

  /** How much smaller {@code value} is than {@code base}, in percent (negative if larger). */
  private static String reduction(long base, long value) {
    if (base <= 0) {
      return "-";
    }
    return String.format(Locale.ROOT, "%.1f %%", 100.0 * (base - value) / base);
  }

  private static String millis(long millis) {
    return count(millis) + " ms";
  }

  private static String count(long value) {
    return String.format(Locale.ROOT, "%,d", value);
  }
}
