package io.github.precopy.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.precopy.bench.FidelityReference.Figure;
import io.github.precopy.bench.FidelityReference.Guest;
import io.github.precopy.bench.FidelityReference.Published;
import io.github.precopy.bench.FidelityReference.Range;
import io.github.precopy.bench.FidelityReference.Row;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The spread arithmetic of {@link GuestFidelity} and its within / outside verdict. */
final class FidelityReferenceTest {

  private static final long GIB = 1L << 30;

  @Test
  void theSpreadOfAReductionRunsFromTheWorstToTheBestPairOfRuns() {
    // 8 GiB used, 300 ms: legacy 14336 [14103-14672], hinted 835 [803-957].
    Row row = Guest.USED.row(8 * GIB, 300).orElseThrow();
    assertThat(row.totalLegacy()).isEqualTo(Figure.of(14336, 14103, 14672));
    assertThat(row.totalHinted()).isEqualTo(Figure.of(835, 803, 957));
    assertThat(row.mibHinted()).isEqualTo(Figure.of(290, 264, 290));
    Range spread = row.timeSpread();

    assertThat(spread.low()).isCloseTo(1 - 957.0 / 14103, within(1e-12));
    assertThat(spread.high()).isCloseTo(1 - 803.0 / 14672, within(1e-12));
    assertThat(spread.formatChange()).isEqualTo("−95 % to −93 %");
  }

  @Test
  void twoGibRowsJoinTheQuietRerunsMedian() {
    // 2 GiB busy, 2000 ms: first runs [1 − 8833/8025, 1 − 5876/9480] = [−10 %, 38 %];
    // the quiet re-run's 4747 → 3841 ms (19 %) lies inside.
    Row busy = Guest.BUSY.row(2 * GIB, 2000).orElseThrow();
    assertThat(busy.timeSpread().low()).isCloseTo(1 - 8833.0 / 8025, within(1e-12));
    assertThat(busy.timeSpread().high()).isCloseTo(1 - 5876.0 / 9480, within(1e-12));
    assertThat(busy.quietTimeReduction()).isCloseTo(1 - 3841.0 / 4747, within(1e-12));

    // 2 GiB idle, 300 ms: first runs [1 − 637/451, 1 − 479/998] = [−41 %, 52 %], quiet 31 %:
    // inside too; a range the quiet median lies outside of grows to it.
    Row idle = Guest.IDLE.row(2 * GIB, 300).orElseThrow();
    assertThat(idle.timeSpread())
        .isEqualTo(Range.reduction(idle.totalLegacy(), idle.totalHinted()));
    assertThat(new Range(0.10, 0.20).including(0.31)).isEqualTo(new Range(0.10, 0.31));
    assertThat(new Range(0.10, 0.20).including(0.05)).isEqualTo(new Range(0.05, 0.20));

    // 8 GiB has no quiet re-run.
    Row big = Guest.USED.row(8 * GIB, 2000).orElseThrow();
    assertThat(big.hasQuiet()).isFalse();
    assertThat(big.timeSpread()).isEqualTo(Range.reduction(big.totalLegacy(), big.totalHinted()));
  }

  @Test
  void busyRowsCarryTheGuestsWorkRate() {
    Row busy = Guest.BUSY.row(8 * GIB, 2000).orElseThrow();
    assertThat(busy.churnLegacy().ratio()).isEqualTo(Figure.of(0.70, 0.67, 0.77));
    assertThat(busy.churnHinted().ratio()).isEqualTo(Figure.of(0.46, 0.16, 0.51));
    assertThat(busy.syncsHinted()).isEqualTo(Figure.of(6, 3, 7));
    assertThat(Guest.IDLE.row(8 * GIB, 2000).orElseThrow().churnLegacy()).isNull();
  }

