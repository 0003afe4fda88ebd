package io.github.precopy.sim;

import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a workload's options with their defaults: shares of guest memory ({@code 0.25} or {@code
 * 25%}) and rates in bytes per second with an optional binary suffix ({@code 65536}, {@code 64k},
 * {@code 128m}, {@code 1g}).
 */
final class OptionReader {

  private final String workload;
  private final WorkloadOptions options;

  /**
   * @throws IllegalArgumentException if {@code options} has a key outside {@code known}
   */
  OptionReader(String workload, WorkloadOptions options, Set<String> known) {
    this.workload = workload;
    this.options = options;
    for (String key : options.values().keySet()) {
      if (!known.contains(key)) {
        throw new IllegalArgumentException(
            "workload "
                + workload
                + " has no option '"
                + key
                + "'; its options are "
                + String.join(", ", new TreeSet<>(known)));
      }
    }
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
    String digits = text.toLowerCase(Locale.ROOT);
    double unit = 1;
    char last = digits.isEmpty() ? ' ' : digits.charAt(digits.length() - 1);
    if (last == 'k' || last == 'm' || last == 'g') {
      unit = last == 'k' ? 1L << 10 : last == 'm' ? 1L << 20 : 1L << 30;
      digits = digits.substring(0, digits.length() - 1);
    }
    double value;
    try {
      value = Double.parseDouble(digits) * unit;
    } catch (NumberFormatException e) {
      throw invalid(key, text, "bytes per second such as 65536, 64k, 128m or 1g");
    }
    if (!(value > 0) || Double.isInfinite(value)) {
      throw invalid(key, text, "a positive number of bytes per second");
    }
    return value;
  }

  private IllegalArgumentException invalid(String key, String text, String expected) {
    return new IllegalArgumentException(
        "workload " + workload + ": option " + key + "=" + text + " is not " + expected);
  }
}
