package io.github.precopy.examples.cli;

import io.github.precopy.core.MigrationStats;
import java.io.Console;
import java.io.PrintWriter;
import java.lang.reflect.Method;
import java.util.Locale;

/**
 * A one-line progress bar on stderr, redrawn from the engine's progress snapshots: share of the
 * guest's memory no longer dirty, remaining and transferred bytes, status. Drawn only on a
 * terminal; otherwise every call does nothing. Thread-safe: snapshots arrive on the engine's
 * progress thread.
 */
final class ProgressBar {

  private static final int WIDTH = 30;

  private final PrintWriter err;
  private final boolean enabled;
  private String label;
  private long totalBytes;
  private boolean drawing;
  private int lastLength;

  /** A bar drawn on {@code err} if {@code enabled}. */
  ProgressBar(PrintWriter err, boolean enabled) {
    this.err = err;
    this.enabled = enabled;
  }

  /**
   * Whether this process talks to a terminal. {@code System.console()} is null when the standard
   * streams are redirected up to JDK 21; from JDK 22 on it exists regardless and {@code
   * Console.isTerminal()} (not in the Java 17 API, hence the reflection) tells.
   */
  static boolean onTerminal() {
    Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      Method isTerminal = Console.class.getMethod("isTerminal");
      return (Boolean) isTerminal.invoke(console);
    } catch (NoSuchMethodException e) {
      return true;
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }

  /** Starts a bar for the run {@code label} of a guest of {@code totalBytes}. */
  synchronized void start(String label, long totalBytes) {
    this.label = label;
    this.totalBytes = totalBytes;
    this.drawing = enabled;
    this.lastLength = 0;
  }

  /** Redraws the bar from {@code stats}, unless the run has finished. */
  synchronized void update(MigrationStats stats) {
    if (!drawing) {
      return;
    }
    String line = line(label, totalBytes, stats);
    err.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
    err.flush();
    lastLength = line.length();
  }

  /** Erases the bar; later snapshots of the run are ignored. */
  synchronized void finish() {
    if (drawing && lastLength > 0) {
      err.print("\r" + " ".repeat(lastLength) + "\r");
      err.flush();
    }
    drawing = false;
  }

  /** The bar's text for one snapshot. */
  static String line(String label, long totalBytes, MigrationStats stats) {
    long remaining = stats.ram().remaining();
    double done =
        totalBytes <= 0 ? 1 : Math.max(0, Math.min(1, 1 - (double) remaining / totalBytes));
    int filled = (int) Math.round(done * WIDTH);
    return String.format(
        Locale.ROOT,
        "%s [%s%s] %3.0f%%  remaining %s  transferred %s  %s",
        label,
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        done * 100,
        Sizes.format(remaining),
        Sizes.format(stats.ram().transferred()),
        stats.status().qemuName());
  }
}