  @Test
  void theVerdictIsInWholePercentagePoints() {
    Range spread = new Range(0.77, 0.86); // the published idle series

    assertThat(spread.verdict(0.86)).isEqualTo("within");
    assertThat(spread.verdict(0.77)).isEqualTo("within");
    assertThat(spread.verdict(0.8649)).isEqualTo("within"); // 86 % as printed
    assertThat(spread.verdict(0.8651)).isEqualTo("outside by 1 point");
    assertThat(spread.verdict(0.92)).isEqualTo("outside by 6 points");
    assertThat(spread.verdict(0.50)).isEqualTo("outside by 27 points");
    assertThat(spread.verdict(-0.10)).isEqualTo("outside by 87 points");
    // Bounds given the wrong way round are the same range.
    assertThat(new Range(0.86, 0.77)).isEqualTo(spread);
  }

  @Test
  void figuresAreMediansWithTheRange() {
    Figure figure = Figure.of(List.of(5.0, 1.0, 3.0, 4.0));

    assertThat(figure).isEqualTo(Figure.of(3.5, 1, 5));
    assertThat(Figure.of(1079, 926, 1351).format(0)).isEqualTo("1079 [926–1351]");
    assertThat(FidelityReference.percent(-0.414)).isEqualTo("−41 %");
    assertThat(FidelityReference.percent(0.21)).isEqualTo("+21 %");
  }

  @Test
  void labelsPickTheReferenceGuest() {
    assertThat(Guest.forLabel("idle-fresh")).contains(Guest.IDLE);
    assertThat(Guest.forLabel("used")).contains(Guest.USED);
    assertThat(Guest.forLabel("busy")).contains(Guest.BUSY);
    assertThat(Guest.forLabel("seed-idle")).contains(Guest.SEED_IDLE);
    assertThat(Guest.forLabel("seed-compile")).contains(Guest.SEED_COMPILE);
    assertThat(Guest.forLabel("x")).isEmpty();
    assertThat(Guest.forLabel("idler")).isEmpty();
    // The seed rows have no row of the QEMU table (their reference is the series), but the
    // harness's nearest guests.
    assertThat(Guest.SEED_IDLE.harnessWorkload).isEqualTo("used");
    assertThat(Guest.SEED_COMPILE.published.get(0).published()).isEqualTo(0.51);
    assertThat(Guest.SEED_COMPILE.published(2L << 30, 300)).hasSize(1);
    assertThat(Guest.IDLE.row(256L << 20, 2000)).isEmpty();
    assertThat(FidelityReference.ROWS).hasSize(12);
  }

  @Test
  void theZeroingGuestsAreTheHarnessGuestsWithInitOnAllocAndTheirMediansAtTwoSeconds() {
    assertThat(Guest.forLabel("zeroing-idle")).contains(Guest.ZEROING_IDLE);
    assertThat(Guest.forLabel("zeroing-used")).contains(Guest.ZEROING_USED);
    assertThat(Guest.ZEROING_IDLE.harnessWorkload).isEqualTo("idle");
    assertThat(Guest.ZEROING_IDLE.harnessAppend).isEqualTo("init_on_alloc=1");
    assertThat(Guest.USED.harnessAppend).isEqualTo("init_on_alloc=0");
    assertThat(Guest.ZEROING_USED.row(8L << 30, 2000)).isEmpty();
    assertThat(Guest.ZEROING_USED.published(8L << 30, 300)).isEmpty();

    List<Published> idle = Guest.ZEROING_IDLE.published(2L << 30, 2000);
    assertThat(idle).hasSize(1);
    assertThat(idle.get(0).published()).isCloseTo(1 - 673.0 / 439, within(1e-9));
    assertThat(idle.get(0).spread()).isNull();
    assertThat(idle.get(0).verdict(-0.53)).isEqualTo("0 points from the median");
    assertThat(idle.get(0).verdict(0.10)).isEqualTo("63 points from the median");
    assertThat(Guest.ZEROING_USED.published(8L << 30, 2000).get(0).verdict(0.64))
        .isEqualTo("1 point from the median");
    assertThat(Guest.SEED_IDLE.published(8L << 30, 2000).get(0).verdict(0.95))
        .isEqualTo("outside by 9 points");
  }
}
