package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The cost of a page by kind, from windows of a migration, for the expected downtime. */
final class PageCostsTest {

  private static final long MS = 1_000_000;

  @Test
  void nothingIsExpectedToFitBeforeAWindowHasMeasuredDataPages() {
    PageCosts costs = new PageCosts();
    costs.window(100 * MS, 0, 1_000_000);

    assertThat(costs.measured()).isFalse();
    assertThat(costs.estimateNanos(10, 0)).isEqualTo(Long.MAX_VALUE);
  }

  /**
   * A migration that sent everything within its first window (a small or all-zero guest) has
   * measured nothing, yet must switch over: nothing left costs nothing, and zero pages alone cost
   * what zero-page windows took, or are unknown until one did.
   */
  @Test
  void nothingLeftCostsNothingAndZeroPagesAloneNeedOnlyTheirOwnCost() {
    PageCosts costs = new PageCosts();

    assertThat(costs.estimateNanos(0, 0)).isZero();
    assertThat(costs.estimateNanos(0, 5)).isEqualTo(Long.MAX_VALUE);
    costs.window(100 * MS, 0, 1_000_000);
    assertThat(costs.estimateNanos(0, 5)).isEqualTo(500);
    assertThat(costs.estimateNanos(1, 5)).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void aZeroPageCostsWhatWindowsOfZeroPagesTookAndIsTakenOffMixedWindows() {
    PageCosts costs = new PageCosts();
    costs.window(100 * MS, 0, 1_000_000); // 100 ns per zero page
    costs.window(100 * MS, 20_000, 500_000); // 50 ms of zero pages, 50 ms for 20,000 data pages

    assertThat(costs.zeroPageNanos()).isEqualTo(100.0);
    assertThat(costs.dataPageNanos()).isEqualTo(2_500.0);
    assertThat(costs.estimateNanos(1_000, 10_000)).isEqualTo(1_000 * 2_500 + 10_000 * 100);
  }

  @Test
  void aWindowMostlySpentOnZeroPagesDoesNotTellTheCostOfItsFewDataPages() {
    PageCosts costs = new PageCosts();
    costs.window(100 * MS, 0, 1_000_000);
    costs.window(100 * MS, 10_000, 0); // 10 µs per data page
    costs.window(100 * MS, 3, 900_000); // 90 ms of zero pages: 3 data pages would cost 3 ms each

    assertThat(costs.dataPageNanos()).isEqualTo(10_000.0);
  }

  @Test
  void theEstimateTakesTheSlowestOfTheRecentWindowsThatSentData() {
    PageCosts costs = new PageCosts();
    costs.window(100 * MS, 100_000, 0); // 1 µs
    costs.window(100 * MS, 25_000, 0); // 4 µs
    for (int i = 0; i < PageCosts.WINDOWS - 1; i++) {
      costs.window(100 * MS, 50_000, 0); // 2 µs
    }
    assertThat(costs.dataPageNanos()).isEqualTo(4_000.0);

    costs.window(100 * MS, 50_000, 0);

    assertThat(costs.dataPageNanos()).as("the slow window has rolled out").isEqualTo(2_000.0);
  }

  @Test
  void aZeroPageCostRisesAtOnceAndFallsByHalves() {
    PageCosts costs = new PageCosts();
    costs.window(100 * MS, 0, 1_000_000); // 100 ns
    costs.window(100 * MS, 0, 250_000); // 400 ns: taken at once
    assertThat(costs.zeroPageNanos()).isEqualTo(400.0);

    costs.window(100 * MS, 0, 1_000_000); // 100 ns: the average of 400 and 100

    assertThat(costs.zeroPageNanos()).isEqualTo(250.0);
  }
}
