package io.github.precopy.bench;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The figures {@link GuestFidelity} compares the simulator with, embedded as data (not read at run
 * time): real QEMU 7.2 and a real Linux guest on this kind of machine, from {@code
 * ../shared/reference/qemu-fph-anchor.md} (measured 2026-12-02 with {@code
 * ../shared/anchors/qemu-fph/}: TCG, 4 vCPUs, {@code init_on_alloc=0}, 3 runs each, legacy and
 * hinted alternating), and the published QEMU v7 free-page-hint series (8 GiB KVM guest).
 *
 * <p>The spread of a reduction is computed from the runs' ranges as {@code [1 − hintedMax /
 * legacyMin, 1 − hintedMin / legacyMax]}: the least and the most any hinted run saved against any
 * legacy run. For 2 GiB the reference also has a re-run on a quieter machine (sections "Re-run on a
 * quieter machine" and "Final quiet 2 GiB busy rows", medians only); as the reference says ("Take
 * both runs as the spread"), the spread is the union of the first runs' spread and the quiet
 * re-run's median reduction.
 */
final class FidelityReference {

  /** The date of the reference measurement, for the output. */
  static final String DATE = "2026-12-02";

  private FidelityReference() {}

  /** A median with the range of the runs. */
  record Figure(double median, double min, double max) {

    static Figure of(double median, double min, double max) {
      return new Figure(median, min, max);
    }

    /** The median and range of {@code values}, which must not be empty. */
    static Figure of(List<Double> values) {
      double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      return new Figure(Median.of(values, v -> v), sorted[0], sorted[sorted.length - 1]);
    }

    /** E.g. {@code 1079 [926–1351]}, with {@code decimals} decimals. */
    String format(int decimals) {
      String number = "%." + decimals + "f";
      return String.format(
          Locale.ROOT, number + " [" + number + "–" + number + "]", median, min, max);
    }
  }

  /**
   * A closed range of fractions (a reduction, a rate ratio) and where a value lies against it, in
   * percentage points.
   */
  record Range(double low, double high) {

    Range {
      if (low > high) {
        double swap = low;
        low = high;
        high = swap;
      }
    }

    /**
     * The spread of the reduction {@code 1 − hinted / legacy}: {@code [1 − hinted.max / legacy.min,
     * 1 − hinted.min / legacy.max]}.
     */
    static Range reduction(Figure legacy, Figure hinted) {
      return new Range(1 - hinted.max() / legacy.min(), 1 - hinted.min() / legacy.max());
    }

    /** The smallest range holding this one and {@code value}. */
    Range including(double value) {
      return new Range(Math.min(low, value), Math.max(high, value));
    }

    /**
     * "within", or "outside by N points": compared in whole percentage points (each value rounded
     * to the nearest point, as the reference prints them), N the distance to the nearer bound.
     */
    String verdict(double value) {
      long v = points(value);
      long lo = points(low);
      long hi = points(high);
      long outside = v < lo ? lo - v : v > hi ? v - hi : 0;
      return outside == 0
          ? "within"
          : "outside by " + outside + (outside == 1 ? " point" : " points");
    }

    /** As a change of the figure in percent, e.g. {@code −62 % to −24 %} for reductions. */
    String formatChange() {
      return String.format(Locale.ROOT, "%s to %s", percent(-high), percent(-low));
    }

    /** As plain fractions, e.g. {@code 0.46–0.71}. */
    String formatFractions() {
      return String.format(Locale.ROOT, "%.2f–%.2f", low, high);
    }

    private static long points(double fraction) {
      return Math.round(fraction * 100);
    }
  }

  /** A signed whole percentage of a fraction, e.g. {@code −41 %} or {@code +21 %}. */
  static String percent(double fraction) {
    long points = Math.round(fraction * 100);
    return (points > 0 ? "+" : points < 0 ? "−" : "") + Math.abs(points) + " %";
  }

  /**
   * The guest's own work rate around a migration (busy guest, bytes written by the guest program
   * per second): baseline over 10 s before {@code migrate}, during from {@code migrate} to
   * completion (downtime included), and during / baseline.
   */
  record Churn(Figure baselineMibs, Figure duringMibs, Figure ratio) {}

  /**
   * One row of the migration table, per mode: total time (ms), downtime (ms), transferred (MiB),
   * dirty syncs; for 2 GiB the quiet re-run's median total times (else NaN); for busy the churn
   * rates (else null).
   */
  record Row(
      int sizeMib,
      String workload,
      int limitMillis,
      Figure totalLegacy,
      Figure totalHinted,
      Figure downtimeLegacy,
      Figure downtimeHinted,
      Figure mibLegacy,
      Figure mibHinted,
      Figure syncsLegacy,
      Figure syncsHinted,
      double quietLegacyMillis,
      double quietHintedMillis,
      Churn churnLegacy,
      Churn churnHinted) {

    boolean hasQuiet() {
      return !Double.isNaN(quietLegacyMillis);
    }

    /** The median reduction of total time, first runs. */
    double timeReduction() {
      return 1 - totalHinted.median() / totalLegacy.median();
    }

    /** The quiet re-run's median reduction of total time (NaN without one). */
    double quietTimeReduction() {
      return 1 - quietHintedMillis / quietLegacyMillis;
    }

    /** The spread of the total time's reduction, with the quiet re-run's where there is one. */
    Range timeSpread() {
      Range first = Range.reduction(totalLegacy, totalHinted);
      return hasQuiet() ? first.including(quietTimeReduction()) : first;
    }

    double bytesReduction() {
      return 1 - mibHinted.median() / mibLegacy.median();
    }

    /** The spread of the reduction of bytes transferred (the quiet re-run has no byte figures). */
    Range bytesSpread() {
      return Range.reduction(mibLegacy, mibHinted);
    }
  }

  /**
   * A row of the published QEMU v7 series (8 GiB KVM guest): median total time legacy and hinted,
   * the reduction as published (which is not always these medians' own, e.g. idle 1769 → 271 ms is
   * published as −86 %), and the series' own spread of the reduction.
   */
  record Seed(
      String name, double legacyMillis, double hintedMillis, double published, Range spread) {}

  /**
   * The guest behind a scenario: a reference workload of the QEMU table and, for the published
   * seed, its row. A scenario's label picks it: {@code idle}, {@code used} and {@code busy} (or a
   * label starting with one of them and {@code -}, e.g. {@code idle-fresh}), {@code seed-idle} and
   * {@code seed-compile}; the seed rows are compared with the QEMU harness's {@code used} and
   * {@code busy} guests, the nearest it has (an idle guest that has run; a churn, not a compile).
   */
  enum Guest {
    IDLE("idle", "idle", null),
    USED("used", "used", null),
    BUSY("busy", "busy", null),
    SEED_IDLE("seed-idle", "used", new Seed("idle", 1769, 271, 0.86, new Range(0.77, 0.86))),
    SEED_COMPILE(
        "seed-compile", "busy", new Seed("compile", 2634, 1265, 0.51, new Range(0.44, 0.52)));

    final String label;
    final String harnessWorkload;
    final Seed seed;

    Guest(String label, String harnessWorkload, Seed seed) {
      this.label = label;
      this.harnessWorkload = harnessWorkload;
      this.seed = seed;
    }

    /** The guest a scenario's label names; empty for a label of no reference. */
    static Optional<Guest> forLabel(String label) {
      for (Guest guest : values()) {
        if (guest.seed != null && label.equals(guest.label)) {
          return Optional.of(guest);
        }
      }
      for (Guest guest : values()) {
        if (guest.seed == null
            && (label.equals(guest.label) || label.startsWith(guest.label + "-"))) {
          return Optional.of(guest);
        }
      }
      return Optional.empty();
    }

    /** The QEMU table's row of this guest's harness workload, if the reference has one. */
    Optional<Row> row(long sizeBytes, long limitMillis) {
      return ROWS.stream()
          .filter(
              r ->
                  (long) r.sizeMib() << 20 == sizeBytes
                      && r.limitMillis() == limitMillis
                      && r.workload().equals(harnessWorkload))
          .findFirst();
    }
  }

  /** The quiet re-run's range of the busy guest's during / baseline (2 GiB, both limits). */
  static final Range QUIET_2G_CHURN_LEGACY = new Range(0.58, 0.66);

  static final Range QUIET_2G_CHURN_HINTED = new Range(0.47, 0.55);

  private static final double NONE = Double.NaN;

  private static Figure f(double median, double min, double max) {
    return Figure.of(median, min, max);
  }

  private static Churn churn(Figure baseline, Figure during, Figure ratio) {
    return new Churn(baseline, during, ratio);
  }

  /** The table "Migration (query-migrate on the source)", with the quiet 2 GiB re-run. */
  static final List<Row> ROWS =
      List.of(
          new Row(
              2048,
              "idle",
              2000,
              f(1079, 926, 1351),
              f(634, 508, 708),
              f(201, 64, 258),
              f(273, 259, 320),
              f(118, 118, 119),
              f(109, 108, 114),
              f(3, 3, 3),
              f(3, 3, 3),
              507,
              366,
              null,
              null),
          new Row(
              2048,
              "idle",
              300,
              f(572, 451, 998),
              f(489, 479, 637),
              f(30, 26, 75),
              f(107, 80, 149),
              f(119, 118, 119),
              f(107, 106, 110),
              f(3, 3, 3),
              f(3, 3, 4),
              530,
              368,
              null,
              null),
          new Row(
              2048,
              "used",
              2000,
              f(3882, 2904, 4912),
              f(302, 291, 341),
              f(861, 546, 1166),
              f(177, 137, 217),
              f(1551, 1551, 1551),
              f(106, 105, 108),
              f(3, 3, 3),
              f(3, 3, 3),
              4193,
              321,
              null,
              null),
          new Row(
              2048,
              "used",
              300,
              f(3177, 3125, 3441),
              f(319, 318, 332),
              f(69, 60, 101),
              f(102, 101, 157),
              f(1552, 1549, 1552),
              f(143, 110, 168),
              f(3, 3, 3),
              f(3, 3, 3),
              4108,
              388,
              null,
              null),
          new Row(
              2048,
              "busy",
              2000,
              f(9426, 8025, 9480),
              f(8285, 5876, 8833),
              f(420, 417, 487),
              f(518, 509, 738),
              f(1208, 1194, 1212),
              f(1195, 1039, 1226),
              f(4, 4, 4),
              f(5, 4, 6),
              4747,
              3841,
              churn(f(540, 473, 559), f(356, 345, 403), f(0.72, 0.64, 0.75)),
              churn(f(568, 525, 668), f(361, 306, 372), f(0.64, 0.46, 0.71))),
          new Row(
              2048,
              "busy",
              300,
              f(38218, 5661, 55556),
              f(15925, 4577, 16642),
              f(103, 99, 201),
              f(119, 90, 133),
              f(10347, 1464, 17718),
              f(4511, 1882, 5328),
              f(50, 6, 84),
              f(28, 11, 31),
              5636,
              4794,
              churn(f(562, 471, 649), f(379, 349, 488), f(0.81, 0.54, 0.87)),
              churn(f(701, 579, 902), f(528, 406, 650), f(0.65, 0.58, 0.72))),
          new Row(
              8192,
              "idle",
              2000,
              f(1175, 978, 1269),
              f(1047, 826, 1172),
              f(247, 214, 337),
              f(283, 234, 448),
              f(236, 236, 238),
              f(228, 222, 237),
              f(3, 3, 3),
              f(3, 3, 3),
              NONE,
              NONE,
              null,
              null),
          new Row(
              8192,
              "idle",
              300,
              f(1185, 1170, 1211),
              f(990, 707, 1246),
              f(141, 122, 274),
              f(237, 222, 247),
              f(236, 236, 237),
              f(230, 224, 234),
              f(3, 3, 3),
              f(3, 3, 3),
              NONE,
              NONE,
              null,
              null),
          new Row(
              8192,
              "used",
              2000,
              f(15624, 14823, 15814),
              f(1071, 843, 4309),
              f(2073, 1707, 2108),
              f(527, 447, 531),
              f(6142, 6136, 6142),
              f(304, 254, 1459),
              f(3, 3, 3),
              f(3, 3, 3),
              NONE,
              NONE,
              null,
              null),
          new Row(
              8192,
              "used",
              300,
              f(14336, 14103, 14672),
              f(835, 803, 957),
              f(257, 226, 308),
              f(236, 208, 259),
              f(6142, 6141, 6144),
              f(290, 264, 290),
              f(3, 3, 3),
              f(3, 3, 3),
              NONE,
              NONE,
              null,
              null),
          new Row(
              8192,
              "busy",
              2000,
              f(5631, 5365, 6421),
              f(4512, 1969, 4773),
              f(354, 228, 363),
              f(433, 383, 1353),
              f(1350, 1282, 1367),
              f(1207, 693, 1208),
              f(4, 4, 4),
              f(6, 3, 7),
              NONE,
              NONE,
              churn(f(929, 895, 1136), f(714, 601, 794), f(0.70, 0.67, 0.77)),
              churn(f(1045, 1023, 1134), f(476, 180, 524), f(0.46, 0.16, 0.51))),
          new Row(
              8192,
              "busy",
              300,
              f(6480, 6225, 7248),
              f(6322, 5639, 6645),
              f(131, 117, 174),
              f(136, 93, 162),
              f(1737, 1586, 2104),
              f(2095, 1664, 2127),
              f(7, 6, 12),
              f(9, 6, 10),
              NONE,
              NONE,
              churn(f(985, 980, 1109), f(628, 597, 710), f(0.64, 0.61, 0.64)),
              churn(f(1024, 950, 1059), f(551, 485, 567), f(0.54, 0.51, 0.54))));
}
