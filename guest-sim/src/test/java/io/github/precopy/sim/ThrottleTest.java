package io.github.precopy.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.spi.testing.Await;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The simulator throttles its vCPUs as QEMU's cpu_throttle does. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class ThrottleTest {

  /** Each step keeps its vCPU busy for 1 ms (spinning, so the time counts as running). */
  private static Workload spinning(AtomicLong steps) {
    return cpu ->
        () -> {
          long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1);
          while (System.nanoTime() < end) {
            Thread.onSpinWait();
          }
          steps.incrementAndGet();
        };
  }

  /** Steps done by one vCPU over {@code millis} of wall time (a measured window, not a wait). */
  private static long stepsIn(AtomicLong steps, long millis) throws InterruptedException {
    long before = steps.get();
    new CountDownLatch(1).await(millis, TimeUnit.MILLISECONDS);
    return steps.get() - before;
  }

  @Test
  void aThrottledVcpuRunsAboutTheShareItIsLeft() throws Exception {
    AtomicLong steps = new AtomicLong();
    try (SimulatedGuest guest =
        SimulatedGuest.builder().memorySize(16L << 20).vcpus(1).workload(spinning(steps)).build()) {
      guest.boot();
      guest.start();
      Await.until(() -> steps.get() > 50, "the vCPU runs");
      long full = stepsIn(steps, 500);

      assertThat(guest.throttle(75)).isTrue();
      long throttled = stepsIn(steps, 500);

      guest.throttle(0);
      long lifted = stepsIn(steps, 500);
      // 75 %: the vCPU halts three times as long as it ran, so it keeps about a quarter of the
      // steps. Windows of wall time on a shared machine vary, so only the direction is asserted,
      // with margins no load on two cores has come near.
      assertThat((double) throttled / full).as("%d of %d", throttled, full).isLessThan(0.6);
      assertThat(lifted).as("steps after the lift").isGreaterThan(throttled + throttled / 2);
      assertThat(guest.throttlePercentage()).isZero();
    }
  }

  @Test
  void aPauseIsNotDelayedByAThrottleHalt() throws Exception {
    AtomicLong steps = new AtomicLong();
    try (SimulatedGuest guest =
        SimulatedGuest.builder().memorySize(16L << 20).vcpus(1).workload(spinning(steps)).build()) {
      guest.boot();
      guest.start();
      guest.throttle(99);
      Await.until(() -> steps.get() > 20, "the vCPU has entered its throttle halts");

      long start = System.nanoTime();
      guest.pause();

      // At 99 % a halt after 10 ms of running lasts about a second; the pause does not wait for it.
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(500);
      long paused = steps.get();
      assertThat(guest.isRunning()).isFalse();
      guest.resume();
      guest.throttle(0);
      Await.until(() -> steps.get() > paused, "the vCPU runs again");
    }
  }

  @Test
  void aThrottleOutsideZeroToNinetyNineIsRefused() {
    try (SimulatedGuest guest = SimulatedGuest.builder().memorySize(16L << 20).vcpus(1).build()) {
      assertThatThrownBy(() -> guest.throttle(100))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("throttle 100 % is not 0 to 99");
    }
  }
}
