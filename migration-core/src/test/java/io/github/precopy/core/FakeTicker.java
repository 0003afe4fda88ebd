package io.github.precopy.core;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Ticker} for tests of the loop parts: time stands still until the test advances it or
 * something sleeps, and a sleep advances it by exactly the time asked for (plus a set oversleep, as
 * a loaded host's sleep overshoots). Records every sleep. Confined to the test's thread.
 */
final class FakeTicker implements Ticker {

  private final List<Long> sleeps = new ArrayList<>();
  private long now;
  private long oversleepNanos;

  /** A clock that reads {@code originNanos} until it is advanced. */
  FakeTicker(long originNanos) {
    this.now = originNanos;
  }

  @Override
  public long nanoTime() {
    return now;
  }

  @Override
  public void sleep(long nanos) {
    sleeps.add(nanos);
    if (nanos > 0) {
      now += nanos + oversleepNanos;
    }
  }

  /** Moves the clock on by {@code nanos}, as work that takes time would. */
  void advance(long nanos) {
    now += nanos;
  }

  /** Makes every later sleep last {@code nanos} longer than asked. */
  void oversleep(long nanos) {
    oversleepNanos = nanos;
  }

  /** The sleeps asked for so far, in nanoseconds, oldest first. */
  List<Long> sleeps() {
    return List.copyOf(sleeps);
  }
}
