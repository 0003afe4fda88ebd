package io.github.precopy.autoconverge;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The throttle follows QEMU's {@code migration_trigger_throttle} period by period. */
final class ThrottleScheduleTest {

  private static final long MIB = 1 << 20;

  private static ThrottleSchedule schedule(int initial, int increment, boolean tailslow, int max) {
    return new ThrottleSchedule(new ThrottleParameters(50, initial, increment, tailslow, max));
  }

  @Test
  void aSingleHighPeriodDoesNotThrottleTheSecondStartsAtTheInitialPercentage() {
    ThrottleSchedule schedule = new ThrottleSchedule(ThrottleParameters.DEFAULTS);

    assertThat(schedule.period(60 * MIB, 100 * MIB)).isZero();
    assertThat(schedule.period(60 * MIB, 100 * MIB)).isEqualTo(20);
  }

  @Test
  void dirtyingExactlyTheThresholdIsNotHigh() {
    ThrottleSchedule schedule = new ThrottleSchedule(ThrottleParameters.DEFAULTS);

    schedule.period(50 * MIB, 100 * MIB);
    schedule.period(50 * MIB, 100 * MIB);

    assertThat(schedule.percentage()).isZero();
  }

  @Test
  void aLowPeriodInBetweenDoesNotResetTheCountAsInQemu() {
    ThrottleSchedule schedule = new ThrottleSchedule(ThrottleParameters.DEFAULTS);

    schedule.period(60 * MIB, 100 * MIB);
    schedule.period(10 * MIB, 100 * MIB);

    assertThat(schedule.period(60 * MIB, 100 * MIB)).isEqualTo(20);
  }

  @Test
  void everySecondHighPeriodAfterAChangeRaisesByTheIncrementUpToTheMaximum() {
    ThrottleSchedule schedule = schedule(20, 10, false, 45);
    int[] expected = {0, 20, 20, 30, 30, 40, 40, 45, 45, 45};

    for (int period = 0; period < expected.length; period++) {
      assertThat(schedule.period(200 * MIB, 100 * MIB))
          .as("period %d", period)
          .isEqualTo(expected[period]);
    }
  }

  @Test
  void theTriggerThresholdIsAPercentageOfTheBytesTransferred() {
    ThrottleSchedule schedule = new ThrottleSchedule(new ThrottleParameters(10, 20, 10, false, 99));

    schedule.period(11 * MIB, 100 * MIB);

    assertThat(schedule.period(11 * MIB, 100 * MIB)).isEqualTo(20);
  }

  @Test
  void tailslowStepsOnlyAsFarAsTheIdealCpuShare() {
    ThrottleSchedule schedule = schedule(20, 10, true, 99);
    schedule.period(52, 100);
    assertThat(schedule.period(52, 100)).isEqualTo(20);

    schedule.period(52, 100);
    // cpu now 80 %, ideal 80 × 50 / 52 = 76 (whole percent, as QEMU's integer arithmetic): +4.
    assertThat(schedule.period(52, 100)).isEqualTo(24);

    schedule.period(400, 100);
    // far above the threshold the step is the increment.
    assertThat(schedule.period(400, 100)).isEqualTo(34);
  }

  @Test
  void likeQemuTheFirstThrottleIsTheInitialEvenAboveTheMaximumWhichLaterStepsApply() {
    ThrottleSchedule schedule = schedule(50, 10, false, 30);

    schedule.period(100, 100);
    assertThat(schedule.period(100, 100)).isEqualTo(50);
    schedule.period(100, 100);
    assertThat(schedule.period(100, 100)).isEqualTo(30);
  }
}
