package io.github.precopy.bench;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The figures {@link GuestFidelity} compares the simulator with, embedded as data (not read at run
 * time): real QEMU 7.2 and a real Linux guest on this kind of machine, from {@code
 * ../shared/reference/qemu-fph-anchor.md} (measured 2026-12-02 with {@code
 * ../shared/anchors/qemu-fph/}: TCG, 4 vCPUs, {@code init_on_alloc=0}, 3 runs each, legacy and
 * hinted alternating; and its {@code init_on_alloc=1} runs, medians only), and the published QEMU
 * v7 free-page-hint series (8 GiB KVM guest).
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
   * A row known by its medians only: the published QEMU v7 series (8 GiB KVM guest; compared with
   * every case) or the reference's {@code init_on_alloc=1} runs (one size, 2 s limit, 3 runs each):
   * median total time legacy and hinted, the reduction as published (which is not always these
   * medians' own, e.g. idle 1769 → 271 ms is published as −86 %), and its spread where one was
   * published (else null).
   *
   * @param sizeMib the guest size it was measured at, 0 to compare it with every size
   * @param limitMillis the downtime limit it was measured at, 0 to compare it with every limit
   */
  record Published(
      String name,
      String setting,
      int sizeMib,
      int limitMillis,
      double legacyMillis,
      double hintedMillis,
      double published,
      Range spread) {

    /** A row of the reference's medians, its reduction their own, without a spread. */
    static Published medians(
        String name, String setting, int sizeMib, int limitMillis, double legacy, double hinted) {
      return new Published(
          name, setting, sizeMib, limitMillis, legacy, hinted, 1 - hinted / legacy, null);
    }

    boolean applies(long sizeBytes, long limit) {
      return (sizeMib == 0 || (long) sizeMib << 20 == sizeBytes)
          && (limitMillis == 0 || limitMillis == limit);
    }

    /**
     * "within", "outside by N points" of the spread, or without one, "N points from the median".
     */
    String verdict(double reduction) {
      if (spread != null) {
        return spread.verdict(reduction);
      }
      long points = Math.abs(Math.round(reduction * 100) - Math.round(published * 100));
      return points + (points == 1 ? " point" : " points") + " from the median";
    }
  }

  private static final String INIT_ON_ALLOC = "QEMU 7.2 TCG, init_on_alloc=1";

  /**
   * The guest behind a scenario: a reference workload of the QEMU table, the kernel arguments the
   * harness boots it with, and any rows known by their medians. A scenario's label picks it: {@code
   * idle}, {@code used} and {@code busy} (or a label starting with one of them and {@code -}, e.g.
   * {@code idle-fresh}), and exactly {@code seed-idle}, {@code seed-compile}, {@code zeroing-idle}
   * or {@code zeroing-used}. The seed rows are compared with the QEMU harness's {@code used} and
   * {@code busy} guests, the nearest it has (an idle guest that has run; a churn, not a compile);
   * the zeroing rows are its idle and used guests booted with {@code init_on_alloc=1}.
   */
  enum Guest {
    IDLE("idle", "idle", "init_on_alloc=0", List.of()),
    USED("used", "used", "init_on_alloc=0", List.of()),
    BUSY("busy", "busy", "init_on_alloc=0", List.of()),
    SEED_IDLE(
        "seed-idle",
        "used",
        "init_on_alloc=0",
        List.of(
            new Published("seed idle", "8 GiB KVM", 0, 0, 1769, 271, 0.86, new Range(0.77, 0.86)))),
    SEED_COMPILE(
        "seed-compile",
        "busy",
        "init_on_alloc=0",
        List.of(
            new Published(
                "seed compile", "8 GiB KVM", 0, 0, 2634, 1265, 0.51, new Range(0.44, 0.52)))),
    ZEROING_IDLE(
        "zeroing-idle",
        "idle",
        "init_on_alloc=1",
        List.of(
            Published.medians("idle", INIT_ON_ALLOC, 2048, 2000, 439, 673),
            Published.medians("idle", INIT_ON_ALLOC, 8192, 2000, 1125, 1673))),
    ZEROING_USED(
        "zeroing-used",
        "used",
        "init_on_alloc=1",
        List.of(
            Published.medians("used", INIT_ON_ALLOC, 2048, 2000, 4009, 1758),
            Published.medians("used", INIT_ON_ALLOC, 8192, 2000, 15739, 5471)));

    final String label;
    final String harnessWorkload;
    final String harnessAppend;
    final List<Published> published;

    Guest(String label, String harnessWorkload, String harnessAppend, List<Published> published) {
      this.label = label;
      this.harnessWorkload = harnessWorkload;
      this.harnessAppend = harnessAppend;
      this.published = published;
    }

    /** Whether the QEMU table has rows of this guest (else only {@link #published}). */
    boolean inTable() {
      return published.isEmpty();
    }

    /** The guest a scenario's label names; empty for a label of no reference. */
    static Optional<Guest> forLabel(String label) {
      for (Guest guest : values()) {
        if (!guest.inTable() && label.equals(guest.label)) {
          return Optional.of(guest);
        }
      }
      for (Guest guest : values()) {
        if (guest.inTable() && (label.equals(guest.label) || label.startsWith(guest.label + "-"))) {
          return Optional.of(guest);
        }
      }
      return Optional.empty();
    }

    /** The QEMU table's row of this guest's harness workload, if the reference has one. */
    Optional<Row> row(long sizeBytes, long limitMillis) {
      if (!inTable()) {
        return Optional.empty();
      }
      return ROWS.stream()
          .filter(
              r ->
                  (long) r.sizeMib() << 20 == sizeBytes
                      && r.limitMillis() == limitMillis
                      && r.workload().equals(harnessWorkload))
          .findFirst();
    }

    /** The rows known by their medians that apply to a case of this size and limit. */
    List<Published> published(long sizeBytes, long limitMillis) {
      return published.stream().filter(p -> p.applies(sizeBytes, limitMillis)).toList();
    }
  }

  /** The quiet re-run's range of the busy guest's during / baseline (2 GiB, both limits). */
  static final Range QUIET_2G_CHURN_LEGACY = new Range(0.58, 0.66);

  static final Range QUIET_2G_CHURN_HINTED = new Range(0.47, 0.55);

  private static final double NONE = Double.NaN;

  /**
   * A row from its figures in the reference's column order, each median, min, max: total time
   * legacy, hinted; downtime legacy, hinted; MiB transferred legacy, hinted; dirty syncs legacy,
   * hinted; then the quiet re-run's median total time legacy, hinted (NaN for none). A busy row's
   * churn: baseline, during, during / baseline, each median, min, max, legacy then hinted.
   */
  private static Row row(
      int sizeMib,
      String workload,
      int limitMillis,
      double[] f,
      double[] churnLegacy,
      double[] churnHinted) {
    return new Row(
        sizeMib,
        workload,
        limitMillis,
        figure(f, 0),
        figure(f, 1),
        figure(f, 2),
        figure(f, 3),
        figure(f, 4),
        figure(f, 5),
        figure(f, 6),
        figure(f, 7),
        f[24],
        f[25],
        churn(churnLegacy),
        churn(churnHinted));
  }

  private static Figure figure(double[] values, int index) {
    return Figure.of(values[3 * index], values[3 * index + 1], values[3 * index + 2]);
  }

  private static Churn churn(double[] values) {
    return values == null
        ? null
        : new Churn(figure(values, 0), figure(values, 1), figure(values, 2));
  }

  /** The table "Migration (query-migrate on the source)", with the quiet 2 GiB re-run. */
  static final List<Row> ROWS =
      List.of(
          row(
              2048,
              "idle",
              2000,
              new double[] {
                1079, 926, 1351, 634, 508, 708, 201, 64, 258, 273, 259, 320, 118, 118, 119, 109,
                108, 114, 3, 3, 3, 3, 3, 3, 507, 366
              },
              null,
              null),
          row(
              2048,
              "idle",
              300,
              new double[] {
                572, 451, 998, 489, 479, 637, 30, 26, 75, 107, 80, 149, 119, 118, 119, 107, 106,
                110, 3, 3, 3, 3, 3, 4, 530, 368
              },
              null,
              null),
          row(
              2048,
              "used",
              2000,
              new double[] {
                3882, 2904, 4912, 302, 291, 341, 861, 546, 1166, 177, 137, 217, 1551, 1551, 1551,
                106, 105, 108, 3, 3, 3, 3, 3, 3, 4193, 321
              },
              null,
              null),
          row(
              2048,
              "used",
              300,
              new double[] {
                3177, 3125, 3441, 319, 318, 332, 69, 60, 101, 102, 101, 157, 1552, 1549, 1552, 143,
                110, 168, 3, 3, 3, 3, 3, 3, 4108, 388
              },
              null,
              null),
          row(
              2048,
              "busy",
              2000,
              new double[] {
                9426, 8025, 9480, 8285, 5876, 8833, 420, 417, 487, 518, 509, 738, 1208, 1194, 1212,
                1195, 1039, 1226, 4, 4, 4, 5, 4, 6, 4747, 3841
              },
              new double[] {540, 473, 559, 356, 345, 403, 0.72, 0.64, 0.75},
              new double[] {568, 525, 668, 361, 306, 372, 0.64, 0.46, 0.71}),
          row(
              2048,
              "busy",
              300,
              new double[] {
                38218, 5661, 55556, 15925, 4577, 16642, 103, 99, 201, 119, 90, 133, 10347, 1464,
                17718, 4511, 1882, 5328, 50, 6, 84, 28, 11, 31, 5636, 4794
              },
              new double[] {562, 471, 649, 379, 349, 488, 0.81, 0.54, 0.87},
              new double[] {701, 579, 902, 528, 406, 650, 0.65, 0.58, 0.72}),
          row(
              8192,
              "idle",
              2000,
              new double[] {
                1175, 978, 1269, 1047, 826, 1172, 247, 214, 337, 283, 234, 448, 236, 236, 238, 228,
                222, 237, 3, 3, 3, 3, 3, 3, NONE, NONE
              },
              null,
              null),
          row(
              8192,
              "idle",
              300,
              new double[] {
                1185, 1170, 1211, 990, 707, 1246, 141, 122, 274, 237, 222, 247, 236, 236, 237, 230,
                224, 234, 3, 3, 3, 3, 3, 3, NONE, NONE
              },
              null,
              null),
          row(
              8192,
              "used",
              2000,
              new double[] {
                15624, 14823, 15814, 1071, 843, 4309, 2073, 1707, 2108, 527, 447, 531, 6142, 6136,
                6142, 304, 254, 1459, 3, 3, 3, 3, 3, 3, NONE, NONE
              },
              null,
              null),
          row(
              8192,
              "used",
              300,
              new double[] {
                14336, 14103, 14672, 835, 803, 957, 257, 226, 308, 236, 208, 259, 6142, 6141, 6144,
                290, 264, 290, 3, 3, 3, 3, 3, 3, NONE, NONE
              },
              null,
              null),
          row(
              8192,
              "busy",
              2000,
              new double[] {
                5631, 5365, 6421, 4512, 1969, 4773, 354, 228, 363, 433, 383, 1353, 1350, 1282, 1367,
                1207, 693, 1208, 4, 4, 4, 6, 3, 7, NONE, NONE
              },
              new double[] {929, 895, 1136, 714, 601, 794, 0.70, 0.67, 0.77},
              new double[] {1045, 1023, 1134, 476, 180, 524, 0.46, 0.16, 0.51}),
          row(
              8192,
              "busy",
              300,
              new double[] {
                6480, 6225, 7248, 6322, 5639, 6645, 131, 117, 174, 136, 93, 162, 1737, 1586, 2104,
                2095, 1664, 2127, 7, 6, 12, 9, 6, 10, NONE, NONE
              },
              new double[] {985, 980, 1109, 628, 597, 710, 0.64, 0.61, 0.64},
              new double[] {1024, 950, 1059, 551, 485, 567, 0.54, 0.51, 0.54}));
}
