package io.github.precopy.sim;

/**
 * Limits one vCPU's work to a rate by halting it (at a safe point) when it is ahead of schedule.
 * Time is {@link System#nanoTime()}, so the rate does not depend on the hardware; a vCPU that falls
 * behind (a pause, a slow machine) catches up by at most {@link #MAX_BURST_NANOS} of work, never by
 * a burst the length of the pause. Confined to one vCPU thread.
 */
final class Pacer {

  static final long MAX_BURST_NANOS = 20_000_000;

  private final double nanosPerByte;
  private long next;
  private boolean started;

  /** A pacer for {@code bytesPerSecond}, which must be positive. */
  Pacer(double bytesPerSecond) {
    if (!(bytesPerSecond > 0)) {
      throw new IllegalArgumentException("rate must be positive: " + bytesPerSecond);
    }
    this.nanosPerByte = 1e9 / bytesPerSecond;
  }

  /** Accounts {@code bytes} of work just done and halts {@code cpu} until it is due. */
  void pace(Vcpu cpu, long bytes) {
    long now = System.nanoTime();
    if (!started || next - (now - MAX_BURST_NANOS) < 0) {
      next = now - MAX_BURST_NANOS;
      started = true;
    }
    next += (long) (bytes * nanosPerByte);
    if (next - now > 0) {
      cpu.idleUntil(next);
    }
  }
}
