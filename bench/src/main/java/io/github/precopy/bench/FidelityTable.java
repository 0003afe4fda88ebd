package io.github.precopy.bench;

import io.github.precopy.bench.FidelityReference.Churn;
import io.github.precopy.bench.FidelityReference.Figure;
import io.github.precopy.bench.FidelityReference.Range;
import io.github.precopy.bench.FidelityReference.Row;
import io.github.precopy.sim.Units;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/**
 * The Markdown table {@link GuestFidelity} prints per scenario: per (size, downtime limit) a few
 * lines, each a figure of ours, the reference's, the QEMU harness's of this run (with {@code
 * --qemu}) and whether ours lies within the reference's spread (and the harness's). Figures are
 * medians [min–max] over the runs; changes are of the medians, hinted against legacy.
 */
final class FidelityTable {

  /**
   * The length of the seed's guest job: its Linux compile took about 5 minutes (4 min 56 s hinted,
   * 5 min 3 s legacy) with one migration during it.
   */
  static final double SEED_JOB_MILLIS = 300_000;

  private static final double MIB = 1 << 20;
  private static final String NONE = "–";

  private final boolean withQemu;

  FidelityTable(boolean withQemu) {
    this.withQemu = withQemu;
  }

  void printHeader(String transport) {
    StringBuilder header =
        new StringBuilder(
                "| size | limit | figure | ours (" + transport + ") | reference (QEMU 7.2, ")
            .append(FidelityReference.DATE)
            .append(") |");
    StringBuilder rule = new StringBuilder("|---|---:|---|---|---|");
    if (withQemu) {
      header.append(" QEMU now |");
      rule.append("---|");
    }
    header.append(" ours vs reference |");
    rule.append("---|");
    if (withQemu) {
      header.append(" ours vs QEMU now |");
      rule.append("---|");
    }
    System.out.println(header);
    System.out.println(rule);
  }

  void printFailure(long size, long limit, String message) {
    line(size, limit, "FAILED", Cli.oneLine(message), NONE, NONE, NONE, NONE);
  }

