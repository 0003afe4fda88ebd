package io.github.precopy.examples.cli;

import java.io.PrintWriter;
import java.io.Writer;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Runs the command line in this process with captured stdout and stderr. The captures are
 * synchronized, so another thread may read them, or wait for a line to appear, while a command
 * runs.
 */
final class Cli {

  private final Capture out = new Capture();
  private final Capture err = new Capture();

  /** Runs {@code args} and returns the exit code. */
  int execute(String... args) {
    CommandLine commandLine = Precopy.commandLine();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    return commandLine.execute(args);
  }

  String out() {
    return out.toString();
  }

  String err() {
    return err.toString();
  }

  /**
   * Waits until stderr holds a match of {@code pattern}, woken by every write to it.
   *
   * @return the first match, or null if there is none after {@code timeout}
   */
  Matcher awaitErr(Pattern pattern, long timeout, TimeUnit unit) throws InterruptedException {
    return err.await(pattern, unit.toNanos(timeout));
  }

  /** Captured text that a reader can wait on: every write wakes the waiters. */
  private static final class Capture extends Writer {
    private final StringBuilder text = new StringBuilder();

    @Override
    public synchronized void write(char[] buffer, int offset, int length) {
      text.append(buffer, offset, length);
      notifyAll();
    }

    @Override
    public void flush() {
      // Every write is in the text at once.
    }

    @Override
    public void close() {
      // Nothing to release; the text stays readable.
    }

    @Override
    public synchronized String toString() {
      return text.toString();
    }

    synchronized Matcher await(Pattern pattern, long timeoutNanos) throws InterruptedException {
      long deadline = System.nanoTime() + timeoutNanos;
      while (true) {
        Matcher matcher = pattern.matcher(text.toString());
        if (matcher.find()) {
          return matcher;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return null;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }
}
