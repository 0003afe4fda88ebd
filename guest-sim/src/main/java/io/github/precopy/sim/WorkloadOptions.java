package io.github.precopy.sim;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named parameters of a built-in workload, e.g. {@code dirty-rate=128m,touched=60%}; an absent key
 * takes the workload's default. {@link Workloads} documents the keys, their defaults and value
 * formats; a key a workload does not know is rejected when the workload is created.
 *
 * <p>Immutable and thread-safe.
 */
public final class WorkloadOptions {

  private static final WorkloadOptions DEFAULTS = new WorkloadOptions(Map.of());

  private final Map<String, String> values;

  private WorkloadOptions(Map<String, String> values) {
    this.values = values;
  }

  /** No options: every workload parameter takes its default. */
  public static WorkloadOptions defaults() {
    return DEFAULTS;
  }

  /**
   * Parses {@code key=value} pairs separated by commas; blank input means {@link #defaults()}.
   *
   * @throws IllegalArgumentException if a pair has no {@code =}, an empty key, or a repeated key
   */
  public static WorkloadOptions parse(String spec) {
    WorkloadOptions options = DEFAULTS;
    if (spec == null || spec.isBlank()) {
      return options;
    }
    for (String pair : spec.split(",")) {
      int eq = pair.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException(
            "workload option '" + pair.trim() + "' is not of the form key=value");
      }
      String key = pair.substring(0, eq).trim();
      if (options.values.containsKey(key)) {
        throw new IllegalArgumentException("workload option '" + key + "' is given twice");
      }
      options = options.with(key, pair.substring(eq + 1).trim());
    }
    return options;
  }

  /** These options with {@code key} set to {@code value}, replacing any earlier value. */
  public WorkloadOptions with(String key, String value) {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("workload option key must not be empty");
    }
    if (value == null) {
      throw new IllegalArgumentException("workload option '" + key + "' has no value");
    }
    Map<String, String> copy = new LinkedHashMap<>(values);
    copy.put(key, value);
    return new WorkloadOptions(Collections.unmodifiableMap(copy));
  }

  /** The options given, by key, in the order they were given. */
  public Map<String, String> values() {
    return values;
  }

  @Override
  public String toString() {
    StringBuilder text = new StringBuilder();
    values.forEach(
        (key, value) ->
            text.append(text.length() == 0 ? "" : ",").append(key).append('=').append(value));
    return text.toString();
  }
}
