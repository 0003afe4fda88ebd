package io.github.precopy.core;

import java.util.concurrent.TimeUnit;

/**
 * The engine's clock: a monotonic time in nanoseconds and a way to wait on it. Bound in {@link
 * EngineModule}, so that tests can replace it. Implementations are thread-safe.
 */
interface Ticker {

  /** The time now, in nanoseconds from an arbitrary origin ({@link System#nanoTime()}). */
  long nanoTime();

  /** Waits {@code nanos} nanoseconds (returns at once if not positive). */
  void sleep(long nanos) throws InterruptedException;

  /** The system's clock. */
  Ticker SYSTEM =
      new Ticker() {
        @Override
        public long nanoTime() {
          return System.nanoTime();
        }

        @Override
        public void sleep(long nanos) throws InterruptedException {
          TimeUnit.NANOSECONDS.sleep(nanos);
        }
      };
}
