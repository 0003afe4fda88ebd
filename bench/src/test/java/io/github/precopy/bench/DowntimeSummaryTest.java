package io.github.precopy.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-case arithmetic of {@link DowntimeMatrix}. */
final class DowntimeSummaryTest {

  private static DowntimeSummary.Run run(long downtimeMillis, long totalMillis, long bytes) {
    return new DowntimeSummary.Run(downtimeMillis, totalMillis, bytes, 0);
  }

  @Test
  void countsRunsOverTheLimitAndOverTheLimitPlusTheTolerance() {
    List<DowntimeSummary.Run> runs =
        List.of(
            run(250, 1000, 10),
            run(300, 900, 20),
            run(301, 1100, 30),
            run(400, 1200, 40),
            run(401, 800, 50));

    DowntimeSummary summary = DowntimeSummary.of(runs, 300);

    assertThat(summary.runs()).isEqualTo(5);
    assertThat(summary.downtimeMedianMillis()).isEqualTo(301);
    assertThat(summary.downtimeMaxMillis()).isEqualTo(401);
    // Exactly at the limit is kept; 400 is within the limit + 100 ms, 401 is not.
    assertThat(summary.overLimit()).isEqualTo(3);
    assertThat(summary.overTolerance()).isEqualTo(1);
    assertThat(summary.withinTolerance()).isEqualTo(4);
    assertThat(summary.totalMedianMillis()).isEqualTo(1000);
    assertThat(summary.downtimeBytesMedian()).isEqualTo(30);
  }

  @Test
  void anEvenNumberOfRunsTakesTheMeanOfTheMiddleTwo() {
    DowntimeSummary summary =
        DowntimeSummary.of(
            List.of(run(10, 100, 1), run(40, 400, 4), run(20, 300, 2), run(30, 200, 3)), 2000);

    assertThat(summary.downtimeMedianMillis()).isEqualTo(25);
    assertThat(summary.totalMedianMillis()).isEqualTo(250);
    assertThat(summary.downtimeBytesMedian()).isEqualTo(2.5);
    assertThat(summary.overLimit()).isZero();
  }

  @Test
  void theThrottleIsTheHighestOfAnyRun() {
    DowntimeSummary summary =
        DowntimeSummary.of(
            List.of(new DowntimeSummary.Run(1, 1, 1, 40), new DowntimeSummary.Run(1, 1, 1, 70)),
            300);

    assertThat(summary.throttleMax()).isEqualTo(70);
  }

  @Test
  void percentagesHaveOneDecimalAndNoneIsADash() {
    assertThat(DowntimeSummary.percentage(5, 6)).isEqualTo("83.3 %");
    assertThat(DowntimeSummary.percentage(4, 4)).isEqualTo("100.0 %");
    assertThat(DowntimeSummary.percentage(0, 0)).isEqualTo("-");
  }

  @Test
  void noRunsIsRefused() {
    assertThatThrownBy(() -> DowntimeSummary.of(List.of(), 300))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
