package io.github.precopy.examples.cli;

import java.io.PrintWriter;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What SIGINT (Ctrl-C) or SIGTERM does to a running command: a JVM shutdown hook stops the work in
 * progress (cancels the migration, closes the destination's connections) and then waits, up to 10
 * s, until the command has printed what it had and why it stopped ({@link #reported()}); the JVM
 * then exits with 128 + the signal's number, 130 for SIGINT and 143 for SIGTERM. If the command
 * does not report in time, or ends without reporting (it failed), one line says what was
 * interrupted.
 *
 * <p>The command registers what a signal stops with {@link #whileRunning} and asks {@link
 * #signalled()} once it returns. A signal that comes before anything runs makes {@link
 * #whileRunning} refuse, so nothing starts. The hook is removed when the command ends without a
 * signal ({@link #close()}), so commands run in one JVM one after the other (as the tests do) each
 * have their own.
 *
 * <p>Thread-safety: the hook runs on a thread of its own; every method may be called from any
 * thread.
 */
final class Interruption implements AutoCloseable {

  /** What a command returns when a signal stopped it; the JVM's own code is 128 + the signal. */
  static final int EXIT_CODE = 130;

  private static final long REPORT_WAIT_MILLIS = 10_000;

  private final String command;
  private final PrintWriter err;
  private final Thread hook;
  private final CountDownLatch reported = new CountDownLatch(1);
  private Runnable stop;
  private String doing = "starting";
  private boolean signalled;
  private boolean finished;

  private Interruption(String command, PrintWriter err) {
    this.command = command;
    this.err = err;
    this.hook = new Thread(this::onSignal, "precopy-signal");
  }

  /** Registers the shutdown hook for {@code command} (e.g. "precopy migrate"). */
  static Interruption install(String command, PrintWriter err) {
    Interruption interruption = new Interruption(command, err);
    Runtime.getRuntime().addShutdownHook(interruption.hook);
    return interruption;
  }

  /**
   * From now until {@link #idle()}, a signal runs {@code stop}; {@code doing} says what runs, for
   * the line the hook prints if the command does not report in time.
   *
   * @return false, registering nothing, if a signal has come: then do not start
   */
  synchronized boolean whileRunning(String doing, Runnable stop) {
    if (signalled) {
      return false;
    }
    this.doing = doing;
    this.stop = stop;
    return true;
  }

  /** What ran has ended; a signal from now on stops nothing. */
  synchronized void idle() {
    stop = null;
  }

  /** Whether a signal has come. */
  synchronized boolean signalled() {
    return signalled;
  }

  /**
   * The command has printed its results, or what the signal interrupted, and flushed them: the JVM
   * may exit.
   */
  void reported() {
    synchronized (this) {
      finished = true;
    }
    reported.countDown();
  }

  /**
   * Removes the hook; or, if a signal has come and the command ends without having reported (it
   * failed), says what was interrupted and lets the JVM exit.
   */
  @Override
  public void close() {
    boolean wasSignalled;
    synchronized (this) {
      stop = null;
      wasSignalled = signalled;
    }
    if (wasSignalled) {
      sayIfUnreported("");
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // The JVM is shutting down: the hook runs and finds nothing to stop.
    }
  }

  /** Prints what was interrupted, once, unless the command has reported. */
  private void sayIfUnreported(String why) {
    String what;
    synchronized (this) {
      if (finished) {
        return;
      }
      finished = true;
      what = doing;
    }
    err.println(command + ": interrupted by a signal while " + what + why);
    err.flush();
    reported.countDown();
  }

  private void onSignal() {
    Runnable toStop;
    synchronized (this) {
      signalled = true;
      toStop = stop;
    }
    if (toStop != null) {
      toStop.run();
    }
    try {
      if (!reported.await(REPORT_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
        sayIfUnreported("; it did not stop within " + REPORT_WAIT_MILLIS / 1000 + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
