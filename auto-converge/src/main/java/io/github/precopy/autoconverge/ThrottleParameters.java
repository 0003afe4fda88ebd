package io.github.precopy.autoconverge;

import java.util.Map;

/**
 * The parameters of auto-converge, named and bounded as QEMU's {@code migrate-set-parameters}.
 *
 * @param triggerThreshold {@code throttle-trigger-threshold}: percent of the bytes transferred in a
 *     period that the bytes dirtied must exceed (1 to 100, default 50)
 * @param initial {@code cpu-throttle-initial}: the first throttle, percent (1 to 99, default 20)
 * @param increment {@code cpu-throttle-increment}: the step, percent (1 to 99, default 10)
 * @param tailslow {@code cpu-throttle-tailslow}: step no further than would bring the dirty rate to
 *     the threshold (default false)
 * @param max {@code max-cpu-throttle}: the most a step raises the throttle to (1 to 99, default 99)
 */
record ThrottleParameters(
    int triggerThreshold, int initial, int increment, boolean tailslow, int max) {

  static final String TRIGGER_THRESHOLD = "throttle-trigger-threshold";
  static final String INITIAL = "cpu-throttle-initial";
  static final String INCREMENT = "cpu-throttle-increment";
  static final String TAILSLOW = "cpu-throttle-tailslow";
  static final String MAX = "max-cpu-throttle";

  /** QEMU's defaults. */
  static final ThrottleParameters DEFAULTS = new ThrottleParameters(50, 20, 10, false, 99);

  ThrottleParameters {
    check(TRIGGER_THRESHOLD, triggerThreshold, 1, 100);
    check(INITIAL, initial, 1, 99);
    check(INCREMENT, increment, 1, 99);
    check(MAX, max, 1, 99);
  }

  /**
   * The parameters a migration's options set, QEMU's defaults for the others; options of other
   * capabilities are ignored.
   *
   * @throws IllegalArgumentException naming the parameter whose value is not a number in range
   */
  static ThrottleParameters from(Map<String, String> options) {
    return new ThrottleParameters(
        number(options, TRIGGER_THRESHOLD, DEFAULTS.triggerThreshold),
        number(options, INITIAL, DEFAULTS.initial),
        number(options, INCREMENT, DEFAULTS.increment),
        bool(options, TAILSLOW, DEFAULTS.tailslow),
        number(options, MAX, DEFAULTS.max));
  }

  private static int number(Map<String, String> options, String name, int fallback) {
    String value = options.get(name);
    if (value == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " '" + value + "' is not a whole number", e);
    }
  }

  private static boolean bool(Map<String, String> options, String name, boolean fallback) {
    String value = options.get(name);
    if (value == null) {
      return fallback;
    }
    return switch (value.trim()) {
      case "true", "on" -> true;
      case "false", "off" -> false;
      default ->
          throw new IllegalArgumentException(
              name + " '" + value + "' is not true, false, on or off");
    };
  }

  private static void check(String name, int value, int low, int high) {
    if (value < low || value > high) {
      throw new IllegalArgumentException(name + " " + value + " is not " + low + " to " + high);
    }
  }
}
