package io.github.precopy.spi;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

final class ConvergenceStateTest {

  private static ConvergenceState state(double bandwidthBytesPerSecond, long downtimeLimitMillis) {
    return new ConvergenceState(3, 0, bandwidthBytesPerSecond, downtimeLimitMillis, 1_000, 0);
  }

  @Test
  void theThresholdIsWhatTheBandwidthSendsWithinTheDowntimeLimit() {
    assertThat(state(100_000_000, 300).thresholdBytes()).isEqualTo(30_000_000);
    assertThat(state(1 << 30, 1_000).thresholdBytes()).isEqualTo(1L << 30);
  }

  @Test
  void theThresholdIsRoundedDownToAWholeByte() {
    assertThat(state(1_000.9, 1_000).thresholdBytes()).isEqualTo(1_000);
    assertThat(state(3, 500).thresholdBytes()).isEqualTo(1);
  }

  @Test
  void noBandwidthOrNoDowntimeMeansAThresholdOfZero() {
    assertThat(state(0, 300).thresholdBytes()).isZero();
    assertThat(state(100_000_000, 0).thresholdBytes()).isZero();
  }
}