  /** The lines of one case. {@code now} is null without {@code --qemu}. */
  void printCase(
      FidelityScenario scenario,
      Optional<FidelityReference.Guest> guest,
      long size,
      long limit,
      List<GuestFidelity.Run> ours,
      List<FphHarness.Run> now) {
    Optional<Row> ref = guest.flatMap(g -> g.row(size, limit));
    List<FphHarness.Run> counted = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    if (now != null) {
      for (FphHarness.Run run : now) {
        if (run.problem() == null) {
          counted.add(run);
        } else {
          problems.add(run.problem());
        }
      }
    }
    Side<GuestFidelity.Run> o = new Side<>(ours, GuestFidelity.Run::hinted);
    Side<FphHarness.Run> q = new Side<>(counted, FphHarness.Run::hinted);

    // Total time.
    Figure oL = o.legacy(r -> r.totalMillis());
    Figure oH = o.hinted(r -> r.totalMillis());
    Figure qL = q.legacy(FphHarness.Run::totalMillis);
    Figure qH = q.hinted(FphHarness.Run::totalMillis);
    line(
        size,
        limit,
        "total time, ms: legacy → hinted",
        arrow(oL, oH, 0),
        ref.map(r -> arrow(r.totalLegacy(), r.totalHinted(), 0) + quiet(r)).orElse(NONE),
        arrow(qL, qH, 0),
        "",
        "");
    double oursTime = 1 - oH.median() / oL.median();
    line(
        size,
        limit,
        "total time change",
        FidelityReference.percent(-oursTime),
        ref.map(
                r ->
                    FidelityReference.percent(-r.timeReduction())
                        + (r.hasQuiet()
                            ? " (quiet " + FidelityReference.percent(-r.quietTimeReduction()) + ")"
                            : "")
                        + ", spread "
                        + r.timeSpread().formatChange())
            .orElse(NONE),
        change(qL, qH),
        ref.map(r -> r.timeSpread().verdict(oursTime)).orElse(NONE),
        qL == null || qH == null ? NONE : Range.reduction(qL, qH).verdict(oursTime));

    // Bytes transferred.
    Figure bL = o.legacy(r -> r.transferred() / MIB);
    Figure bH = o.hinted(r -> r.transferred() / MIB);
    Figure qbL = q.legacy(FphHarness.Run::transferredMib);
    Figure qbH = q.hinted(FphHarness.Run::transferredMib);
    line(
        size,
        limit,
        "MiB sent: legacy → hinted",
        arrow(bL, bH, 0),
        ref.map(r -> arrow(r.mibLegacy(), r.mibHinted(), 0)).orElse(NONE),
        arrow(qbL, qbH, 0),
        "",
        "");
    double oursBytes = 1 - bH.median() / bL.median();
    line(
        size,
        limit,
        "MiB sent change",
        FidelityReference.percent(-oursBytes),
        ref.map(
                r ->
                    FidelityReference.percent(-r.bytesReduction())
                        + ", spread "
                        + r.bytesSpread().formatChange())
            .orElse(NONE),
        change(qbL, qbH),
        ref.map(r -> r.bytesSpread().verdict(oursBytes)).orElse(NONE),
        qbL == null || qbH == null ? NONE : Range.reduction(qbL, qbH).verdict(oursBytes));

    line(
        size,
        limit,
        "downtime, ms: legacy / hinted",
        slash(o.legacy(r -> r.downtimeMillis()), o.hinted(r -> r.downtimeMillis()), 0),
        ref.map(r -> slash(r.downtimeLegacy(), r.downtimeHinted(), 0)).orElse(NONE),
        slash(
            q.legacy(FphHarness.Run::downtimeMillis), q.hinted(FphHarness.Run::downtimeMillis), 0),
        "",
        "");
    line(
        size,
        limit,
        "dirty syncs: legacy / hinted",
        slash(o.legacy(r -> r.dirtySyncs()), o.hinted(r -> r.dirtySyncs()), 0),
        ref.map(r -> slash(r.syncsLegacy(), r.syncsHinted(), 0)).orElse(NONE),
        slash(q.legacy(FphHarness.Run::dirtySyncs), q.hinted(FphHarness.Run::dirtySyncs), 0),
        "",
        "");

    boolean busy =
        scenario.workload().equals("busy")
            || guest.map(g -> g.harnessWorkload.equals("busy")).orElse(false);
    if (busy) {
      line(
          size,
          limit,
          "guest work before migrate, MiB/s: legacy / hinted",
          slash(
              o.legacy(r -> r.baselineBytesPerSecond() / MIB),
              o.hinted(r -> r.baselineBytesPerSecond() / MIB),
              0),
          churn(ref, Churn::baselineMibs, 0),
          slash(q.legacy(FphHarness.Run::baselineMibs), q.hinted(FphHarness.Run::baselineMibs), 0),
          "",
          "");
      workRatio(
          size,
          limit,
          "legacy",
          o.legacy(GuestFidelity.Run::workRatio),
          ref,
          false,
          q.legacy(FphHarness.Run::workRatio));
      workRatio(
          size,
          limit,
          "hinted",
          o.hinted(GuestFidelity.Run::workRatio),
          ref,
          true,
          q.hinted(FphHarness.Run::workRatio));
      Figure lostLegacy = o.legacy(GuestFidelity.Run::workLostWhileRunningMillis);
      Figure lostHinted = o.hinted(GuestFidelity.Run::workLostWhileRunningMillis);
      line(
          size,
          limit,
          "guest work lost while it ran, ms of its own time: legacy / hinted",
          slash(lostLegacy, lostHinted, 0),
          NONE,
          NONE,
          "",
          "");
      double legacyLost =
          lostLegacy.median() + o.legacy(GuestFidelity.Run::downtimeMillis).median();
      double hintedLost =
          lostHinted.median() + o.hinted(GuestFidelity.Run::downtimeMillis).median();
      line(
          size,
          limit,
          "guest work lost to the migration (while it ran and paused), ms: legacy / hinted",
          String.format(java.util.Locale.ROOT, "%.0f / %.0f", legacyLost, hintedLost),
          NONE,
          NONE,
          "",
          "");
      double quotient = (SEED_JOB_MILLIS - hintedLost) / (SEED_JOB_MILLIS - legacyLost);
      line(
          size,
          limit,
          "hinted / legacy work rate of a 5-minute job migrated once (seed: compile, within 2 %)",
          String.format(java.util.Locale.ROOT, "%.4f", quotient),
          NONE,
          NONE,
          quotient >= 0.98
              ? "within 2 %"
              : String.format(java.util.Locale.ROOT, "lower by %.1f %%", 100 * (1 - quotient)),
          "");
    }

    for (FidelityReference.Published p :
        guest.map(g -> g.published(size, limit)).orElse(List.of())) {
      line(
          size,
          limit,
          p.name() + " (" + p.setting() + "): total time change",
          FidelityReference.percent(-oursTime),
          String.format(
              java.util.Locale.ROOT,
              "%.0f → %.0f ms, %s%s",
              p.legacyMillis(),
              p.hintedMillis(),
              FidelityReference.percent(-p.published()),
              p.spread() == null ? "" : ", series' spread " + p.spread().formatChange()),
          change(qL, qH),
          p.verdict(oursTime),
          qL == null || qH == null ? NONE : Range.reduction(qL, qH).verdict(oursTime));
    }
    if (!problems.isEmpty()) {
      line(
          size,
          limit,
          "QEMU now: runs left out",
          "",
          "",
          problems.size() + " of " + now.size() + ": " + Cli.oneLine(problems.get(0)),
          "",
          "");
    }
  }

