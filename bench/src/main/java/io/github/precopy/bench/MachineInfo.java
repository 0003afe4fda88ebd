package io.github.precopy.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** The machine, the JDK and the load, as {@code #} lines for a benchmark's log. */
final class MachineInfo {

  private MachineInfo() {}

  /** Prints the CPU, the memory, the OS, the JDK and the load average. */
  static void print() {
    System.out.printf(
        Locale.ROOT,
        "# machine: %s, %d CPUs available, MemTotal %s, %s %s%n",
        procField("/proc/cpuinfo", "model name", "unknown CPU"),
        Runtime.getRuntime().availableProcessors(),
        procField("/proc/meminfo", "MemTotal", "unknown"),
        System.getProperty("os.name"),
        System.getProperty("os.version"));
    System.out.printf(
        Locale.ROOT,
        "# JDK: %s %s (%s), %s%n",
        System.getProperty("java.vm.name"),
        System.getProperty("java.vm.version"),
        System.getProperty("java.vendor"),
        System.getProperty("java.home"));
    System.out.printf(Locale.ROOT, "# load average at start: %s%n", loadAverage());
    System.out.flush();
  }

  /** {@code /proc/loadavg}, or "unknown" where there is none. */
  static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** The value of the first line of {@code file} that starts with {@code key}. */
  private static String procField(String file, String key, String otherwise) {
    try {
      for (String line : Files.readAllLines(Path.of(file))) {
        if (line.startsWith(key)) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      // Not Linux: the JVM's own figures still say enough.
    }
    return otherwise;
  }
}
