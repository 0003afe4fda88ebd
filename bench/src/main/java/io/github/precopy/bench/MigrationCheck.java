package io.github.precopy.bench;

import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.PrecopyMigration;
import io.github.precopy.core.transport.DestinationReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The check every measured migration of the bench's migration programs must pass. */
final class MigrationCheck {

  private static final String GAVE_UP = "convergence policy gave up";

  private MigrationCheck() {}

  /**
   * How a migration that may not converge ended.
   *
   * @param stats its final statistics
   * @param converged whether it completed (and was verified)
   * @param outcome "completed", or "did not converge: " and why
   */
  record Ending(MigrationStats stats, boolean converged, String outcome) {}

  /**
   * Waits for {@code migration} up to {@code timeout}, cancelling it then, and tells how it ended:
   * completed and verified ({@link #completedAndVerified}), or did not converge because its
   * convergence policy gave up or the timeout cancelled it.
   *
   * @throws BenchmarkFailure for any other end, naming {@code what} (the run)
   */
  static Ending awaitConvergence(PrecopyMigration migration, Duration timeout, String what)
      throws InterruptedException, BenchmarkFailure {
    MigrationStats stats = migration.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    boolean timedOut = stats == null;
    if (timedOut) {
      migration.cancel();
      stats = migration.await();
    }
    if (stats.status() == MigrationStatus.COMPLETED) {
      completedAndVerified(stats, null);
      return new Ending(stats, true, "completed");
    }
    if (timedOut && stats.status() == MigrationStatus.CANCELLED) {
      return new Ending(
          stats, false, "did not converge: cancelled after " + timeout.toSeconds() + " s");
    }
    if (stats.status() == MigrationStatus.FAILED
        && stats.errorDescription() != null
        && stats.errorDescription().startsWith(GAVE_UP)) {
      return new Ending(stats, false, "did not converge: " + stats.errorDescription());
    }
    throw new BenchmarkFailure(
        what
            + ": migration "
            + stats.status().qemuName()
            + (stats.errorDescription() == null ? "" : ": " + stats.errorDescription()));
  }

  /**
   * Checks that the migration completed (else names its status, its error and the throttle it
   * reached, if any) and was verified without a mismatch, and, for a destination in another process
   * ({@code report} not null), that it verified the pages too and read every byte sent.
   *
   * @throws BenchmarkFailure saying everything that is not so
   */
  static void completedAndVerified(MigrationStats stats, DestinationReport report)
      throws BenchmarkFailure {
    if (stats.status() != MigrationStatus.COMPLETED) {
      long throttle =
          stats.rounds().stream()
              .mapToLong(MigrationStats.Round::cpuThrottlePercentage)
              .max()
              .orElse(0);
      throw new BenchmarkFailure(
          "migration "
              + stats.status().qemuName()
              + (stats.errorDescription() == null ? "" : ": " + stats.errorDescription())
              + (throttle == 0 ? "" : " (throttle reached " + throttle + " %)"));
    }
    List<String> problems = new ArrayList<>();
    MigrationStats.Verification verification = stats.verification();
    if (verification == null) {
      problems.add("not verified");
    } else if (verification.pagesChecked() == 0 || verification.mismatches() != 0) {
      problems.add(
          "verification found "
              + verification.mismatches()
              + " mismatches in "
              + verification.pagesChecked()
              + " pages checked");
    }
    if (report != null) {
      if (!report.verified()) {
        problems.add(
            "destination "
                + (report.completed() ? "did not verify" : "did not complete")
                + (report.failure() == null ? "" : ": " + report.failure()));
      }
      if (report.bytesRead() != stats.ram().transferred()) {
        problems.add(
            "destination read "
                + report.bytesRead()
                + " stream bytes, source sent "
                + stats.ram().transferred());
      }
    }
    if (!problems.isEmpty()) {
      throw new BenchmarkFailure(String.join("; ", problems));
    }
  }
}
