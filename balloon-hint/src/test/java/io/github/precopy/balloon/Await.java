package io.github.precopy.balloon;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Polls a condition that another thread makes true, failing after a bound. */
final class Await {

  private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

  private Await() {}

  static void until(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TIMEOUT_NANOS;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out after 10 s waiting until " + what);
      }
      LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200));
    }
  }
}
