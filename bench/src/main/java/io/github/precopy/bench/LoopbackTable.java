package io.github.precopy.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The table {@link LoopbackThroughput} prints: per case, medians (min–max) beside QEMU 7.2's. */
final class LoopbackTable {

  private LoopbackTable() {}

  static void print(Map<LoopbackCase, List<LoopbackRun>> results, long memoryBytes, int repeat) {
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "# %d MiB guest of data pages; medians of %d runs (min–max); GiB = 2^30 bytes%n",
        memoryBytes >> 20,
        repeat);
    System.out.println(
        "| destination | transport | channels | bulk round GiB/s | whole migration GiB/s"
            + " | total time ms | QEMU 7.2 GiB/s | bulk / QEMU |");
    System.out.println("|---|---|---:|---:|---:|---:|---:|---:|");
    for (Map.Entry<LoopbackCase, List<LoopbackRun>> entry : results.entrySet()) {
      LoopbackCase c = entry.getKey();
      List<LoopbackRun> runs = entry.getValue();
      double bulk = Median.of(runs, LoopbackRun::bulkGibps);
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %d | %s | %s | %.0f | %.2f–%.2f | %.2f–%.2f× |%n",
          c.memory(),
          c.transport().label(),
          c.channels(),
          withRange(runs, LoopbackRun::bulkGibps),
          withRange(runs, LoopbackRun::wholeGibps),
          Median.of(runs, LoopbackRun::totalMillis),
          c.memory().qemuLowGibps(),
          c.memory().qemuHighGibps(),
          bulk / c.memory().qemuHighGibps(),
          bulk / c.memory().qemuLowGibps());
    }
    System.out.flush();
  }

  private static String withRange(List<LoopbackRun> runs, ToDoubleFunction<LoopbackRun> metric) {
    double[] values = runs.stream().mapToDouble(metric).sorted().toArray();
    return String.format(
        Locale.ROOT,
        "%.2f (%.2f–%.2f)",
        Median.of(runs, metric),
        values[0],
        values[values.length - 1]);
  }
}
