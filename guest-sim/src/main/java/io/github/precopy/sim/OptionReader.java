package io.github.precopy.sim;

import io.github.precopy.core.memory.GuestMemory;
import java.util.List;
import java.util.TreeSet;

/**
 * Reads a workload's options as the workload declared them ({@link WorkloadOption}): shares of
 * guest memory ({@code 0.25} or {@code 25%}), rates in bytes per second as {@link Units#parseRate}
 * reads them ({@code 65536}, {@code 64k}, {@code 128m}, {@code 1t}), sizes as {@link
 * Units#parseSize} reads them, and choices among a few words.
 */
final class OptionReader {

  private final String workload;
  private final WorkloadOptions options;

  /**
   * @throws IllegalArgumentException if {@code options} has a key {@code declared} does not name
   */
  OptionReader(String workload, WorkloadOptions options, List<WorkloadOption> declared) {
    this.workload = workload;
    this.options = options;
    TreeSet<String> known = new TreeSet<>();
    declared.forEach(option -> known.add(option.name()));
    for (String key : options.values().keySet()) {
      if (!known.contains(key)) {
        throw new IllegalArgumentException(
            "workload "
                + workload
                + " has no option '"
                + key
                + "'; its options are "
                + String.join(", ", known));
      }
    }
  }

  /** Whether the option {@code key} was given. */
  boolean given(String key) {
    return options.values().containsKey(key);
  }

  /** A share of guest memory in [0, 1]. */
  double share(String key, double defaultValue) {
    String text = options.values().get(key);
    if (text == null) {
      return defaultValue;
    }
    double value;
    try {
      value =
          text.endsWith("%")
              ? Double.parseDouble(text.substring(0, text.length() - 1)) / 100
              : Double.parseDouble(text);
    } catch (NumberFormatException e) {
      throw invalid(key, text, "a share such as 0.25 or 25%");
    }
    if (!(value >= 0 && value <= 1)) {
      throw invalid(key, text, "a share between 0 and 1 (0% and 100%)");
    }
    return value;
  }

  /** A positive rate in bytes per second. */
  double rate(String key, double defaultValue) {
    String text = options.values().get(key);
    if (text == null) {
      return defaultValue;
    }
    long value;
    try {
      value = Units.parseRate(text);
    } catch (IllegalArgumentException e) {
      throw invalid(key, text, "bytes per second: " + e.getMessage());
    }
    if (value <= 0) {
      throw invalid(key, text, "a positive number of bytes per second");
    }
    return value;
  }

  /** A size in bytes, a whole number of pages and at least one. */
  long pages(String key, long defaultBytes) {
    String text = options.values().get(key);
    if (text == null) {
      return defaultBytes / GuestMemory.PAGE_SIZE;
    }
    long value;
    try {
      value = Units.parseSize(text);
    } catch (IllegalArgumentException e) {
      throw invalid(key, text, "a size: " + e.getMessage());
    }
    if (value < GuestMemory.PAGE_SIZE || value % GuestMemory.PAGE_SIZE != 0) {
      throw invalid(key, text, "a whole number of 4k pages, at least one");
    }
    return value / GuestMemory.PAGE_SIZE;
  }

  /** One of {@code values}; the first is the default. */
  String choice(String key, List<String> values) {
    String text = options.values().get(key);
    if (text == null) {
      return values.get(0);
    }
    if (!values.contains(text)) {
      throw invalid(key, text, "one of " + String.join(", ", values));
    }
    return text;
  }

  private IllegalArgumentException invalid(String key, String text, String expected) {
    return new IllegalArgumentException(
        "workload " + workload + ": option " + key + "=" + text + " is not " + expected);
  }
}
