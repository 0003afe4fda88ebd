package io.github.precopy.spi;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.spi.ConvergencePolicy.Decision;
import org.junit.jupiter.api.Test;

final class ConvergencePolicyTest {

  /** 10 MB/s and a 300 ms downtime limit: a threshold of 3,000,000 bytes. */
  private static final double BANDWIDTH = 10_000_000;

  private static final long DOWNTIME_LIMIT_MILLIS = 300;
  private static final long THRESHOLD = 3_000_000;

  private static ConvergenceState remaining(long bytes) {
    ConvergenceState state =
        new ConvergenceState(5, bytes, BANDWIDTH, DOWNTIME_LIMIT_MILLIS, 4_000, 2_500);
    assertThat(state.thresholdBytes()).isEqualTo(THRESHOLD);
    return state;
  }

  @Test
  void qemuSwitchesOverWhenTheRemainingBytesEqualTheThreshold() {
    assertThat(ConvergencePolicy.qemu().decide(remaining(THRESHOLD)))
        .isEqualTo(Decision.STOP_AND_COPY);
  }

  @Test
  void qemuSwitchesOverBelowTheThreshold() {
    ConvergencePolicy policy = ConvergencePolicy.qemu();

    assertThat(policy.decide(remaining(THRESHOLD - 1))).isEqualTo(Decision.STOP_AND_COPY);
    assertThat(policy.decide(remaining(0))).isEqualTo(Decision.STOP_AND_COPY);
  }

  @Test
  void qemuContinuesAboveTheThreshold() {
    ConvergencePolicy policy = ConvergencePolicy.qemu();

    assertThat(policy.decide(remaining(THRESHOLD + 1))).isEqualTo(Decision.CONTINUE);
    assertThat(policy.decide(remaining(Long.MAX_VALUE))).isEqualTo(Decision.CONTINUE);
  }

  @Test
  void qemuNeverAbortsHoweverManySyncsItTakes() {
    ConvergenceState stuck =
        new ConvergenceState(
            1_000_000, 1L << 40, BANDWIDTH, DOWNTIME_LIMIT_MILLIS, 86_400_000, 1 << 20);

    assertThat(ConvergencePolicy.qemu().decide(stuck)).isEqualTo(Decision.CONTINUE);
  }

  @Test
  void qemuWithNoMeasuredBandwidthContinuesUntilNothingRemains() {
    ConvergencePolicy policy = ConvergencePolicy.qemu();
    ConvergenceState unmeasured = new ConvergenceState(1, 4096, 0, DOWNTIME_LIMIT_MILLIS, 0, 0);
    ConvergenceState clean = new ConvergenceState(1, 0, 0, DOWNTIME_LIMIT_MILLIS, 0, 0);

    assertThat(policy.decide(unmeasured)).isEqualTo(Decision.CONTINUE);
    assertThat(policy.decide(clean)).isEqualTo(Decision.STOP_AND_COPY);
  }

  @Test
  void aPolicyHasNoDeadlineUnlessItAsksForOne() {
    ConvergencePolicy lambda = state -> Decision.CONTINUE;
    ConvergencePolicy withDeadline =
        new ConvergencePolicy() {
          @Override
          public Decision decide(ConvergenceState state) {
            return Decision.ABORT;
          }

          @Override
          public long deadlineMillis() {
            return 5_000;
          }
        };

    assertThat(lambda.deadlineMillis()).isEqualTo(Long.MAX_VALUE);
    assertThat(ConvergencePolicy.qemu().deadlineMillis()).isEqualTo(Long.MAX_VALUE);
    assertThat(withDeadline.deadlineMillis()).isEqualTo(5_000);
  }
}
