package io.github.precopy.bench;

import java.util.List;
import java.util.function.ToDoubleFunction;

/** Medians of a metric over the runs of a case. */
final class Median {

  private Median() {}

  /** The median of {@code metric} over {@code runs}, which must not be empty. */
  static <T> double of(List<T> runs, ToDoubleFunction<T> metric) {
    double[] values = runs.stream().mapToDouble(metric).sorted().toArray();
    int middle = values.length / 2;
    return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
  }
}
