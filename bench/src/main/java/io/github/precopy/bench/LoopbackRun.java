package io.github.precopy.bench;

import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.DestinationReport;
import java.util.ArrayList;
import java.util.List;

/**
 * The rates of one migration of {@link LoopbackThroughput}.
 *
 * @param bulkGibps data bytes sent in the bulk round / the round's time, GiB/s
 * @param wholeGibps all data bytes / the migration's total time, GiB/s
 * @param bulkPages pages sent in the bulk round
 * @param bulkMillis the bulk round's time
 * @param totalMillis the migration's total time
 * @param transferred stream bytes sent
 */
record LoopbackRun(
    double bulkGibps,
    double wholeGibps,
    long bulkPages,
    long bulkMillis,
    long totalMillis,
    long transferred) {

  private static final double GIB = 1024.0 * 1024 * 1024;

  /**
   * Checks that the migration of a guest of {@code totalPages} data pages completed, that the
   * destination read every byte sent and applied every page, and that both ends verified every page
   * ({@code verified}) or, for a migration run without the page digest, that neither verified any;
   * computes its rates.
   *
   * @throws BenchmarkFailure saying everything that is not so
   */
  static LoopbackRun of(
      MigrationStats stats, DestinationReport report, long totalPages, boolean verified)
      throws BenchmarkFailure {
    List<String> problems = new ArrayList<>();
    if (stats.status() != MigrationStatus.COMPLETED) {
      problems.add("source status " + stats.status() + ": " + stats.errorDescription());
    }
    if (!report.completed()) {
      problems.add("destination did not complete: " + report.failure());
    }
    long transferred = stats.ram().transferred();
    if (report.bytesRead() != transferred) {
      problems.add(
          "destination read " + report.bytesRead() + " stream bytes, source sent " + transferred);
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
    if (verified && !report.verified()) {
      problems.add("destination report not verified: " + report.failure());
    }
    if (report.pagesVerified() != (verified ? totalPages : 0)
        || report.mismatches() != 0
        || report.normalPages() != totalPages) {
      problems.add(
          "destination applied "
              + report.normalPages()
              + " pages, verified "
              + report.pagesVerified()
              + " with "
              + report.mismatches()
              + " mismatches; expected "
              + totalPages);
    }
    MigrationStats.Verification verification = stats.verification();
    boolean sourceAsExpected =
        verified
            ? verification != null
                && verification.pagesChecked() == totalPages
                && verification.mismatches() == 0
            : verification == null;
    if (!sourceAsExpected) {
      problems.add(
          "source verification "
              + verification
              + ", expected "
              + (verified ? totalPages + " pages checked" : "none"));
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
    return new LoopbackRun(
        gibps(bulkPages, bulkMillis),
        gibps(stats.ram().normal(), stats.totalTimeMillis()),
        bulkPages,
        bulkMillis,
        stats.totalTimeMillis(),
        transferred);
  }

  private static double gibps(long pages, long millis) {
    return pages * (double) GuestMemory.PAGE_SIZE / GIB / (Math.max(1, millis) / 1000.0);
  }
}
