package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.spi.ConvergencePolicy;
import io.github.precopy.spi.ConvergencePolicy.Decision;
import io.github.precopy.spi.ConvergenceState;
import org.junit.jupiter.api.Test;

/** A migration whose remaining bytes reach no new low for a number of syncs gives up. */
final class ConvergencePoliciesStallTest {

  /** Far above what fits: 1 MB/s for 300 ms is 300 kB. */
  private static ConvergenceState state(long sync, long remaining) {
    return new ConvergenceState(sync, remaining, 1e6, 300, sync * 1000, 0);
  }

  @Test
  void itGivesUpAfterTheGivenNumberOfSyncsWithoutANewLow() {
    ConvergencePolicy policy = ConvergencePolicies.untilStalled(3, ConvergencePolicies.GiveUp.FAIL);

    assertThat(policy.decide(state(2, 100_000_000))).isEqualTo(Decision.CONTINUE);
    assertThat(policy.decide(state(3, 120_000_000))).isEqualTo(Decision.CONTINUE);
    assertThat(policy.decide(state(4, 100_000_000))).isEqualTo(Decision.CONTINUE);
    assertThat(policy.decide(state(5, 110_000_000))).isEqualTo(Decision.ABORT);
  }

  @Test
  void aNewLowStartsTheCountAgain() {
    ConvergencePolicy policy =
        ConvergencePolicies.untilStalled(2, ConvergencePolicies.GiveUp.SWITCH_OVER);

    policy.decide(state(2, 100_000_000));
    policy.decide(state(3, 150_000_000));
    assertThat(policy.decide(state(4, 90_000_000))).isEqualTo(Decision.CONTINUE);
    assertThat(policy.decide(state(5, 95_000_000))).isEqualTo(Decision.CONTINUE);
    assertThat(policy.decide(state(6, 95_000_000))).isEqualTo(Decision.STOP_AND_COPY);
  }

  @Test
  void whatFitsSwitchesOverAsQemusRuleWhateverTheCount() {
    ConvergencePolicy policy = ConvergencePolicies.untilStalled(1, ConvergencePolicies.GiveUp.FAIL);

    assertThat(policy.decide(state(2, 200_000))).isEqualTo(Decision.STOP_AND_COPY);
  }

  @Test
  void aCountBelowOneIsRefused() {
    assertThatThrownBy(() -> ConvergencePolicies.untilStalled(0, ConvergencePolicies.GiveUp.FAIL))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("syncs must be at least 1, got 0");
  }
}
