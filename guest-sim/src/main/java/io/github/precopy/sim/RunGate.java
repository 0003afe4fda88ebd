package io.github.precopy.sim;

import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Where vCPUs stop: a vCPU calls {@link #enter} before each piece of guest work (a step, or the
 * rest of a step after {@link Vcpu#idleUntil}) and clears {@link Vcpu#inStep} after it. {@link
 * #halt} returns once no vCPU is inside a piece of work and none can enter until {@link #release}.
 *
 * <p>Correctness (Dekker): a vCPU writes {@code inStep = true} and then reads {@code halted};
 * {@link #halt} writes {@code halted = true} and then reads each {@code inStep}. All four are
 * volatile, so in the synchronization order either the vCPU sees {@code halted} and backs out, or
 * {@code halt} sees {@code inStep} and waits for it to clear. Clearing {@code inStep} is a volatile
 * write after the vCPU's memory writes, so {@code halt}'s read that sees it clear also sees them.
 *
 * <p>The gate counts the vCPUs waiting at it, so that a test can wait for the event that proves a
 * paused guest's vCPUs tried to go on and were stopped ({@link #awaitHeld}).
 */
final class RunGate {

  /** Thrown inside a vCPU thread to unwind it when the guest is closed. */
  static final class Stopped extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Stopped() {
      super("vCPU stopped: the guest is closing", null, false, false);
    }
  }

  private static final long HALT_POLL_NANOS = 20_000;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition released = lock.newCondition();
  private final Condition heldChanged = lock.newCondition();
  private int held; // vCPUs waiting in enter() for release; guarded by the lock
  private volatile boolean halted;
  private volatile boolean stopping;

  /**
   * Marks {@code cpu} as inside a piece of work, first waiting while the gate is halted.
   *
   * @throws Stopped if the guest is closing
   */
  void enter(Vcpu cpu) {
    while (true) {
      cpu.inStep = true;
      if (!halted) {
        return;
      }
      cpu.inStep = false;
      if (stopping) {
        throw new Stopped();
      }
      lock.lock();
      boolean counted = false;
      try {
        while (halted && !stopping) {
          if (!counted) {
            counted = true;
            held++;
            heldChanged.signalAll();
          }
          released.awaitUninterruptibly();
        }
      } finally {
        if (counted) {
          held--;
        }
        lock.unlock();
      }
    }
  }

  /** Stops new work and returns once none of {@code cpus} is inside a piece of work. */
  void halt(List<Vcpu> cpus) {
    halted = true;
    for (Vcpu cpu : cpus) {
      while (cpu.inStep) {
        LockSupport.parkNanos(HALT_POLL_NANOS);
      }
    }
  }

  /**
   * Waits until at least {@code count} vCPUs are waiting at the halted gate, each having tried to
   * enter a piece of work; returns whether they are, false after {@code timeoutNanos}.
   */
  boolean awaitHeld(int count, long timeoutNanos) throws InterruptedException {
    lock.lock();
    try {
      long left = timeoutNanos;
      while (held < count) {
        if (left <= 0) {
          return false;
        }
        left = heldChanged.awaitNanos(left);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Lets the vCPUs enter work again. */
  void release() {
    halted = false;
    signalAll();
  }

  /** Halts for good: every vCPU unwinds with {@link Stopped} at its next safe point. */
  void stop() {
    stopping = true;
    halted = true;
    signalAll();
  }

  /** Whether {@link #stop} was called. */
  boolean stopping() {
    return stopping;
  }

  private void signalAll() {
    lock.lock();
    try {
      released.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
