package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.spi.ConvergencePolicy;
import io.github.precopy.spi.ConvergencePolicy.Decision;
import io.github.precopy.spi.ConvergenceState;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The shipped policies, decision by decision. */
final class ConvergencePoliciesTest {

  /** 10 MB/s and a 300 ms downtime limit: a threshold of 3,000,000 bytes; far above it. */
  private static ConvergenceState stuck(long syncCount, long elapsedMillis) {
    return new ConvergenceState(syncCount, 1L << 30, 10_000_000, 300, elapsedMillis, 2_500);
  }

  @Test
  void boundedAsksToBeConsultedAtItsTimeoutEvenWithinARound() {
    ConvergencePolicy bounded =
        ConvergencePolicies.bounded(
            Long.MAX_VALUE, Duration.ofMillis(1_500), ConvergencePolicies.GiveUp.FAIL);

    assertThat(bounded.deadlineMillis()).isEqualTo(1_500);
    assertThat(ConvergencePolicies.qemu().deadlineMillis()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void boundedGivesUpAtItsTimeoutOrItsSyncCountAndNotBefore() {
    ConvergencePolicy fail =
        ConvergencePolicies.bounded(5, Duration.ofMillis(1_500), ConvergencePolicies.GiveUp.FAIL);
    ConvergencePolicy switchOver =
        ConvergencePolicies.bounded(
            5, Duration.ofMillis(1_500), ConvergencePolicies.GiveUp.SWITCH_OVER);

    assertThat(fail.decide(stuck(4, 1_499))).isEqualTo(Decision.CONTINUE);
    assertThat(fail.decide(stuck(4, 1_500))).isEqualTo(Decision.ABORT);
    assertThat(fail.decide(stuck(5, 0))).isEqualTo(Decision.ABORT);
    assertThat(switchOver.decide(stuck(2, 1_500))).isEqualTo(Decision.STOP_AND_COPY);
    assertThat(switchOver.decide(new ConvergenceState(2, 0, 10_000_000, 300, 1_600, 0)))
        .as("converged: QEMU's rule switches over")
        .isEqualTo(Decision.STOP_AND_COPY);
  }
}