  /** The line of the guest's work during / before migrating, in one mode. */
  private void workRatio(
      long size,
      long limit,
      String mode,
      Figure ours,
      Optional<Row> ref,
      boolean hinted,
      Figure now) {
    Optional<Figure> refRatio =
        ref.map(r -> hinted ? r.churnHinted() : r.churnLegacy())
            .filter(c -> c != null)
            .map(Churn::ratio);
    Optional<Range> spread =
        refRatio.map(
            f -> {
              Range range = new Range(f.min(), f.max());
              if (size == 2L << 30) {
                Range quiet =
                    hinted
                        ? FidelityReference.QUIET_2G_CHURN_HINTED
                        : FidelityReference.QUIET_2G_CHURN_LEGACY;
                range = range.including(quiet.low()).including(quiet.high());
              }
              return range;
            });
    line(
        size,
        limit,
        "guest work during / before migrate, " + mode,
        ours.format(2),
        refRatio
            .map(
                f ->
                    f.format(2)
                        + (size == 2L << 30
                            ? "; quiet "
                                + (hinted
                                        ? FidelityReference.QUIET_2G_CHURN_HINTED
                                        : FidelityReference.QUIET_2G_CHURN_LEGACY)
                                    .formatFractions()
                            : ""))
            .orElse(NONE),
        now == null ? NONE : now.format(2),
        spread.map(r -> r.verdict(ours.median())).orElse(NONE),
        now == null ? NONE : new Range(now.min(), now.max()).verdict(ours.median()));
  }

  private static String churn(Optional<Row> ref, Function<Churn, Figure> which, int decimals) {
    return ref.filter(r -> r.churnLegacy() != null)
        .map(r -> slash(which.apply(r.churnLegacy()), which.apply(r.churnHinted()), decimals))
        .orElse(NONE);
  }

  private void line(
      long size,
      long limit,
      String figure,
      String ours,
      String reference,
      String now,
      String verdict,
      String nowVerdict) {
    StringBuilder text =
        new StringBuilder("| ")
            .append(Units.formatSize(size))
            .append(" | ")
            .append(limit)
            .append(" ms | ")
            .append(figure)
            .append(" | ")
            .append(ours)
            .append(" | ")
            .append(reference)
            .append(" |");
    if (withQemu) {
      text.append(' ').append(now).append(" |");
    }
    text.append(' ').append(verdict).append(" |");
    if (withQemu) {
      text.append(' ').append(nowVerdict).append(" |");
    }
    System.out.println(text);
  }

  private static String quiet(Row row) {
    return row.hasQuiet()
        ? String.format(
            java.util.Locale.ROOT,
            "; quiet %.0f → %.0f",
            row.quietLegacyMillis(),
            row.quietHintedMillis())
        : "";
  }

  private static String arrow(Figure legacy, Figure hinted, int decimals) {
    return legacy == null || hinted == null
        ? NONE
        : legacy.format(decimals) + " → " + hinted.format(decimals);
  }

  private static String slash(Figure legacy, Figure hinted, int decimals) {
    return legacy == null || hinted == null
        ? NONE
        : legacy.format(decimals) + " / " + hinted.format(decimals);
  }

  private static String change(Figure legacy, Figure hinted) {
    return legacy == null || hinted == null
        ? NONE
        : FidelityReference.percent(hinted.median() / legacy.median() - 1)
            + ", spread "
            + Range.reduction(legacy, hinted).formatChange();
  }

  /** The runs of one side, split by mode. */
  private record Side<T>(List<T> runs, Predicate<T> hinted) {

    Figure legacy(ToDoubleFunction<T> metric) {
      return GuestFidelity.figure(runs, hinted.negate(), metric);
    }

    Figure hinted(ToDoubleFunction<T> metric) {
      return GuestFidelity.figure(runs, hinted, metric);
    }
  }
}
