package io.github.precopy.spi.testing;

import io.github.precopy.spi.FreePageSink;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A hand-written {@link FreePageSink} that records every call with sequence numbers from a shared
 * counter at entry and exit, so a test can order sink calls against its own events. It reports
 * every whole page of a call as cleared, optionally spends a while inside each call, and can be
 * told to throw. Thread-safe.
 */
public final class RecordingFreePageSink implements FreePageSink {

  /** One call: the range and the sequence numbers and times at entry and exit. */
  public record Call(
      long guestAddress,
      long lengthBytes,
      long entrySequence,
      long exitSequence,
      long entryNanos,
      long exitNanos) {}

  private final AtomicLong sequence;
  private final List<Call> calls = new ArrayList<>();
  private volatile long nanosPerCall;
  private volatile boolean failing;

  public RecordingFreePageSink(AtomicLong sequence) {
    this.sequence = sequence;
  }

  public RecordingFreePageSink() {
    this(new AtomicLong());
  }

  /** Makes each call spin for {@code nanos} before returning. */
  public void spendPerCall(long nanos) {
    this.nanosPerCall = nanos;
  }

  /** Makes each call throw. */
  public void failing(boolean fail) {
    this.failing = fail;
  }

  @Override
  public long freePageHint(long guestAddress, long lengthBytes) {
    long entry = sequence.incrementAndGet();
    long entryNanos = System.nanoTime();
    if (failing) {
      throw new IllegalStateException("sink failure for the test");
    }
    long spend = nanosPerCall;
    while (System.nanoTime() - entryNanos < spend) {
      LockSupport.parkNanos(1_000);
    }
    long exit = sequence.incrementAndGet();
    synchronized (calls) {
      calls.add(new Call(guestAddress, lengthBytes, entry, exit, entryNanos, System.nanoTime()));
    }
    return lengthBytes >> 12;
  }

  public List<Call> calls() {
    synchronized (calls) {
      return List.copyOf(calls);
    }
  }
}
