package io.github.precopy.examples.cli;

import io.github.precopy.core.MigrationStats;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/**
 * Draws runs into one PNG with XChart: remaining bytes over time (progress snapshots and syncs) on
 * the left, bytes sent in each round (between two dirty-log syncs) on the right, one series per
 * run. Runs headless.
 */
final class ChartWriter {

  private static final int WIDTH = 800;
  private static final int HEIGHT = 500;
  private static final double MIB = 1 << 20;
  private static final String PAUSED = "paused";

  private ChartWriter() {}

  /** Writes the charts of {@code runs} to {@code file} as a PNG. */
  static void write(Path file, List<RunResult> runs) throws IOException {
    XYChart remaining =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Remaining over time")
            .xAxisTitle("time since start (ms)")
            .yAxisTitle("remaining (MiB)")
            .build();
    remaining.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    CategoryChart perRound =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Sent per round")
            .xAxisTitle("round, numbered by the dirty-log sync that ends it")
            .yAxisTitle("sent (MiB)")
            .build();
    perRound.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    long maxSyncs = 0;
    for (RunResult run : runs) {
      maxSyncs = Math.max(maxSyncs, run.stats().rounds().size());
    }
    // Every series spans the same categories (XChart places bars by position): rounds 1 to the
    // most any run took, then the copy while paused; a round a run did not take has no bar.
    List<String> categories = new ArrayList<>();
    for (long sync = 1; sync <= maxSyncs; sync++) {
      categories.add(Long.toString(sync));
    }
    categories.add(PAUSED);
    for (RunResult run : runs) {
      List<Long> times = new ArrayList<>();
      List<Double> bytes = new ArrayList<>();
      for (RunResult.Sample sample : run.samples()) {
        times.add(sample.timeMillis());
        bytes.add(sample.remainingBytes() / MIB);
      }
      remaining.addSeries(run.label(), times, bytes);
      List<Double> sent = new ArrayList<>(Collections.nCopies(categories.size(), (Double) null));
      for (MigrationStats.Round round : run.stats().rounds()) {
        sent.set((int) round.syncCount() - 1, round.bytesSent() / MIB);
      }
      sent.set(categories.size() - 1, run.stats().ram().downtimeBytes() / MIB);
      perRound.addSeries(run.label(), categories, sent);
    }
    List<Chart<?, ?>> charts = List.of(remaining, perRound);
    try (OutputStream out = Files.newOutputStream(file)) {
      BitmapEncoder.saveBitmap(charts, 1, 2, out, BitmapEncoder.BitmapFormat.PNG);
    }
  }
}
