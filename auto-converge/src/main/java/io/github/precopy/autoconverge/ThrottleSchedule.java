package io.github.precopy.autoconverge;

/**
 * QEMU's auto-converge rule ({@code migration_trigger_throttle} and {@code mig_throttle_guest_down}
 * in {@code migration/ram.c}): after each dirty-rate period, if the guest dirtied more than {@code
 * throttle-trigger-threshold} percent of what was transferred in the period, for the second time
 * since the throttle last changed, the throttle starts at {@code cpu-throttle-initial} or rises by
 * {@code cpu-throttle-increment} (with {@code cpu-throttle-tailslow}, by no more than would bring
 * the dirty rate down to the threshold), capped at {@code max-cpu-throttle}.
 *
 * <p>Not thread-safe: one migration thread feeds it.
 */
final class ThrottleSchedule {

  private final ThrottleParameters parameters;
  private int percentage;
  private int highPeriods;

  ThrottleSchedule(ThrottleParameters parameters) {
    this.parameters = parameters;
  }

  /**
   * Takes the figures of one period and returns the throttle percentage from now on (0: none).
   *
   * @param dirtiedBytes bytes the guest dirtied in the period
   * @param transferredBytes bytes the migration transferred in the period
   */
  int period(long dirtiedBytes, long transferredBytes) {
    long threshold = transferredBytes * parameters.triggerThreshold() / 100;
    if (dirtiedBytes > threshold && ++highPeriods >= 2) {
      highPeriods = 0;
      percentage = next(dirtiedBytes, threshold);
    }
    return percentage;
  }

  /** The throttle percentage now. */
  int percentage() {
    return percentage;
  }

  /** As QEMU, the first throttle is {@code cpu-throttle-initial} even above the maximum. */
  private int next(long dirtiedBytes, long threshold) {
    if (percentage == 0) {
      return parameters.initial();
    }
    long increment = parameters.increment();
    if (parameters.tailslow()) {
      long cpuNow = 100 - percentage;
      long cpuIdeal = (long) (cpuNow * ((double) threshold / dirtiedBytes));
      increment = Math.min(cpuNow - cpuIdeal, increment);
    }
    return (int) Math.min(percentage + increment, parameters.max());
  }
}
