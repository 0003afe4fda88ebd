package io.github.precopy.spi.testing;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Waits, bounded, for a condition that another thread makes true, where no event signals it (a
 * device's queue drained, a counter moved): polls every 200 µs and fails after 10 s.
 */
public final class Await {

  private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

  private Await() {}

  /**
   * Returns once {@code condition} holds.
   *
   * @throws AssertionError naming {@code what} if it does not within 10 s
   */
  public static void until(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TIMEOUT_NANOS;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out after 10 s waiting until " + what);
      }
      LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200));
    }
  }
}
